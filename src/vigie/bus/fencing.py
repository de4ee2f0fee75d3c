"""Fencing: a batch commits only while its worker still owns the partition.

And which errors are the database's fault (retry the batch as it is) rather than the event's.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from vigie.bus.ownership import Ownership
from vigie.store.sql import SqlStore, SqlUnit

# The hot path runs its statements on the driver's cursor (``store/prepared.py``), so the
# driver's own errors arrive unwrapped by SQLAlchemy: a deadlock, a dropped connection or a
# locked SQLite file read the same either way.
TRANSIENT = (
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    sqlite3.OperationalError,
)


class LostPartition(Exception):
    """This worker no longer owns the partition: roll back, let the new owner redo it."""


def transient(exc: BaseException) -> bool:
    """Errors that say nothing about the event: the database or the network is at fault."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, TRANSIENT)


class FencedStore:
    """The pipeline's store, with an ownership check just before each batch commits."""

    def __init__(self, store: SqlStore, ownership: Ownership) -> None:
        self.store = store
        self.ownership = ownership
        self._local = threading.local()
        self.engine = store.engine

    @contextlib.contextmanager
    def guarding(self, partition: int) -> Iterator[None]:
        self._local.partition = partition
        try:
            yield
        finally:
            self._local.partition = None

    @contextlib.contextmanager
    def unit(self) -> Iterator[SqlUnit]:
        with self.store.unit() as unit:
            deferred = _DeferredAudit(unit)
            yield deferred  # type: ignore[misc]
            unit.flush()  # the rows held back (write_behind.py) go before ownership is checked
            partition = getattr(self._local, "partition", None)
            if partition is not None and not self.ownership.still_owns(unit.raw.cursor, partition):
                raise LostPartition(partition)
            deferred.flush()

    def read(self) -> contextlib.AbstractContextManager[SqlUnit]:
        return self.store.read()

    def write_turn(self) -> contextlib.AbstractAsyncContextManager[None]:
        return self.store.write_turn()

    def dispose(self) -> None:
        self.store.dispose()


class _DeferredAudit:
    """A unit whose audit entries are appended just before commit, not when asked.

    Appending to the hash-chained audit trail takes a database-wide lock (one chain) that is
    held until the transaction ends. Taken in the middle of a batch, it would be held while
    the detectors run on the rest of the batch, and every other worker's batch that opens a
    case would wait for it: the workers would take turns instead of working side by side.
    Appended at the end, the lock is held for milliseconds. Same entries, same order.
    """

    def __init__(self, unit: SqlUnit) -> None:
        self._unit = unit
        self._entries: list[tuple[Any, ...]] = []

    def audit(
        self,
        actor: str,
        action: str,
        target: str,
        details: dict[str, Any] | None = None,
        platform_id: str | None = None,
    ) -> None:
        self._entries.append((actor, action, target, details, platform_id))

    def flush(self) -> None:
        for actor, action, target, details, platform_id in self._entries:
            self._unit.audit(actor, action, target, details, platform_id)
        self._entries.clear()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._unit, name)
