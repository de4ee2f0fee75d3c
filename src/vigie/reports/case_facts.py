"""The facts of one case, read from the core tables: the single read model every report uses.

All SQL of ``vigie.reports`` about a case lives here, so that the NCMEC report, the evidence
package and the DSA statement tell the same story. People appear only by pseudonym.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from vigie.domain.categories import CATEGORIES, Category
from vigie.pseudonym import unseal
from vigie.reports.audit import case_targets, utc_iso
from vigie.store.console_tables import CaseActionRow
from vigie.store.reports_tables import ApprovalRow, LegalHoldRow, ReportSubmissionRow
from vigie.store.tables import (
    AccountRow,
    AuditRow,
    CaseRow,
    ConversationRow,
    DecisionRow,
    MediaRow,
    MessageRow,
    PlatformRow,
    SignalRow,
    UserReportRow,
)


class CaseNotFound(LookupError):
    pass


@dataclass(slots=True)
class Party:
    pseudo_id: str
    role: str  # "subject" (the person the case is about), "recipient" or "participant"
    age: int | None
    age_source: str
    account_created: str | None


@dataclass(slots=True)
class MessageFact:
    id: int
    at: str
    sender: str
    recipients: list[str]
    text: str
    event_id: str | None


@dataclass(slots=True)
class MediaFact:
    id: int
    at: str
    sender: str
    recipients: list[str]
    hashes: dict[str, str]
    event_id: str | None


@dataclass(slots=True)
class Indicator:
    at: str
    detector: str
    category: str
    meaning: str
    score: float
    explanation: str
    message_id: int | None
    media_id: int | None
    model: str | None
    # Recorded before the case existed (the same person in the same conversation): linked
    # here so the package and NCMEC's incident time start at the first warning sign.
    before_case: bool = False


@dataclass(slots=True)
class ActionFact:
    id: int
    at: str
    decision: str
    actions: list[str]
    rules: list[str]
    event_id: str


@dataclass(slots=True)
class HumanDecision:
    """A decision a person took in the console (the console's ``case_actions`` table)."""

    at: str
    kind: str
    rule: str
    reason: str
    actor: str
    authority: str | None
    report_status: str | None
    reviewed_by: str | None
    reviewed_at: str | None
    overturned: bool


@dataclass(slots=True)
class ApprovalFact:
    """A referent's approval of a report (four eyes), with the content it was for."""

    at: str
    authority: str
    author: str
    approver: str
    content_sha256: str | None


@dataclass(slots=True)
class UserReportFact:
    at: str
    reporter: str
    subject: str
    reason: str


@dataclass(slots=True)
class ReportFact:
    """A report already made to an authority, or a legal hold: what OFMIN asks first."""

    kind: str  # "submission" or "legal_hold"
    at: str
    authority_or_reason: str
    reference: str | None
    until: str | None = None


@dataclass(slots=True)
class TimelineEntry:
    at: str
    kind: str
    summary: str


@dataclass(slots=True)
class CaseFacts:
    case_id: str
    platform_id: str
    platform_name: str
    subject: str
    conversation_id: str | None
    status: str
    priority: int
    risk: float
    categories: list[str]
    requires_report: bool
    opened_at: str
    updated_at: str
    parties: list[Party] = field(default_factory=list)
    messages: list[MessageFact] = field(default_factory=list)
    media: list[MediaFact] = field(default_factory=list)
    indicators: list[Indicator] = field(default_factory=list)
    actions: list[ActionFact] = field(default_factory=list)
    human_decisions: list[HumanDecision] = field(default_factory=list)
    approvals: list[ApprovalFact] = field(default_factory=list)
    user_reports: list[UserReportFact] = field(default_factory=list)
    reports: list[ReportFact] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def party(self, pseudo_id: str) -> Party | None:
        return next((p for p in self.parties if p.pseudo_id == pseudo_id), None)


def _meaning(category: str) -> str:
    try:
        return CATEGORIES[Category(category)]
    except ValueError:
        return category


def load_case_facts(session: Session, case_id: str) -> CaseFacts:
    case = session.get(CaseRow, case_id)
    if case is None:
        raise CaseNotFound(f"no case {case_id!r}")
    platform = session.get(PlatformRow, case.platform_id)
    facts = CaseFacts(
        case_id=case.id,
        platform_id=case.platform_id,
        platform_name=platform.name if platform else case.platform_id,
        subject=case.subject,
        conversation_id=case.conversation_id,
        status=case.status,
        priority=case.priority,
        risk=round(case.risk, 4),
        categories=list(case.categories or []),
        requires_report=case.requires_report,
        opened_at=utc_iso(case.opened_at),
        updated_at=utc_iso(case.updated_at),
    )
    signals = _signals(session, case)
    facts.indicators = [_indicator(s) for s in signals]
    facts.messages = _messages(session, case, signals)
    facts.media = _media(session, case, signals)
    facts.actions = _actions(session, case)
    facts.human_decisions = _human_decisions(session, case)
    facts.approvals = _approvals(session, case)
    facts.user_reports = _user_reports(session, case)
    facts.parties = _parties(session, case, facts)
    facts.reports = _reports(session, case)
    facts.timeline = _timeline(facts)
    return facts


def _signals(session: Session, case: CaseRow) -> list[SignalRow]:
    """The case's signals, and the earlier ones about its subject in its conversation that
    no case took (recorded before the case opened, e.g. an age question at message 3)."""
    linked: ColumnElement[bool] = SignalRow.case_id == case.id
    if case.conversation_id:
        linked = or_(
            linked,
            and_(
                SignalRow.case_id.is_(None),
                SignalRow.platform_id == case.platform_id,
                SignalRow.conversation_id == case.conversation_id,
                SignalRow.subject == case.subject,
            ),
        )
    stmt = select(SignalRow).where(linked).order_by(SignalRow.at, SignalRow.id)
    return list(session.scalars(stmt))


def _indicator(s: SignalRow) -> Indicator:
    return Indicator(
        at=utc_iso(s.at),
        detector=s.detector,
        category=s.category,
        meaning=_meaning(s.category),
        score=round(s.score, 4),
        explanation=s.explanation,
        message_id=s.message_id,
        media_id=s.media_id,
        model=s.model,
        before_case=s.case_id is None,
    )


def _messages(session: Session, case: CaseRow, signals: list[SignalRow]) -> list[MessageFact]:
    ids = {s.message_id for s in signals if s.message_id is not None}
    where: list[ColumnElement[bool]] = [MessageRow.id.in_(ids)] if ids else []
    if case.conversation_id:
        where.append(MessageRow.conversation_id == case.conversation_id)
    if not where:
        return []
    stmt = (
        select(MessageRow)
        .where(MessageRow.platform_id == case.platform_id, or_(*where))
        .order_by(MessageRow.sent_at, MessageRow.id)
    )
    return [
        MessageFact(
            m.id, utc_iso(m.sent_at), m.sender, list(m.recipients or []), m.text, m.event_id
        )
        for m in session.scalars(stmt)
    ]


def _media(session: Session, case: CaseRow, signals: list[SignalRow]) -> list[MediaFact]:
    """Media by hashes only: the bytes are never read, even when a platform stored them."""
    ids = {s.media_id for s in signals if s.media_id is not None}
    where: list[ColumnElement[bool]] = [MediaRow.id.in_(ids)] if ids else []
    if case.conversation_id:
        where.append(MediaRow.conversation_id == case.conversation_id)
    if not where:
        return []
    stmt = (
        select(MediaRow)
        .where(MediaRow.platform_id == case.platform_id, or_(*where))
        .order_by(MediaRow.sent_at, MediaRow.id)
    )
    return [
        MediaFact(
            m.id,
            utc_iso(m.sent_at),
            m.sender,
            list(m.recipients or []),
            dict(m.hashes or {}),
            m.event_id,
        )
        for m in session.scalars(stmt)
    ]


def _actions(session: Session, case: CaseRow) -> list[ActionFact]:
    stmt = select(DecisionRow).where(DecisionRow.case_id == case.id).order_by(DecisionRow.at)
    return [
        ActionFact(
            d.id, utc_iso(d.at), d.kind, list(d.actions or []), list(d.rules or []), d.event_id
        )
        for d in session.scalars(stmt)
    ]


def _human_decisions(session: Session, case: CaseRow) -> list[HumanDecision]:
    stmt = (
        select(CaseActionRow)
        .where(CaseActionRow.case_id == case.id)
        .order_by(CaseActionRow.at, CaseActionRow.id)
    )
    return [
        HumanDecision(
            utc_iso(a.at),
            a.kind,
            a.rule,
            a.reason,
            a.actor,
            a.authority,
            a.report_status,
            a.reviewed_by,
            utc_iso(a.reviewed_at) if a.reviewed_at else None,
            bool(a.overturned),
        )
        for a in session.scalars(stmt)
    ]


def _approvals(session: Session, case: CaseRow) -> list[ApprovalFact]:
    stmt = select(ApprovalRow).where(ApprovalRow.case_id == case.id).order_by(ApprovalRow.at)
    return [
        ApprovalFact(utc_iso(a.at), a.authority, a.author, a.approver, a.content_sha256)
        for a in session.scalars(stmt)
    ]


def _user_reports(session: Session, case: CaseRow) -> list[UserReportFact]:
    stmt = select(UserReportRow).where(
        UserReportRow.platform_id == case.platform_id, UserReportRow.subject == case.subject
    )
    if case.conversation_id:
        stmt = stmt.where(
            or_(
                UserReportRow.conversation_id == case.conversation_id,
                UserReportRow.conversation_id.is_(None),
            )
        )
    return [
        UserReportFact(utc_iso(r.at), r.reporter, r.subject, r.reason)
        for r in session.scalars(stmt.order_by(UserReportRow.at))
    ]


def _parties(session: Session, case: CaseRow, facts: CaseFacts) -> list[Party]:
    order: list[str] = [case.subject]
    for m in facts.messages:
        order.extend([m.sender, *m.recipients])
    for md in facts.media:
        order.extend([md.sender, *md.recipients])
    recipients = {r for m in facts.messages if m.sender == case.subject for r in m.recipients}
    recipients |= {r for m in facts.media if m.sender == case.subject for r in m.recipients}
    parties = []
    for pid in dict.fromkeys(order):
        acc = session.get(AccountRow, (case.platform_id, pid))
        role = (
            "subject"
            if pid == case.subject
            else "recipient"
            if pid in recipients
            else ("participant")
        )
        parties.append(
            Party(
                pseudo_id=pid,
                role=role,
                age=acc.age if acc else None,
                age_source=acc.age_source if acc else "unknown",
                account_created=utc_iso(acc.created_at) if acc and acc.created_at else None,
            )
        )
    return parties


def _reports(session: Session, case: CaseRow) -> list[ReportFact]:
    subs = session.scalars(
        select(ReportSubmissionRow)
        .where(ReportSubmissionRow.case_id == case.id)
        .order_by(ReportSubmissionRow.at)
    )
    facts = [ReportFact("submission", utc_iso(r.at), r.authority, r.external_id) for r in subs]
    holds = session.scalars(
        select(LegalHoldRow).where(LegalHoldRow.case_id == case.id).order_by(LegalHoldRow.placed_at)
    )
    facts += [
        ReportFact("legal_hold", utc_iso(h.placed_at), h.reason, None, utc_iso(h.until))
        for h in holds
    ]
    return facts


def _timeline(facts: CaseFacts) -> list[TimelineEntry]:
    entries = [
        TimelineEntry(m.at, "message", f"{m.sender} → {', '.join(m.recipients)}: {m.text}")
        for m in facts.messages
    ]
    entries += [
        TimelineEntry(
            m.at,
            "media",
            f"{m.sender} sent media " + ", ".join(f"{k}={v}" for k, v in sorted(m.hashes.items())),
        )
        for m in facts.media
    ]
    entries += [
        TimelineEntry(i.at, "indicator", f"{i.category} ({i.detector}, {i.score}): {i.explanation}")
        for i in facts.indicators
    ]
    entries += [
        TimelineEntry(a.at, "action", f"{a.decision}: {', '.join(a.actions)}")
        for a in facts.actions
    ]
    entries += [
        TimelineEntry(d.at, "decision", f"{d.actor}: {d.kind} ({d.rule}) {d.reason}".strip())
        for d in facts.human_decisions
    ]
    entries += [
        TimelineEntry(r.at, "user_report", f"{r.reporter} reported {r.subject}: {r.reason}")
        for r in facts.user_reports
    ]
    entries += [
        TimelineEntry(r.at, r.kind, f"{r.authority_or_reason} {r.reference or ''}".strip())
        for r in facts.reports
    ]
    entries.append(TimelineEntry(facts.opened_at, "case", f"case opened ({facts.status} now)"))
    return sorted(entries, key=lambda e: e.at)


def audit_entries_for(session: Session, case_id: str) -> list[dict[str, Any]]:
    """What was done to a case by people (claims, evidence views, decisions, approvals) and by
    Vigie (exports, holds, reports), under either form of its audit target."""
    stmt = select(AuditRow).where(AuditRow.target.in_(case_targets(case_id))).order_by(AuditRow.id)
    return [
        {
            "id": r.id,
            "at": utc_iso(r.at),
            "actor": r.actor,
            "action": r.action,
            "details": r.details or {},
            "hash": r.hash,
        }
        for r in session.scalars(stmt)
    ]


def platform_ids(session: Session, facts: CaseFacts) -> dict[str, str]:
    """The platform's own ids of the case's accounts and conversation (pseudonym → id).

    Why here and not in CaseFacts: the ids are kept only sealed with the platform's secret
    and leave Vigie only towards someone who can act on them (NCMEC, a judicial requisition);
    the facts every export shares stay pseudonymous. Ids that cannot be opened are absent.
    """
    platform = session.get(PlatformRow, facts.platform_id)
    if platform is None:
        return {}
    ids: dict[str, str] = {}
    for party in facts.parties:
        acc = session.get(AccountRow, (facts.platform_id, party.pseudo_id))
        value = unseal(platform.pseudonym_secret, acc.external_ref if acc else None)
        if value:
            ids[party.pseudo_id] = value
    if facts.conversation_id:
        conv = session.get(ConversationRow, (facts.platform_id, facts.conversation_id))
        value = unseal(platform.pseudonym_secret, conv.external_ref if conv else None)
        if value:
            ids[facts.conversation_id] = value
    return ids


def parse_time(value: str) -> datetime:
    """The inverse of ``utc_iso`` for the fields above."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
