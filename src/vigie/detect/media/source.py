"""The port through which the media matcher reads hash lists: what it needs, not how it is kept.

Detection knows no SQL: the store implements :class:`HashListSource` on its tables
(:class:`vigie.store.hashlists.SqlHashLists`) and the composition root (``vigie.runtime``)
hands one to the matcher. Tests and tools can hand it anything with these five methods.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

# pdq_index.MAX_DISTANCE, not imported: the store imports this module, and it should not load
# NumPy and the index kernels for it. The matcher caps every threshold at the real constant.
MAX_DISTANCE = 31


@dataclass(slots=True, frozen=True)
class ListInfo:
    """A hash list as matching needs it: its name and label for the signal, its threshold."""

    id: int
    name: str
    label: str
    source: str = ""
    threshold: int = MAX_DISTANCE
    action: str = "block"
    requires_report: bool = True


@dataclass(slots=True, frozen=True)
class EntryView:
    """One live entry as the matcher needs it."""

    id: int
    list_id: int
    hash_type: str
    value: str
    quality: int


# (change id, "add" or "remove", the entry it concerns)
Change = tuple[int, str, EntryView]


class HashListSource(Protocol):
    """Lists, their live entries, and a change log with increasing ids to poll."""

    def ready(self) -> bool:
        """False while there is nothing to read yet (no list tables): match nothing."""
        ...

    def last_change_id(self) -> int: ...

    def lists(self) -> list[ListInfo]: ...

    def live_entries(self) -> Iterator[EntryView]:
        """Every live entry, streamed: lists can hold millions."""
        ...

    def changes_since(self, change_id: int) -> list[Change]:
        """The changes after ``change_id``, oldest first."""
        ...
