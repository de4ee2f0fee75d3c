"""Preservation and retention: legal holds on confirmed cases, purge of everything else.

A confirmed case (reported, report pending or actioned) puts its evidence under legal hold for
``RetentionSettings.legal_hold_days`` (default 365, the preservation period of 18 U.S.C.
§ 2258A(h) as amended by the REPORT Act). Everything not under an active hold is deleted once
older than ``retention_days``. The purge decides "held" inside each DELETE (NOT EXISTS on the
active holds), so a hold placed a moment before can never lose evidence. Both are audited.

Held evidence of a case: the case row, its signals and decisions, every message and media of
its conversation, the messages and media its signals point at, user reports about its subject
in that conversation. The audit trail itself is never purged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, exists, func, or_, select, tuple_
from sqlalchemy.orm import Session

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
    return case_id.in_(_held_ids(now))


def _held_conversation(
    platform_id: Any, conversation_id: Any, now: datetime
) -> ColumnElement[bool]:
    convs = select(CaseRow.platform_id, CaseRow.conversation_id).where(
        CaseRow.id.in_(_held_ids(now)), CaseRow.conversation_id.is_not(None)
    )
    return and_(conversation_id.is_not(None), tuple_(platform_id, conversation_id).in_(convs))


def _held_by_signal(column: Any, item_id: Any, now: datetime) -> ColumnElement[bool]:
    """Messages or media a held case's signals point at (wherever their conversation)."""
    ids = select(column).where(SignalRow.case_id.in_(_held_ids(now)), column.is_not(None))
    return item_id.in_(ids)


def _purge_conditions(cutoff: datetime, now: datetime) -> dict[str, tuple[Any, Any]]:
    """Table name → (table, condition of the rows to delete)."""
    msg_sig = _held_by_signal(SignalRow.message_id, MessageRow.id, now)
    media_sig = _held_by_signal(SignalRow.media_id, MediaRow.id, now)
    held_subject = exists().where(
        LegalHoldRow.case_id == CaseRow.id,
        _active(now),
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
                or_(SignalRow.case_id.is_(None), ~_held_case(SignalRow.case_id, now)),
            ),
        ),
        "decisions": (
            DecisionRow,
            and_(
                DecisionRow.at < cutoff,
                or_(DecisionRow.case_id.is_(None), ~_held_case(DecisionRow.case_id, now)),
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
) -> PurgeReport:
    """Delete what is older than ``retention_days`` and not held; audit the counts."""
    now = now or datetime.now(UTC)
    report = PurgeReport(cutoff=now - timedelta(days=settings.retention_days), dry_run=dry_run)
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
