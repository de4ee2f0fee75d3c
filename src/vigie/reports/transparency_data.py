"""What a transparency report counts, read once from the database for a period.

Why restrictions are read through their statements of reasons: Art. 15 figures and Art. 17
statements must tell the same story. A restriction is counted with the ground, restriction
types, source and automation its statement gave; when ``vigie dsa submit`` has not yet
recorded one, the same fields are derived by the same rules (``dsa.restriction_fields``).
Practice answers live in their own table (``practice_attempts``) and are never read here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from vigie.reports.dsa import CATEGORY_MINORS, make_puid, restriction_fields
from vigie.reports.dsa_client import CONSOLE_RESTRICTIONS, RESTRICTIVE, console_puid
from vigie.reports.dsa_template import ILLEGAL, SOLELY_AUTOMATED, TERMS, restriction_types
from vigie.store.console_tables import AppealRow, CaseActionRow
from vigie.store.reports_tables import ApprovalRow, ComplaintRow, DsaStatementRow
from vigie.store.tables import CaseRow, DecisionRow, MessageRow, SignalRow, UserReportRow

_S = TypeVar("_S", bound="Select[*tuple[Any, ...]]")
_T = TypeVar("_T")
CHUNK = 500
CONFIRMED = ("report_pending", "reported", "actioned")


@dataclass(slots=True)
class Period:
    start: datetime
    end: datetime  # exclusive
    # A transparency report is per service: one platform, or None for all of them together.
    platform_id: str | None = None

    @classmethod
    def from_dates(cls, first: date, last: date, platform_id: str | None = None) -> Period:
        """Whole days, ``last`` included, in UTC."""
        return cls(
            datetime.combine(first, time(), UTC),
            datetime.combine(last + timedelta(days=1), time(), UTC),
            platform_id,
        )

    def scope(self, stmt: _S, column: Any) -> _S:
        return stmt if self.platform_id is None else stmt.where(column == self.platform_id)


@dataclass(slots=True, frozen=True)
class Restriction:
    """One restriction of the period, as its statement of reasons describes it."""

    at: datetime
    platform_id: str
    case_id: str | None
    decision_id: int | None  # Vigie's own decision; None for an officer's measure
    event_id: str | None
    ground: str
    category: str
    types: tuple[str, ...]
    from_notice: bool
    automated_detection: bool
    solely_automated: bool
    detectors: frozenset[str]
    content_at: datetime | None


@dataclass(slots=True, frozen=True)
class Complaint:
    """An Art. 20 complaint with the ground of the decision it contests."""

    ground: str
    outcome: str | None
    received_at: datetime
    decided_at: datetime | None
    decision_id: int | None


@dataclass(slots=True, frozen=True)
class NoticeAction:
    """The first restriction on the reported account after a notice."""

    delay_s: float
    ground: str
    solely_automated: bool


@dataclass(slots=True)
class Data:
    restrictions: list[Restriction] = field(default_factory=list)
    reports: list[UserReportRow] = field(default_factory=list)
    notice_actions: list[NoticeAction | None] = field(default_factory=list)
    complaints: list[Complaint] = field(default_factory=list)
    cases: list[CaseRow] = field(default_factory=list)
    # Vigie's decision id -> "confirmed" or "reversed" once a person looked at it.
    reviews: dict[int, str] = field(default_factory=dict)


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _chunks(items: Sequence[_T]) -> Iterable[list[_T]]:
    for start in range(0, len(items), CHUNK):
        yield list(items[start : start + CHUNK])


def load(session: Session, p: Period) -> Data:
    d = Data()
    d.restrictions = _automated(session, p) + _officers(session, p)
    d.reports = list(
        session.scalars(
            p.scope(select(UserReportRow), UserReportRow.platform_id)
            .where(UserReportRow.at >= p.start, UserReportRow.at < p.end)
            .order_by(UserReportRow.at)
        )
    )
    d.notice_actions = [_first_action(session, r) for r in d.reports]
    d.complaints = _complaints(session, p)
    d.cases = list(
        session.scalars(
            p.scope(select(CaseRow), CaseRow.platform_id).where(
                CaseRow.opened_at >= p.start, CaseRow.opened_at < p.end
            )
        )
    )
    d.reviews = _reviews(session, d.restrictions)
    return d


def _statements(session: Session, puids: Sequence[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for part in _chunks(sorted(set(puids))):
        stmt = select(DsaStatementRow.puid, DsaStatementRow.payload).where(
            DsaStatementRow.puid.in_(part)
        )
        out.update({puid: dict(payload) for puid, payload in session.execute(stmt)})
    return out


def _approved(session: Session, case_ids: Iterable[str | None]) -> set[str]:
    """Cases a referent approved a report of: a person confirmed illegality (see dsa_client)."""
    ids = sorted({c for c in case_ids if c})
    found: set[str] = set()
    for part in _chunks(ids):
        found |= set(
            session.scalars(select(ApprovalRow.case_id).where(ApprovalRow.case_id.in_(part)))
        )
    return found


def _ground(statement: dict[str, Any] | None, case_id: str | None, approved: set[str]) -> str:
    if statement and statement.get("decision_ground") in (ILLEGAL, TERMS):
        return str(statement["decision_ground"])
    return ILLEGAL if case_id in approved else TERMS


def _signals(
    session: Session, decisions: list[DecisionRow]
) -> dict[tuple[str, str], list[SignalRow]]:
    events = {(x.platform_id, x.event_id) for x in decisions}
    found: dict[tuple[str, str], list[SignalRow]] = defaultdict(list)
    for part in _chunks(sorted({e for _, e in events})):
        for s in session.scalars(select(SignalRow).where(SignalRow.event_id.in_(part))):
            if (s.platform_id, s.event_id) in events:
                found[(s.platform_id, s.event_id)].append(s)
    return found


def _sent_at(session: Session, signals: Iterable[SignalRow]) -> dict[int, datetime]:
    ids = sorted({s.message_id for s in signals if s.message_id})
    out: dict[int, datetime] = {}
    for part in _chunks(ids):
        stmt = select(MessageRow.id, MessageRow.sent_at).where(MessageRow.id.in_(part))
        out.update({i: aware(t) for i, t in session.execute(stmt)})
    return out


def _automated(session: Session, p: Period) -> list[Restriction]:
    """Vigie's own holds and blocks in the period."""
    decisions = list(
        session.scalars(
            p.scope(select(DecisionRow), DecisionRow.platform_id)
            .where(
                DecisionRow.kind.in_(RESTRICTIVE),
                DecisionRow.at >= p.start,
                DecisionRow.at < p.end,
            )
            .order_by(DecisionRow.at, DecisionRow.id)
        )
    )
    signals = _signals(session, decisions)
    sent = _sent_at(session, (s for group in signals.values() for s in group))
    statements = _statements(session, [make_puid(x.platform_id, x.id) for x in decisions])
    approved = _approved(session, (x.case_id for x in decisions))
    out = []
    for dec in decisions:
        sigs = signals.get((dec.platform_id, dec.event_id), [])
        st = statements.get(make_puid(dec.platform_id, dec.id))
        fields = st or restriction_fields(dec.kind, list(dec.actions or []))
        by_people = any(s.category == "user_report" for s in sigs)
        machine = {s.detector for s in sigs if s.category != "user_report"}
        out.append(
            Restriction(
                at=aware(dec.at),
                platform_id=dec.platform_id,
                case_id=dec.case_id,
                decision_id=dec.id,
                event_id=dec.event_id,
                ground=_ground(st, dec.case_id, approved),
                category=str((st or {}).get("category", CATEGORY_MINORS)),
                types=restriction_types(fields),
                from_notice=_source(st, by_people),
                automated_detection=_detected(st, bool(machine)),
                solely_automated=(st or {}).get("automated_decision", SOLELY_AUTOMATED)
                == SOLELY_AUTOMATED,
                detectors=frozenset(machine),
                content_at=min(
                    (sent[s.message_id] for s in sigs if s.message_id in sent), default=None
                ),
            )
        )
    return out


