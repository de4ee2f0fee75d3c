"""Second looks: four-eyes approval of reports, and appeals decided by someone else."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from vigie.console import queries as q
from vigie.console.i18n import N_
from vigie.console.web import (
    Me,
    audit,
    checked_form,
    db,
    forbidden,
    now,
    render,
    see_other,
)

router = APIRouter(include_in_schema=False)


def _error(page: str, message: str) -> str:
    """The page with an English message the template translates."""
    return f"{page}?error={quote(message)}"


@router.get("/console/reports")
def reports_page(request: Request, me: Me) -> Response:
    if not me.can("queue.view"):
        return forbidden(request, me, "queue.view")
    with db(request) as s:
        pending = q.pending_reports(s)
        approved = q.approved_reports(s)
    return render(
        request,
        "reports.html",
        me,
        pending=pending,
        approved=approved,
        error=request.query_params.get("error"),
    )


@router.get("/console/reports/{action_id}/confirm")
def confirm_page(request: Request, action_id: int, me: Me) -> Response:
    """The approval's confirmation step: what is approved, for whom, on which grounds."""
    if not me.can("report.approve"):
        return forbidden(request, me, "report.approve")
    with db(request) as s:
        action = q.get_action(s, action_id)
        case = q.get_case(s, action.case_id) if action else None
    if action is None or case is None or action.report_status != "pending":
        return see_other(_error("/console/reports", N_("This report is no longer pending.")))
    whys = dict(_policy_rules(request))
    return render(
        request, "report_confirm.html", me, a=action, case=case, why=whys.get(action.rule, "")
    )


def _policy_rules(request: Request) -> list[tuple[str, str]]:
    try:
        return [(r.name, r.why) for r in request.app.state.pipeline.policy.document.rules]
    except AttributeError:
        return []


@router.post("/console/reports/{action_id}/review")
async def review(request: Request, action_id: int, me: Me) -> Response:
    form = await checked_form(request, me)
    if not me.can("report.approve"):
        return forbidden(request, me, "report.approve")
    approve = form.get("verdict") == "approve"
    if approve and form.get("confirm") != "yes":  # approving takes a second, explicit step
        return see_other(f"/console/reports/{action_id}/confirm")
    with db(request) as s:
        action = q.get_action(s, action_id)
        if action is None or action.report_status != "pending":
            return see_other(_error("/console/reports", N_("This report is no longer pending.")))
        if action.actor == me.email:
            # Four eyes: the author of a report can never be its approver.
            audit(
                s,
                me,
                "report.self_approval_refused",
                f"case:{action.case_id}",
                {"action_id": action_id},
            )
            return see_other(
                _error(
                    "/console/reports",
                    N_("You prepared this report: another référent approves it."),
                )
            )
        if not q.review_report(
            s, action, reviewer=me.email, role=me.role, approve=approve, now=now()
        ):
            return see_other(
                _error("/console/reports", N_("Someone already reviewed this report."))
            )
        if not approve:  # approvals are audited by record_approval ("report.approve")
            audit(
                s,
                me,
                "report.rejected",
                f"case:{action.case_id}",
                {"action_id": action_id, "author": action.actor, "authority": action.authority},
                platform_id=action.platform_id,
            )
    return see_other("/console/reports")


@router.get("/console/appeals")
def appeals_page(request: Request, me: Me) -> Response:
    if not me.can("queue.view"):
        return forbidden(request, me, "queue.view")
    with db(request) as s:
        pending = [(a, q.get_action(s, a.action_id)) for a in q.open_appeals(s)]
        outcomes = q.appeal_outcomes(s)
    return render(
        request,
        "appeals.html",
        me,
        pending=pending,
        outcomes=outcomes,
        error=request.query_params.get("error"),
    )


@router.post("/console/cases/{case_id}/appeals")
async def record_appeal(request: Request, case_id: str, me: Me) -> Response:
    form = await checked_form(request, me)
    if not me.can("appeal.record"):
        return forbidden(request, me, "appeal.record")
    statement = form.get("statement", "").strip()[:5000]
    action_id = form.get("action_id", "")
    with db(request) as s:
        action = q.get_action(s, int(action_id)) if action_id.isdigit() else None
        if action is None or action.case_id != case_id or not statement:
            return see_other(
                _error(
                    f"/console/cases/{case_id}",
                    N_("An appeal needs a decision and what the user says."),
                )
            )
        appeal = q.record_appeal(s, action, statement, me.email, now())
        audit(
            s,
            me,
            "appeal.recorded",
            f"case:{case_id}",
            {"appeal_id": appeal.id, "action_id": action.id},
            platform_id=action.platform_id,
        )
    return see_other("/console/appeals")


@router.post("/console/appeals/{appeal_id}/decide")
async def decide_appeal(request: Request, appeal_id: int, me: Me) -> Response:
    form = await checked_form(request, me)
    if not me.can("appeal.decide"):
        return forbidden(request, me, "appeal.decide")
    with db(request) as s:
        appeal = q.get_appeal(s, appeal_id)
        action = q.get_action(s, appeal.action_id) if appeal else None
        if appeal is None or action is None or appeal.outcome is not None:
            return see_other(_error("/console/appeals", N_("This appeal is no longer open.")))
        if action.actor == me.email:
            return see_other(
                _error(
                    "/console/appeals",
                    N_("An appeal goes to someone other than the officer who decided."),
                )
            )
        overturn = form.get("outcome") == "overturned"
        q.decide_appeal(
            s,
            appeal,
            decider=me.email,
            overturn=overturn,
            reason=form.get("reason", "").strip()[:2000],
            now=now(),
        )
        audit(
            s,
            me,
            "appeal.decided",
            f"case:{appeal.case_id}",
            {"appeal_id": appeal_id, "outcome": appeal.outcome},
            platform_id=action.platform_id,
        )
    return see_other("/console/appeals")
