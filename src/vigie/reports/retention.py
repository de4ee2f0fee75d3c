"""Preservation and retention: legal holds on confirmed cases, purge of everything else.

A confirmed case (reported, report pending or actioned) puts its evidence under legal hold for
``RetentionSettings.legal_hold_days`` (default 365, the preservation period of 18 U.S.C.
§ 2258A(h) as amended by the REPORT Act). Everything not under an active hold is deleted once
older than ``retention_days``. The purge decides "held" inside each DELETE (NOT EXISTS on the
active holds), so a hold placed a moment before can never lose evidence. Both are audited.

Held evidence of a case: the case row, its signals and decisions, every message, medium and
signal of its conversation (linked to the case or not), the messages and media its signals
point at, user reports about its subject in that conversation. A case still open (not yet
reported, actioned or dismissed) keeps the same evidence without a hold: it is being worked on.
Evidence packages in the outbox (they hold chat text) are deleted with the rest once past
retention, unless their case is held or open. The audit trail itself is never purged.

Why ``secure_delete``: a deleted SQLite row stays readable in free pages until overwritten;
with ``PRAGMA secure_delete`` SQLite overwrites it at once (set on the purging connection, not
left to how SQLite was compiled). In WAL mode the log still holds older images of those pages:
``reclaim_space`` copies it back and truncates it. PostgreSQL keeps dead tuples until VACUUM:
``reclaim_space`` runs it on the purged tables after the purge is committed (docs/reports.md
says what remains).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    exists,
    func,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, aliased

from vigie.reports.audit import append_audit, case_target
from vigie.settings import RetentionSettings
from vigie.store.reports_tables import LegalHoldRow
from vigie.store.tables import (
    CaseRow,
    ConversationRow,
    DecisionRow,
    MediaRow,
    MessageRow,
    ParticipantStateRow,
    ProcessedEventRow,
    SignalRow,
    UserReportRow,
)

CONFIRMED_STATUSES = ("report_pending", "reported", "actioned")
CLOSED_STATUSES = ("reported", "actioned", "dismissed")
SYSTEM_ACTOR = "system:retention"


@dataclass(slots=True)
class PurgeReport:
    cutoff: datetime
    deleted: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


def _active(now: datetime) -> ColumnElement[bool]:
    return and_(LegalHoldRow.released_at.is_(None), LegalHoldRow.until > now)


def active_hold(session: Session, case_id: str, now: datetime) -> LegalHoldRow | None:
    stmt = (
        select(LegalHoldRow)
        .where(LegalHoldRow.case_id == case_id, _active(now))
        .order_by(LegalHoldRow.until.desc())
    )
    return session.scalars(stmt).first()


def place_hold(
    session: Session,
    case_id: str,
    *,
    actor: str,
    settings: RetentionSettings,
    reason: str = "case confirmed",
    days: int | None = None,
    now: datetime | None = None,
) -> LegalHoldRow:
    """Hold a case's evidence for ``days`` (default ``legal_hold_days``); only ever extends."""
    now = now or datetime.now(UTC)
    case = session.get(CaseRow, case_id)
    if case is None:
        raise LookupError(f"no case {case_id!r}")
    until = now + timedelta(days=days if days is not None else settings.legal_hold_days)
    current = active_hold(session, case_id, now)
    if current is not None and _aware(current.until) >= until:
        return current
    hold = LegalHoldRow(
        platform_id=case.platform_id,
        case_id=case_id,
        placed_by=actor,
        reason=reason,
        placed_at=now,
        until=until,
    )
    session.add(hold)
    append_audit(
        session,
        actor,
        "legal_hold.place",
        case_target(case_id),
        {"until": until.isoformat(), "reason": reason},
        platform_id=case.platform_id,
        at=now,
    )
    return hold


def release_hold(
    session: Session, case_id: str, *, actor: str, reason: str, now: datetime | None = None
) -> int:
    """End every active hold on a case early (for example when the authority says so)."""
    now = now or datetime.now(UTC)
    holds = list(
        session.scalars(select(LegalHoldRow).where(LegalHoldRow.case_id == case_id, _active(now)))
    )
    for hold in holds:
        hold.released_at, hold.released_by = now, actor
    if holds:
        append_audit(
            session,
            actor,
            "legal_hold.release",
            case_target(case_id),
            {"reason": reason},
            platform_id=holds[0].platform_id,
            at=now,
        )
    return len(holds)


def on_case_status(
    session: Session,
    case_id: str,
    status: str,
    *,
    actor: str,
    settings: RetentionSettings,
    now: datetime | None = None,
) -> LegalHoldRow | None:
    """Call when a person changes a case's status: confirming it places the hold at once
    (``hold_confirmed_cases`` in the daily run catches any path that forgot)."""
    if status not in CONFIRMED_STATUSES:
        return None
    return place_hold(session, case_id, actor=actor, settings=settings, now=now)