def _source(statement: dict[str, Any] | None, fallback: bool) -> bool:
    if statement and "source_type" in statement:
        return bool(statement["source_type"] != "SOURCE_VOLUNTARY")
    return fallback


def _detected(statement: dict[str, Any] | None, fallback: bool) -> bool:
    if statement and "automated_detection" in statement:
        return bool(statement["automated_detection"] == "Yes")
    return fallback


def _officers(session: Session, p: Period) -> list[Restriction]:
    """The console's restrictions (suspension, contact restriction): restrictions as much as
    Vigie's own, decided by a person."""
    actions = list(
        session.scalars(
            p.scope(select(CaseActionRow), CaseActionRow.platform_id)
            .where(
                CaseActionRow.kind.in_(list(CONSOLE_RESTRICTIONS)),
                CaseActionRow.at >= p.start,
                CaseActionRow.at < p.end,
            )
            .order_by(CaseActionRow.at, CaseActionRow.id)
        )
    )
    statements = _statements(session, [console_puid(a) for a in actions])
    approved = _approved(session, (a.case_id for a in actions))
    return [_officer(session, a, statements.get(console_puid(a)), approved) for a in actions]


def _officer(
    session: Session, action: CaseActionRow, st: dict[str, Any] | None, approved: set[str]
) -> Restriction:
    signals = list(session.scalars(select(SignalRow).where(SignalRow.case_id == action.case_id)))
    reported = session.scalars(
        select(UserReportRow.id).where(
            UserReportRow.platform_id == action.platform_id,
            UserReportRow.subject == action.subject,
            UserReportRow.at <= action.at,
        )
    ).first()
    machine = {s.detector for s in signals if s.category != "user_report"}
    return Restriction(
        at=aware(action.at),
        platform_id=action.platform_id,
        case_id=action.case_id,
        decision_id=None,
        event_id=None,
        ground=_ground(st, action.case_id, approved),
        category=str((st or {}).get("category", CATEGORY_MINORS)),
        types=restriction_types(
            st or restriction_fields(action.kind, [], CONSOLE_RESTRICTIONS[action.kind])
        ),
        from_notice=_source(st, reported is not None),
        automated_detection=_detected(st, bool(machine)),
        solely_automated=False,
        detectors=frozenset(machine),
        content_at=None,
    )


