"""Four-eyes approval of reports to authorities.

A report leaves Vigie only when someone other than its author, holding the ``referent`` role,
approved it. The console records approvals with ``record_approval``; every sender calls
``require_four_eyes`` right before sending, so no path skips it.

Why a content hash: an approval is for one report, not for a case. ``record_approval`` binds
it to the SHA-256 of the prepared report (the draft its author prepared), and a sender passes
the hash of what it is about to send: a report changed after approval (another reporter
address, new messages, other files) needs a new approval.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigie.reports.audit import append_audit, case_target
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


def require_four_eyes(
    author: str, approvals: list[Approval], content_sha256: str | None = None
) -> Approval:
    """The approval that allows sending, or FourEyesError saying what is missing.

    With ``content_sha256``, only approvals of exactly that content count."""
    if not author:
        raise FourEyesError("the report has no author")
    valid = [
        a for a in approvals if a.role == APPROVER_ROLE and a.approver and a.approver != author
    ]
    for approval in valid:
        if content_sha256 is None or approval.content_sha256 == content_sha256:
            return approval
    if valid:
        raise FourEyesError(
            f"the approval by {valid[-1].approver} is for other content "
            f"({(valid[-1].content_sha256 or 'none')[:12]}), not {str(content_sha256)[:12]} "
            "(what would be sent): prepare the report again and have it approved"
        )
    if any(a.approver == author for a in approvals):
        raise FourEyesError(f"{author} cannot approve their own report; a second referent must")
    raise FourEyesError(f"no approval by a {APPROVER_ROLE} other than the author {author}")


def record_approval(
    session: Session,
    case_id: str,
    *,
    authority: str,
    author: str,
    approver: str,
    role: str,
    at: datetime | None = None,
    content_sha256: str | None = None,
) -> Approval:
    """Store and audit an approval; refuses self-approval and non-referents at once.

    Without ``content_sha256`` the approval is bound to the draft that ``author`` prepared
    for this case and authority, when there is one (the console approves that way)."""
    at = at or datetime.now(UTC)
    content_sha256 = content_sha256 or prepared_content(session, case_id, authority, author)
    approval = Approval(approver, role, at, content_sha256)
    require_four_eyes(author, [approval])
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


def approvals_for(session: Session, case_id: str, authority: str) -> list[Approval]:
    stmt = (
        select(ApprovalRow)
        .where(ApprovalRow.case_id == case_id, ApprovalRow.authority == authority)
        .order_by(ApprovalRow.at)
    )
    return [Approval(r.approver, r.role, r.at, r.content_sha256) for r in session.scalars(stmt)]
