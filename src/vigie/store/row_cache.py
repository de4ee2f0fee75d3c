"""Rows the decider wrote itself, kept between its transactions so the next event skips reads.

Each message event reads its sender's and recipients' accounts, the sender's state in the
conversation, the sender's profile and the conversation's last messages, then writes the
state, the profile and the message. On SQLite the decider process is the one writer of those
rows almost all the time, so what it last wrote is what the next event would read: this cache
answers those reads from memory (five statements of about a dozen per event) while every
write still goes to the database as before.

It is only correct while no one else changes these rows behind it, so it checks that at the
start of every transaction, holding the store's write lock (every Vigie writer takes that lock,
so nothing commits while the check and the transaction run): SQLite's ``PRAGMA data_version``
changes when any other connection has committed. Then the whole cache is dropped, whatever the
other writer touched (the console lifting a restriction, the serve process deciding while the
decider restarts, a retention purge, a webhook delivery). A transaction that fails drops it
too, since what it wrote was rolled back.

Values are kept as the database would give them back: accounts as their row, states as their
JSON bytes, message times as SQLite returns them, so a caller that changes what it was given
never changes the cache.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import orjson

Key = TypeVar("Key")
Value = TypeVar("Value")

# Bounds, so a busy platform's cache stays near its active conversations (texts go up to
# 20,000 characters, profiles up to a thousand pseudonyms): about 80 MB at most in all.
MAX_ACCOUNTS = 20_000
MAX_STATE_BYTES = 32 << 20
MAX_PROFILE_BYTES = 16 << 20
MAX_TAIL_BYTES = 16 << 20
TAIL = 32  # last messages kept per conversation (the pipeline gives detectors twenty at most)
ENTRY_BYTES = 100  # a rough cost of an entry itself, beyond its text or JSON


class Lru(Generic[Key, Value]):
    """A mapping that forgets the least recently used entries once their weight (``weigh``:
    one per entry unless told) passes ``max_weight``."""

    def __init__(self, max_weight: int, weigh: Callable[[Value], int] | None = None) -> None:
        self.max_weight = max_weight
        self.weight = 0
        self.hits = 0
        self._weigh = weigh
        self._items: OrderedDict[Key, tuple[Value, int]] = OrderedDict()

    def get(self, key: Key) -> Value | None:
        found = self._items.get(key)
        if found is None:
            return None
        self.hits += 1
        self._items.move_to_end(key)
        return found[0]

    def peek(self, key: Key) -> Value | None:
        """The entry, without counting a hit or making it recent."""
        found = self._items.get(key)
        return None if found is None else found[0]

    def put(self, key: Key, value: Value) -> None:
        """Keep ``value`` (again, after it changed: it is weighed anew)."""
        weight = self._weigh(value) if self._weigh else 1
        old = self._items.get(key)
        self.weight += weight - (old[1] if old else 0)
        self._items[key] = (value, weight)
        self._items.move_to_end(key)
        while self.weight > self.max_weight and self._items:
            _, (_, dropped) = self._items.popitem(last=False)
            self.weight -= dropped

    def pop(self, key: Key) -> None:
        found = self._items.pop(key, None)
        if found is not None:
            self.weight -= found[1]

    def clear(self) -> None:
        self._items.clear()
        self.weight = 0

    def __len__(self) -> int:
        return len(self._items)


@dataclass(slots=True)
class Tail:
    """A conversation's last messages as ``(sender, text, sent_at)``, oldest first; ``whole``
    when they are all the messages it has."""

    rows: list[tuple[str, str, datetime | None]]
    whole: bool
    size: int = 0  # its weight, kept up to date as messages come and go

    def __post_init__(self) -> None:
        self.size = sum(_row_weight(row) for row in self.rows)

    def last(self, count: int) -> list[tuple[str, str, datetime | None]] | None:
        """The last ``count`` messages, or ``None`` when this tail does not reach that far."""
        if count > len(self.rows) and not self.whole:
            return None
        return self.rows[max(0, len(self.rows) - count) :]

    def append(self, row: tuple[str, str, datetime | None]) -> None:
        self.rows.append(row)
        self.size += _row_weight(row)
        if len(self.rows) > TAIL:
            self.size -= _row_weight(self.rows.pop(0))
            self.whole = False

    def weight(self) -> int:
        return self.size


def _row_weight(row: tuple[str, str, datetime | None]) -> int:
    return ENTRY_BYTES + len(row[1])


def _state_weight(kept: tuple[bytes, float, tuple[str, ...]]) -> int:
    return ENTRY_BYTES + len(kept[0])


def _profile_weight(kept: bytes) -> int:
    return ENTRY_BYTES + len(kept)


def freeze(value: Any) -> bytes:
    """A JSON value as the JSON column stores it (keys that are not strings become strings)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


class RowCache:
    """Accounts, per-conversation states, profiles and conversation tails last read or written
    by this writer."""

    def __init__(self) -> None:
        self.accounts: Lru[tuple[str, str], tuple[Any, ...]] = Lru(MAX_ACCOUNTS)
        self.states: Lru[tuple[str, str, str], tuple[bytes, float, tuple[str, ...]]] = Lru(
            MAX_STATE_BYTES, _state_weight
        )
        self.profiles: Lru[tuple[str, str], bytes] = Lru(MAX_PROFILE_BYTES, _profile_weight)
        self.tails: Lru[tuple[str, str], Tail] = Lru(MAX_TAIL_BYTES, Tail.weight)
        self._version: object = None
        self.drops = 0  # times another writer (or a failed transaction) emptied the cache

    def check(self, data_version: object) -> None:
        """Start of a transaction: forget everything if another connection has committed
        (``data_version``: the writer connection and its ``PRAGMA data_version``)."""
        if data_version != self._version:
            if self._version is not None:
                self.drop()
            self._version = data_version

    @property
    def hits(self) -> int:
        """Reads answered from memory."""
        return sum(k.hits for k in (self.accounts, self.states, self.profiles, self.tails))

    def drop(self) -> None:
        self.accounts.clear()
        self.states.clear()
        self.profiles.clear()
        self.tails.clear()
        self.drops += 1
