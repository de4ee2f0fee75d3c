"""The audit trail's hash chain: one implementation for every writer (store, console, reports).

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

from sqlalchemy import select, text
from sqlalchemy.orm import Session

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


def _lock_chain(session: Session) -> None:
    """Serialise appends so two writers never chain onto the same previous entry.

    PostgreSQL: a transaction-scoped advisory lock, taken before anything is read. SQLite:
    ``append_audit`` inserts its row before reading the previous one, so it already holds the
    database's single write lock (until commit) when it reads.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})


def append_audit(
    session: Session,
    actor: str,
    action: str,
    target: str,
    details: dict[str, Any] | None = None,
    *,
    platform_id: str | None = None,
    at: datetime | None = None,
) -> AuditRow:
    """Append one entry to the chain in the caller's transaction (the caller commits)."""
    _lock_chain(session)
    when = at or datetime.now(UTC)
    clean = json.loads(canonical_json(details or {}))  # what the JSON column will give back
    row = AuditRow(
        at=when,
        platform_id=platform_id,
        actor=actor,
        action=action,
        target=target,
        details=clean,
        prev_hash="",
        hash="",
    )
    session.add(row)
    session.flush()  # the insert takes the write lock (SQLite) and gives the row its place
    stmt = select(AuditRow.hash).where(AuditRow.id < row.id).order_by(AuditRow.id.desc())
    row.prev_hash = session.scalars(stmt.limit(1)).first() or GENESIS
    row.hash = entry_hash(
        row.prev_hash,
        at=when,
        platform_id=platform_id,
        actor=actor,
        action=action,
        target=target,
        details=clean,
    )
    session.flush()
    return row


def verify_chain(session: Session) -> BrokenEntry | None:
    """Walk the chain in id order; the first entry that does not hold, or None when intact."""
    prev = GENESIS
    rows = session.execute(select(AuditRow).order_by(AuditRow.id).execution_options(yield_per=1000))
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
