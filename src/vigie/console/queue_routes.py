"""Queues: counts per queue, the selected queue in priority order, and claiming."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from vigie.console import queries as q
from vigie.console import queue_queries as qq
from vigie.console import queues
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

DISPLAY_ORDER = ("urgent", "grooming", "user_reports", "escalated", "reports")
PAGE = 100
CLAIMABLE = ("open", "in_review")
CLAIMABLE_BY_REFERENT = ("open", "in_review", "escalated")


@router.get("/console/queues")
def queue_page(request: Request, me: Me) -> Response:
    if not me.can("queue.view"):
        return forbidden(request, me, "queue.view")
    at = now()
    chosen = request.query_params.get("q")
    with db(request) as s:
        found = qq.backlog(s, at)
        if chosen not in found.counts:
            chosen = next((k for k in DISPLAY_ORDER if found.counts[k]), DISPLAY_ORDER[0])
        # officers work from the top; the count says how many wait
        shown = qq.top(s, chosen, found, at, PAGE)
    by_key = {x.key: x for x in queues.QUEUES}
    rows = [(c, queues.overdue(c, at), round(queues.score(c, at), 2)) for c in shown]
    return render(
        request,
        "queues.html",
        me,
        queues=[by_key[k] for k in DISPLAY_ORDER],
        counts=found.counts,
        overdue_counts=found.overdue,
        chosen=by_key[chosen],
        page=PAGE,
        rows=rows,
        sla=queues.SLA,
        decided=request.query_params.get("decided"),
    )


@router.post("/console/cases/{case_id}/claim")
async def claim(request: Request, case_id: str, me: Me) -> Response:
    await checked_form(request, me)
    if not me.can("case.claim"):
        return forbidden(request, me, "case.claim")
    statuses = CLAIMABLE_BY_REFERENT if me.can("case.escalated") else CLAIMABLE
    with db(request) as s:
        won = q.claim_case(s, case_id, me.email, statuses, now())
        case = q.get_case(s, case_id)
        if won and case is not None:
            audit(s, me, "case.claim", f"case:{case_id}", platform_id=case.platform_id)
    if not won:
        return see_other(f"/console/cases/{case_id}?taken=1")
    return see_other(f"/console/cases/{case_id}")


@router.post("/console/cases/{case_id}/release")
async def release(request: Request, case_id: str, me: Me) -> Response:
    await checked_form(request, me)
    with db(request) as s:
        if q.release_case(s, case_id, me.email, now()):
            audit(s, me, "case.release", f"case:{case_id}")
    return see_other("/console/queues")
