"""Four-eyes approval of reports to authorities.

A report leaves Vigie only when someone other than its author, holding the ``referent`` role,
approved it. The console records approvals with ``record_approval``; every sender calls
``require_four_eyes`` right before sending, so no path skips it.

Why a recorded author: the four-eyes check compares the approver with the preparer recorded
on the draft (or on the console's case action), never with a name a caller types, so nobody
approves their own report by naming someone else as its author.

Why approvals expire (``reports.approval_valid_hours``, 72 hours by default): an approval
vouches for a case as the referent saw it; one left lying for weeks is not a decision anyone
still stands behind, so a late send needs a fresh approval.

Why a content hash: an approval is for one report, not for a case. ``record_approval`` binds
it to the SHA-256 of the prepared report (the draft its author prepared), and a sender passes
the hash of what it is about to send: a report changed after approval (another reporter
address, new messages, other files) needs a new approval.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigie.reports.audit import append_audit, case_target
from vigie.settings import Settings, get_settings
from vigie.store.reports_tables import ApprovalRow, ReportSubmissionRow

APPROVER_ROLE = "referent"


class FourEyesError(PermissionError):
    pass


@dataclass(slots=True, frozen=True)
class Approval:
    approver: str
    role: str
    at: datetime
    content_sha256: str | None = None
    # The preparer the approval was recorded for; None only for approvals built in memory.
    author: str | None = None
    # When it stops allowing a send (``reports.approval_valid_hours`` after ``at``); None: never.
    valid_until: datetime | None = None


def approval_validity(settings: Settings | None = None) -> timedelta:
    """How long an approval may be used to send (the ``reports.approval_valid_hours`` setting)."""
    return timedelta(hours=(settings or get_settings()).reports.approval_valid_hours)


def require_four_eyes(
    author: str,
    approvals: list[Approval],
    content_sha256: str | None = None,
    now: datetime | None = None,
) -> Approval:
    """The approval that allows sending, or FourEyesError saying what is missing.

    Only approvals by a referent other than ``author`` (the recorded preparer), recorded for
    that author, and not yet expired count; with ``content_sha256``, only approvals of exactly
    that content."""
    if not author:
        raise FourEyesError("the report has no author")
    valid = [a for a in approvals if _by_another_referent(a, author)]
    live = [a for a in valid if a.valid_until is None or a.valid_until > (now or _now())]
    for approval in live:
        if content_sha256 is None or approval.content_sha256 == content_sha256:
            return approval
    raise FourEyesError(_missing(author, approvals, valid, live, content_sha256))


def _now() -> datetime:
    return datetime.now(UTC)


def _by_another_referent(approval: Approval, author: str) -> bool:
    """Four eyes: a referent, not the author, approving that author's report (an approval
    recorded for another preparer vouches for another report)."""
    return (
        approval.role == APPROVER_ROLE
        and bool(approval.approver)
        and approval.approver != author
        and approval.author in (None, author)
    )


def _missing(
    author: str,
    approvals: list[Approval],
    valid: list[Approval],
    live: list[Approval],
    content_sha256: str | None,
) -> str:
    """Why no approval allows the send, most specific first."""
    if live:
        return (
            f"the approval by {live[-1].approver} is for other content "
            f"({(live[-1].content_sha256 or 'none')[:12]}), not {str(content_sha256)[:12]} "
            "(what would be sent): prepare the report again and have it approved"
        )
    if valid:
        until = valid[-1].valid_until
        return (
            f"the approval by {valid[-1].approver} expired at {until:%Y-%m-%d %H:%M %Z} "
            "(reports.approval_valid_hours): a referent approves the report again"
        )
    if any(a.approver == author for a in approvals):
        return f"{author} cannot approve their own report; a second referent must"
    return f"no approval by a {APPROVER_ROLE} other than the author {author}"


def record_approval(
    session: Session,
    case_id: str,
    *,
    authority: str,
    approver: str,
    role: str,
    author: str | None = None,
    at: datetime | None = None,
    content_sha256: str | None = None,
) -> Approval:
    """Store and audit an approval; refuses self-approval and non-referents at once.

    The author is the recorded preparer, never what a caller says: without ``author``, the
    preparer of the case's current draft; with one (the console passes the officer recorded
    on the case action), it must be that preparer whenever the approval is for the draft.
    Without ``content_sha256`` the approval is bound to the draft that the author prepared for
    this case and authority, when there is one (the console approves that way)."""
    at = at or datetime.now(UTC)
    author = _recorded_author(session, case_id, authority, author, content_sha256)
    content_sha256 = content_sha256 or prepared_content(session, case_id, authority, author)
    approval = Approval(approver, role, at, content_sha256, author)
    require_four_eyes(author, [approval], now=at)
    session.add(
        ApprovalRow(
            case_id=case_id,
            authority=authority,
            author=author,
            approver=approver,
            role=role,
            at=at,
            content_sha256=content_sha256,
        )
    )
    append_audit(
        session,
        approver,
        "report.approve",
        case_target(case_id),
        {"authority": authority, "author": author, "role": role, "content_sha256": content_sha256},
        at=at,
    )
    return approval


def _recorded_author(
    session: Session, case_id: str, authority: str, author: str | None, content: str | None
) -> str:
    """The preparer an approval is for: the draft's when it approves the draft (or names no
    author), refusing a named author who did not prepare it."""
    draft = current_draft(session, case_id, authority)
    drafted = str((draft.details or {}).get("content_sha256") or "") if draft else ""
    for_draft = draft is not None and (
        author is None or (content is not None and content == drafted)
    )
    if draft is not None and for_draft:
        if author is not None and author != draft.actor:
            raise FourEyesError(
                f"the report of case {case_id} was prepared by {draft.actor}, not {author}: "
                "the author is the recorded preparer"
            )
        return draft.actor
    if author is None:
        raise FourEyesError(f"case {case_id}: no prepared {authority} report to approve")
    return author


def current_draft(session: Session, case_id: str, authority: str) -> ReportSubmissionRow | None:
    """The report prepared for this case and authority and not yet sent, if any."""
    stmt = (
        select(ReportSubmissionRow)
        .where(
            ReportSubmissionRow.case_id == case_id,
            ReportSubmissionRow.authority == authority,
            ReportSubmissionRow.status == "prepared",
        )
        .order_by(ReportSubmissionRow.id.desc())
        .limit(1)
    )
    return session.scalars(stmt).first()


def prepared_content(session: Session, case_id: str, authority: str, author: str) -> str | None:
    """The content hash of ``author``'s current draft (None: nothing prepared by them)."""
    draft = current_draft(session, case_id, authority)
    if draft is None or draft.actor != author:
        return None
    value = (draft.details or {}).get("content_sha256")
    return str(value) if value else None


def approvals_for(
    session: Session, case_id: str, authority: str, valid_for: timedelta | None = None
) -> list[Approval]:
    """The case's approvals for ``authority``, each valid ``valid_for`` (default: the
    ``reports.approval_valid_hours`` setting) after it was given."""
    valid_for = valid_for if valid_for is not None else approval_validity()
    stmt = (
        select(ApprovalRow)
        .where(ApprovalRow.case_id == case_id, ApprovalRow.authority == authority)
        .order_by(ApprovalRow.at)
    )
    approvals = []
    for r in session.scalars(stmt):
        at = r.at if r.at.tzinfo is not None else r.at.replace(tzinfo=UTC)  # SQLite: naive
        approval = Approval(r.approver, r.role, at, r.content_sha256, r.author)
        approvals.append(replace(approval, valid_until=at + valid_for))
    return approvals