def hold_confirmed_cases(
    session: Session,
    settings: RetentionSettings,
    *,
    actor: str = SYSTEM_ACTOR,
    now: datetime | None = None,
) -> list[str]:
    """Place the default hold on every confirmed case that never had one."""
    now = now or datetime.now(UTC)
    never_held = ~exists().where(LegalHoldRow.case_id == CaseRow.id)
    stmt = select(CaseRow.id).where(CaseRow.status.in_(CONFIRMED_STATUSES), never_held)
    ids = list(session.scalars(stmt))
    for case_id in ids:
        place_hold(session, case_id, actor=actor, settings=settings, now=now)
    return ids


def _held_ids(now: datetime) -> Select[Any]:
    """Ids of the cases under an active hold: one uncorrelated subquery, evaluated once."""
    return select(LegalHoldRow.case_id).where(_active(now))


def _held_case(case_id: Any, now: datetime) -> ColumnElement[bool]:
    return cast(ColumnElement[bool], case_id.in_(_held_ids(now)))


def _kept_cases(now: datetime) -> Any:
    """The cases whose evidence is kept: under an active hold, or still open. An alias, so the
    subquery never correlates with a ``cases`` table around it."""
    case = aliased(CaseRow)
    kept = or_(case.id.in_(_held_ids(now)), case.status.not_in(CLOSED_STATUSES))
    return case, kept


def _kept_case(case_id: Any, now: datetime) -> ColumnElement[bool]:
    case, kept = _kept_cases(now)
    return cast(ColumnElement[bool], case_id.in_(select(case.id).where(kept)))


def _held_conversation(
    platform_id: Any, conversation_id: Any, now: datetime
) -> ColumnElement[bool]:
    case, kept = _kept_cases(now)
    convs = select(case.platform_id, case.conversation_id).where(
        kept, case.conversation_id.is_not(None)
    )
    return and_(conversation_id.is_not(None), tuple_(platform_id, conversation_id).in_(convs))


def _held_by_signal(column: Any, item_id: Any, now: datetime) -> ColumnElement[bool]:
    """Messages or media a kept case's signals point at (wherever their conversation)."""
    case, kept = _kept_cases(now)
    kept_ids = select(case.id).where(kept)
    ids = select(column).where(SignalRow.case_id.in_(kept_ids), column.is_not(None))
    return cast(ColumnElement[bool], item_id.in_(ids))


def _purge_conditions(cutoff: datetime, now: datetime) -> dict[str, tuple[Any, Any]]:
    """Table name → (table, condition of the rows to delete)."""
    msg_sig = _held_by_signal(SignalRow.message_id, MessageRow.id, now)
    media_sig = _held_by_signal(SignalRow.media_id, MediaRow.id, now)
    held_subject = exists().where(
        _kept_case(CaseRow.id, now),
        CaseRow.platform_id == UserReportRow.platform_id,
        CaseRow.subject == UserReportRow.subject,
        or_(
            CaseRow.conversation_id == UserReportRow.conversation_id,
            UserReportRow.conversation_id.is_(None),
        ),
    )
    return {
        "messages": (
            MessageRow,
            and_(
                MessageRow.sent_at < cutoff,
                ~msg_sig,
                ~_held_conversation(MessageRow.platform_id, MessageRow.conversation_id, now),
            ),
        ),
        "media": (
            MediaRow,
            and_(
                MediaRow.sent_at < cutoff,
                ~media_sig,
                ~_held_conversation(MediaRow.platform_id, MediaRow.conversation_id, now),
            ),
        ),
        "signals": (
            SignalRow,
            and_(
                SignalRow.at < cutoff,
                or_(SignalRow.case_id.is_(None), ~_kept_case(SignalRow.case_id, now)),
                ~_held_conversation(SignalRow.platform_id, SignalRow.conversation_id, now),
            ),
        ),
        "decisions": (
            DecisionRow,
            and_(
                DecisionRow.at < cutoff,
                or_(DecisionRow.case_id.is_(None), ~_kept_case(DecisionRow.case_id, now)),
            ),
        ),
        "user_reports": (UserReportRow, and_(UserReportRow.at < cutoff, ~held_subject)),
        "processed_events": (ProcessedEventRow, ProcessedEventRow.at < cutoff),
        "cases": (
            CaseRow,
            and_(
                CaseRow.updated_at < cutoff,
                CaseRow.status.in_(CLOSED_STATUSES),
                ~_held_case(CaseRow.id, now),
            ),
        ),
    }