def _first_action(session: Session, report: UserReportRow) -> NoticeAction | None:
    """The first restriction on the reported account at or after the notice, whoever took it."""
    dec = session.scalars(
        select(DecisionRow)
        .where(
            DecisionRow.platform_id == report.platform_id,
            DecisionRow.subject == report.subject,
            DecisionRow.kind.in_(RESTRICTIVE),
            DecisionRow.at >= report.at,
        )
        .order_by(DecisionRow.at, DecisionRow.id)
        .limit(1)
    ).first()
    act = session.scalars(
        select(CaseActionRow)
        .where(
            CaseActionRow.platform_id == report.platform_id,
            CaseActionRow.subject == report.subject,
            CaseActionRow.kind.in_(list(CONSOLE_RESTRICTIONS)),
            CaseActionRow.at >= report.at,
        )
        .order_by(CaseActionRow.at, CaseActionRow.id)
        .limit(1)
    ).first()
    if dec is not None and (act is None or aware(dec.at) <= aware(act.at)):
        return _notice_action(
            session, report, dec.at, make_puid(dec.platform_id, dec.id), dec.case_id, True
        )
    if act is not None:
        return _notice_action(session, report, act.at, console_puid(act), act.case_id, False)
    return None


def _notice_action(
    session: Session,
    report: UserReportRow,
    at: datetime,
    puid: str,
    case_id: str | None,
    automated: bool,
) -> NoticeAction:
    row = session.get(DsaStatementRow, puid)
    ground = _ground(row.payload if row else None, case_id, _approved(session, [case_id]))
    return NoticeAction((aware(at) - aware(report.at)).total_seconds(), ground, automated)


def _complaints(session: Session, p: Period) -> list[Complaint]:
    rows = list(
        session.scalars(
            p.scope(select(ComplaintRow), ComplaintRow.platform_id).where(
                ComplaintRow.received_at >= p.start, ComplaintRow.received_at < p.end
            )
        )
    )
    return [_complaint(session, c) for c in rows]


def _complaint(session: Session, c: ComplaintRow) -> Complaint:
    """The ground of the contested decision: Vigie's own, or the officer's measure appealed."""
    puid: str | None = make_puid(c.platform_id, c.decision_id) if c.decision_id else None
    if puid is None:
        appeal = session.scalars(select(AppealRow).where(AppealRow.complaint_id == c.id)).first()
        action = session.get(CaseActionRow, appeal.action_id) if appeal else None
        puid = console_puid(action) if action else None
    row = session.get(DsaStatementRow, puid) if puid else None
    ground = _ground(row.payload if row else None, c.case_id, _approved(session, [c.case_id]))
    return Complaint(
        ground,
        c.outcome,
        aware(c.received_at),
        aware(c.decided_at) if c.decided_at else None,
        c.decision_id,
    )


def _reviews(session: Session, restrictions: list[Restriction]) -> dict[int, str]:
    """What a person made of Vigie's decisions: a held message released is a reversal, kept a
    confirmation; otherwise the case's end (confirmed, or dismissed: reversed)."""
    own = [r for r in restrictions if r.decision_id is not None]
    held = _held_outcomes(session, sorted({r.event_id for r in own if r.event_id}))
    status: dict[str, str] = {}
    for part in _chunks(sorted({r.case_id for r in own if r.case_id})):
        stmt = select(CaseRow.id, CaseRow.status).where(CaseRow.id.in_(part))
        status.update({cid: st for cid, st in session.execute(stmt)})
    out: dict[int, str] = {}
    for r in own:
        held_verdict = held.get((r.platform_id, r.event_id or ""))
        verdict = held_verdict or _case_verdict(status.get(r.case_id or ""))
        if verdict and r.decision_id is not None:
            out[r.decision_id] = verdict
    return out


def _held_outcomes(session: Session, event_ids: list[str]) -> dict[tuple[str, str], str]:
    """(platform, event) -> what an officer did with the held message: released or kept."""
    held: dict[tuple[str, str], str] = {}
    for part in _chunks(event_ids):
        stmt = select(CaseActionRow.platform_id, CaseActionRow.event_id, CaseActionRow.kind).where(
            CaseActionRow.kind.in_(("release_held", "keep_held")),
            CaseActionRow.event_id.in_(part),
        )
        for platform_id, event_id, kind in session.execute(stmt):
            verdict = "reversed" if kind == "release_held" else "confirmed"
            held[(platform_id, event_id or "")] = verdict
    return held


def _case_verdict(status: str | None) -> str | None:
    if status in CONFIRMED:
        return "confirmed"
    return "reversed" if status == "dismissed" else None
