"""The audit trail's hash chain: one implementation for every writer (store, console, reports).

Every append goes through :func:`append_entry`, on statements compiled once per dialect and run
on the driver's cursor (``prepared.py``): the pipeline's unit calls it with its own cursor, and
:func:`append_audit` with one on an ORM session's connection. One code path means one lock
discipline and one hashing of what the database gives back, so entries from both kinds of
writer interleave in a single chain.

Each entry's ``hash`` is SHA-256 over the previous entry's hash followed by the canonical JSON
of the entry (sorted keys, no spaces, UTC times with microseconds). Editing, deleting or
reordering an entry therefore breaks the chain at that entry or the next one. Truncating the
tail is not detectable from the table alone: anchor the last hash elsewhere (the transparency
export prints it) if that matters.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Dialect, Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from vigie.store.prepared import Prepared, Runner, prepare
from vigie.store.scope import UNSCOPED
from vigie.store.tables import AuditRow

GENESIS = "0" * 64
# PostgreSQL advisory lock that serialises appends to the chain (any writer, any process).
CHAIN_LOCK = 7457124


@dataclass(slots=True, frozen=True)
class BrokenEntry:
    """The first audit entry whose chain does not hold, and why."""

    id: int
    reason: str

    def __str__(self) -> str:
        return f"audit entry {self.id}: {self.reason}"


def case_target(case_id: str) -> str:
    """The one form of an audit target naming a case, ``case:<id>``, as the console writes it.

    Why one form: the package of a case lists what was done to it by selecting its entries;
    entries written under the bare id by earlier versions are still read (``case_targets``)."""
    return f"case:{case_id}"


def case_targets(case_id: str) -> tuple[str, str]:
    """Both forms a case's entries may carry: ``case:<id>`` and, from older versions, ``<id>``."""
    return case_target(case_id), case_id


def utc_iso(value: datetime) -> str:
    """One spelling of a time whatever the database gives back (SQLite drops the zone)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(
    prev_hash: str,
    *,
    at: datetime,
    platform_id: str | None,
    actor: str,
    action: str,
    target: str,
    details: dict[str, Any],
) -> str:
    body = {
        "at": utc_iso(at),
        "platform_id": platform_id,
        "actor": actor,
        "action": action,
        "target": target,
        "details": details,
    }
    return hashlib.sha256((prev_hash + canonical_json(body)).encode("utf-8")).hexdigest()


@dataclass(slots=True, frozen=True)
class AuditEntry:
    """What an append gives back: the new entry's place in the chain."""

    id: int
    prev_hash: str
    hash: str


@dataclass(slots=True, frozen=True)
class ChainStatements:
    """The four statements of an append, compiled for one dialect."""

    lock: Prepared | None  # PostgreSQL only: SQLite's insert already takes its one write lock
    add: Prepared
    before: Prepared
    seal: Prepared


_AUDIT: Table = AuditRow.__table__  # type: ignore[assignment]
_KEYS = ("at", "platform_id", "actor", "action", "target", "details", "prev_hash", "hash")
_COMPILED: dict[tuple[str, str], ChainStatements] = {}


def chain_statements(dialect: Dialect) -> ChainStatements:
    """The append's statements for ``dialect``, compiled on first use (compiling costs more
    than running them, and cases open on the hot path)."""
    key = (dialect.name, dialect.driver)
    found = _COMPILED.get(key)
    if found is None:
        found = _COMPILED[key] = _compile(dialect)
    return found


def _compile(dialect: Dialect) -> ChainStatements:
    lock = select(func.pg_advisory_xact_lock(bindparam("key")))
    before = select(_AUDIT.c.hash).where(_AUDIT.c.id < bindparam("id"))
    seal = update(_AUDIT).where(_AUDIT.c.id == bindparam("k_id"))
    return ChainStatements(
        lock=prepare(lock, dialect) if dialect.name == "postgresql" else None,
        add=prepare(insert(_AUDIT).returning(_AUDIT.c.id), dialect, _KEYS),
        before=prepare(before.order_by(_AUDIT.c.id.desc()).limit(1), dialect),
        seal=prepare(
            seal.values(prev_hash=bindparam("prev_hash"), hash=bindparam("hash")), dialect
        ),
    )


def append_entry(
    raw: Runner,
    dialect: Dialect,
    actor: str,
    action: str,
    target: str,
    details: dict[str, Any] | None = None,
    *,
    platform_id: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Append one entry in the transaction ``raw``'s connection is in (the caller commits).

    The only writer of the chain. The row is inserted before the previous hash is read, so it
    holds its place (and, on SQLite, the database's single write lock) first; PostgreSQL
    takes a transaction-scoped advisory lock before anything. Either way two writers never
    chain onto the same previous entry. The hash covers the details as the JSON column gives
    them back, so that :func:`verify_chain` recomputes the same one."""
    sql = chain_statements(dialect)
    if sql.lock is not None:
        raw.execute(sql.lock, {"key": CHAIN_LOCK})
    clean = json.loads(canonical_json(details or {}))
    entry = {"at": at or datetime.now(UTC), "platform_id": platform_id, "actor": actor,
             "action": action, "target": target, "details": clean}  # fmt: skip
    inserted = raw.first(sql.add, {**entry, "prev_hash": "", "hash": ""})
    assert inserted is not None  # RETURNING gives the new row's id
    before = raw.first(sql.before, {"id": inserted[0]})
    prev = before[0] if before else GENESIS
    sealed = AuditEntry(inserted[0], prev, entry_hash(prev, **entry))
    raw.execute(sql.seal, {"k_id": sealed.id, "prev_hash": prev, "hash": sealed.hash})
    return sealed


def append_audit(
    session: Session,
    actor: str,
    action: str,
    target: str,
    details: dict[str, Any] | None = None,
    *,
    platform_id: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """:func:`append_entry` for code holding an ORM session (console, reports, commands).

    The session is flushed first, so that what it holds (an audit row added by hand, the
    change being audited) is written before the entry that follows it."""
    session.flush()
    conn = session.connection()
    raw = Runner(conn.connection.driver_connection)
    try:
        return append_entry(
            raw, conn.dialect, actor, action, target, details, platform_id=platform_id, at=at
        )
    finally:
        raw.close()


def verify_chain(session: Session) -> BrokenEntry | None:
    """Walk the chain in id order; the first entry that does not hold, or None when intact."""
    prev = GENESIS
    stmt = select(AuditRow).order_by(AuditRow.id)
    rows = session.execute(stmt.execution_options(yield_per=1000, **{UNSCOPED: True}))
    for (row,) in rows:
        if row.prev_hash != prev:
            return BrokenEntry(row.id, "prev_hash does not match the previous entry")
        expected = entry_hash(
            prev,
            at=row.at,
            platform_id=row.platform_id,
            actor=row.actor,
            action=row.action,
            target=row.target,
            details=row.details or {},
        )
        if row.hash != expected:
            return BrokenEntry(row.id, "content does not match its hash")
        prev = row.hash
    return None
