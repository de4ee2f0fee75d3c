"""Rows the decider wrote itself, kept between its transactions so the next event skips reads.

Each message event reads its sender's and recipients' accounts, the sender's state in the
conversation, the sender's profile and the conversation's last messages, then writes the
state, the profile and the message. On SQLite the
decider process is the one writer of those rows almost all the time, so what it last wrote is
what the next event would read: this cache answers those reads from memory (five statements
of about a dozen per event) while every write still goes to the database as before.

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
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import orjson

Key = TypeVar("Key")
Value = TypeVar("Value")

MAX_ROWS = 20_000  # per kind of row; a few kB each at most, so tens of MB in the worst case
TAIL = 32  # last messages kept per conversation (the pipeline gives detectors twenty at most)


class Lru(Generic[Key, Value]):
    """A bounded mapping that forgets the least recently used entry first."""

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._items: OrderedDict[Key, Value] = OrderedDict()

    def get(self, key: Key) -> Value | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: Key, value: Value) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        if len(self._items) > self.max_size:
            self._items.popitem(last=False)

    def pop(self, key: Key) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


@dataclass(slots=True)
class Tail:
    """A conversation's last messages as ``(sender, text, sent_at)``, oldest first; ``whole``
    when they are all the messages it has."""

    rows: list[tuple[str, str, datetime | None]]
    whole: bool

    def last(self, count: int) -> list[tuple[str, str, datetime | None]] | None:
        """The last ``count`` messages, or ``None`` when this tail does not reach that far."""
        if count > len(self.rows) and not self.whole:
            return None
        return self.rows[max(0, len(self.rows) - count) :]

    def append(self, row: tuple[str, str, datetime | None]) -> None:
        self.rows.append(row)
        if len(self.rows) > TAIL:
            del self.rows[0]
            self.whole = False


def freeze(value: Any) -> bytes:
    """A JSON value as the JSON column stores it (keys that are not strings become strings)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


class RowCache:
    """Accounts, per-conversation states and profiles last read or written by this writer."""

    def __init__(self, max_rows: int = MAX_ROWS) -> None:
        self.accounts: Lru[tuple[str, str], tuple[Any, ...]] = Lru(max_rows)
        self.states: Lru[tuple[str, str, str], tuple[bytes, float, tuple[str, ...]]] = Lru(max_rows)
        self.profiles: Lru[tuple[str, str], bytes] = Lru(max_rows)
        self.tails: Lru[tuple[str, str], Tail] = Lru(max_rows // 4)
        self._version: object = None
        self.hits = 0
        self.drops = 0  # times another writer (or a failed transaction) emptied the cache

    def check(self, data_version: object) -> None:
        """Start of a transaction: forget everything if another connection has committed
        (``data_version``: the writer connection and its ``PRAGMA data_version``)."""
        if data_version != self._version:
            if self._version is not None:
                self.drop()
            self._version = data_version

    def drop(self) -> None:
        self.accounts.clear()
        self.states.clear()
        self.profiles.clear()
        self.tails.clear()
        self.drops += 1
