"""Four-eyes approval of reports to authorities.

A report leaves Vigie only when someone other than its author, holding the ``referent`` role,
approved it. The console (later) records approvals with ``record_approval``; every sender
calls ``require_four_eyes`` right before sending, so no path skips it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigie.reports.audit import append_audit
from vigie.store.reports_tables import ApprovalRow

APPROVER_ROLE = "referent"


class FourEyesError(PermissionError):
    pass


@dataclass(slots=True, frozen=True)
class Approval:
    approver: str
    role: str
    at: datetime


def require_four_eyes(author: str, approvals: list[Approval]) -> Approval:
    """The approval that allows sending, or FourEyesError saying what is missing."""
    if not author:
        raise FourEyesError("the report has no author")
    for approval in approvals:
        if approval.role == APPROVER_ROLE and approval.approver and approval.approver != author:
            return approval
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
) -> Approval:
    """Store and audit an approval; refuses self-approval and non-referents at once."""
    at = at or datetime.now(UTC)
    approval = Approval(approver, role, at)
    require_four_eyes(author, [approval])
    session.add(
        ApprovalRow(
            case_id=case_id, authority=authority, author=author, approver=approver, role=role, at=at
        )
    )
    append_audit(
        session,
        approver,
        "report.approve",
        case_id,
        {"authority": authority, "author": author, "role": role},
        at=at,
    )
    return approval


def approvals_for(session: Session, case_id: str, authority: str) -> list[Approval]:
    stmt = (
        select(ApprovalRow)
        .where(ApprovalRow.case_id == case_id, ApprovalRow.authority == authority)
        .order_by(ApprovalRow.at)
    )
    return [Approval(r.approver, r.role, r.at) for r in session.scalars(stmt)]
