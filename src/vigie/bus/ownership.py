"""Which worker consumes which partition: PostgreSQL advisory locks, no coordinator to run.

Each worker holds, on one dedicated connection, a *member* lock (so others can count the
workers alive) and one lock per partition it consumes. Every few seconds it aims for
``ceil(partitions / workers)`` partitions: it takes free ones and lets go of extra ones. When a
worker dies its connection closes and PostgreSQL frees its locks, so the others pick its
partitions up. Before committing a batch the worker checks, inside the same transaction, that
it still holds the partition (:meth:`PgOwnership.still_owns`): a worker that lost its lock
(connection dropped, paused for too long) rolls back instead of racing the new owner.

SQLite has no such locks: :class:`SoloOwnership` takes every partition (one worker only).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import secrets
from typing import Any, Protocol

import psycopg
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)
MEMBER_BASE = 1 << 20  # partition locks use objid < MEMBER_BASE, member locks above it

_THIS_DB = "database = (SELECT oid FROM pg_database WHERE datname = current_database())"
_HOLDERS = (
    "SELECT objid::bigint, pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND objsubid = 2 AND classid::bigint = %(space)s AND " + _THIS_DB
)
_HOLDS = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
    " AND objsubid = 2 AND classid::bigint = %(space)s AND objid::bigint = %(key)s"
    " AND pid = %(pid)s AND " + _THIS_DB
)


class Ownership(Protocol):
    def rebalance(self) -> tuple[set[int], set[int]]: ...
    def release(self, partition: int) -> None: ...
    def still_owns(self, cursor: Any, partition: int) -> bool: ...
    def close(self) -> None: ...


def lock_space(stream: str) -> int:
    """A stable 31-bit key per stream, so two deployments on one database never collide."""
    return int.from_bytes(hashlib.blake2b(stream.encode(), digest_size=4).digest()) & 0x7FFFFFFF


class SoloOwnership:
    """Every partition, always (SQLite, or a single worker by choice)."""

    def __init__(self, partitions: int) -> None:
        self.partitions = partitions

    def rebalance(self) -> tuple[set[int], set[int]]:
        return set(range(self.partitions)), set()

    def release(self, partition: int) -> None:
        return None

    def still_owns(self, cursor: Any, partition: int) -> bool:
        return True

    def close(self) -> None:
        return None


class PgOwnership:
    def __init__(self, database_url: str, stream: str, partitions: int) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self.space = lock_space(stream)
        self.partitions = partitions
        self.member = MEMBER_BASE + secrets.randbelow(1 << 30)
        self.owned: set[int] = set()
        self._conn: psycopg.Connection[Any] | None = None

    # Connection ----------------------------------------------------------------------------
    def _connection(self) -> psycopg.Connection[Any]:
        """The lock connection, re-opened (with all locks lost) when it has dropped."""
        if self._conn is not None:
            try:
                self._conn.execute("SELECT 1")
                return self._conn
            except psycopg.Error:
                log.warning(
                    "ownership connection lost; partitions released",
                    extra={"partitions": sorted(self.owned)},
                )
                self._drop()
        conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5)
        conn.execute("SELECT pg_advisory_lock(%s::int4, %s::int4)", (self.space, self.member))
        self._conn = conn
        return conn

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.close()
        self._conn = None
        self.owned.clear()

    @property
    def pid(self) -> int | None:
        return self._conn.info.backend_pid if self._conn is not None else None

    # Sharing -------------------------------------------------------------------------------
    def rebalance(self) -> tuple[set[int], set[int]]:
        """Returns (partitions owned now, partitions the worker should hand back)."""
        try:
            conn = self._connection()
            holders = conn.execute(_HOLDERS, {"space": self.space}).fetchall()
        except psycopg.Error as exc:
            log.warning("ownership check failed", extra={"error": type(exc).__name__})
            self._drop()
            return set(), set()
        members = {pid for key, pid in holders if key >= MEMBER_BASE}
        taken = {key for key, _ in holders if key < MEMBER_BASE}
        target = math.ceil(self.partitions / max(1, len(members)))
        if len(self.owned) > target:
            extra = sorted(self.owned)[target:]
            return set(self.owned), set(extra)
        for partition in self._candidates(taken):
            if len(self.owned) >= target:
                break
            got = conn.execute(
                "SELECT pg_try_advisory_lock(%s::int4, %s::int4)", (self.space, partition)
            ).fetchone()
            if got and got[0]:
                self.owned.add(partition)
        return set(self.owned), set()

    def _candidates(self, taken: set[int]) -> list[int]:
        """Free partitions, starting at an offset of our own so workers don't all race."""
        start = self.member % self.partitions
        order = [(start + i) % self.partitions for i in range(self.partitions)]
        return [p for p in order if p not in taken and p not in self.owned]

    def release(self, partition: int) -> None:
        if partition in self.owned and self._conn is not None:
            try:
                self._conn.execute(
                    "SELECT pg_advisory_unlock(%s::int4, %s::int4)", (self.space, partition)
                )
            except psycopg.Error:
                self._drop()
        self.owned.discard(partition)

    def still_owns(self, cursor: Any, partition: int) -> bool:
        """Asked inside the batch's own transaction, just before it commits, on its driver
        cursor (psycopg's): once per batch, through an ORM session it cost a session and
        SQLAlchemy's execution machinery, about a tenth of a millisecond of CPU per event."""
        pid = self.pid
        if pid is None:
            return False
        cursor.execute(_HOLDS, {"space": self.space, "key": partition, "pid": pid})
        found = cursor.fetchone()
        return bool(found and found[0])

    def close(self) -> None:
        self._drop()


def ownership_for(database_url: str, stream: str, partitions: int) -> Ownership:
    if make_url(database_url).get_backend_name() == "postgresql":
        return PgOwnership(database_url, stream, partitions)
    return SoloOwnership(partitions)
