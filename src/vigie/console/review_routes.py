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
from vigie.reports import outgoing

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
        approved = [
            (a, outgoing.state(outgoing.for_action(s, a.id, a.case_id), a.report_status))
            for a in q.approved_reports(s)
        ]
    return render(
        request,
        "reports.html",
        me,
        pending=pending,
        approved=approved,
        error=request.query_params.get("error"),
    )


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