def _stale_conversations(cutoff: datetime, now: datetime) -> ColumnElement[bool]:
    return and_(
        ConversationRow.last_at < cutoff,
        ~_held_conversation(ConversationRow.platform_id, ConversationRow.id, now),
    )


def purge_expired(
    session: Session,
    settings: RetentionSettings,
    *,
    actor: str = SYSTEM_ACTOR,
    now: datetime | None = None,
    dry_run: bool = False,
    outbox: Path | None = None,
) -> PurgeReport:
    """Delete what is older than ``retention_days`` and not kept; audit the counts.

    ``outbox``: the folder of evidence packages (``vigie retention run`` passes var/outbox)."""
    now = now or datetime.now(UTC)
    report = PurgeReport(cutoff=now - timedelta(days=settings.retention_days), dry_run=dry_run)
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA secure_delete = ON"))
    conditions = _purge_conditions(report.cutoff, now)
    stale = select(ConversationRow.platform_id, ConversationRow.id).where(
        _stale_conversations(report.cutoff, now)
    )
    stale_pairs = [(row[0], row[1]) for row in session.execute(stale)]
    for name, (table, condition) in conditions.items():
        count = session.scalar(select(func.count()).select_from(table).where(condition)) or 0
        report.deleted[name] = count
        if count and not dry_run:
            session.execute(
                delete(table).where(condition).execution_options(synchronize_session=False)
            )
    report.deleted["conversations"] = len(stale_pairs)
    if not dry_run:
        for platform_id, conv_id in stale_pairs:
            session.execute(
                delete(ParticipantStateRow).where(
                    ParticipantStateRow.platform_id == platform_id,
                    ParticipantStateRow.conversation_id == conv_id,
                )
            )
            session.execute(
                delete(ConversationRow).where(
                    ConversationRow.platform_id == platform_id, ConversationRow.id == conv_id
                )
            )
    if outbox is not None:
        report.deleted["evidence_packages"] = _purge_outbox(session, outbox, report, now)
    append_audit(
        session,
        actor,
        "retention.purge" if not dry_run else "retention.dry_run",
        "retention",
        {"cutoff": report.cutoff.isoformat(), "deleted": report.deleted},
        at=now,
    )
    return report


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _purge_outbox(session: Session, outbox: Path, report: PurgeReport, now: datetime) -> int:
    """Delete the packages generated before the cutoff whose case is neither held nor open.

    A folder without a readable ``manifest.json`` is not a package: it is left alone."""
    if not outbox.is_dir():
        return 0
    case, kept = _kept_cases(now)
    keep = set(session.scalars(select(case.id).where(kept)))
    count = 0
    for folder in sorted(p for p in outbox.iterdir() if p.is_dir()):
        manifest = _manifest(folder)
        if manifest is None or manifest.get("case") in keep:
            continue
        generated = _aware(datetime.fromisoformat(str(manifest.get("generated_at"))))
        if generated >= report.cutoff:
            continue
        count += 1
        if not report.dry_run:
            shutil.rmtree(folder)
    return count


def _manifest(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        datetime.fromisoformat(str(data.get("generated_at")))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


PURGED_TABLES = (
    "messages",
    "media",
    "signals",
    "decisions",
    "user_reports",
    "processed_events",
    "cases",
    "participant_states",
    "conversations",
)


class ReclaimBusy(RuntimeError):
    """The SQLite write-ahead log stayed in use: the purge holds, the log still has old pages."""


def reclaim_space(session: Session) -> list[str]:
    """After the purge is committed, make the deleted rows unreadable where they still lie.

    PostgreSQL: VACUUM the purged tables, so dead tuples become reusable space and leave the
    visibility of any later reader. SQLite: ``secure_delete`` zeroed the pages, but in WAL mode
    the log still holds older images of them (the text included) until it is copied back and
    cut to zero bytes. Returns what was reclaimed: the tables vacuumed, or the log."""
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    if engine.dialect.name == "sqlite":
        return _truncate_wal(engine)
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as conn:
        auto = conn.execution_options(isolation_level="AUTOCOMMIT")
        for table in PURGED_TABLES:
            auto.exec_driver_sql(f'VACUUM (ANALYZE) "{table}"')
    return list(PURGED_TABLES)


def _truncate_wal(engine: Engine) -> list[str]:
    """Copy the write-ahead log into the database and truncate it (waits for readers up to
    the busy timeout); raises ``ReclaimBusy`` when someone still held it."""
    with engine.connect() as conn:
        auto = conn.execution_options(isolation_level="AUTOCOMMIT")
        if str(auto.exec_driver_sql("PRAGMA journal_mode").scalar()).lower() != "wal":
            return []
        busy = auto.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()[0]
    if busy:
        raise ReclaimBusy("the SQLite write-ahead log is in use; run the retention again")
    return ["write-ahead log"]
