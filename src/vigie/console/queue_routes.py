"""Queues: counts per queue, the selected queue in priority order, and claiming."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from vigie.console import queries as q
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
    with db(request) as s:
        built = queues.build(q.active_cases(s), at)
    chosen = request.query_params.get("q")
    if chosen not in built:
        chosen = next((k for k in DISPLAY_ORDER if built[k]), DISPLAY_ORDER[0])
    by_key = {x.key: x for x in queues.QUEUES}
    shown = built[chosen][:PAGE]  # officers work from the top; the count says how many wait
    rows = [(c, queues.overdue(c, at), round(queues.score(c, at), 2)) for c in shown]
    return render(
        request,
        "queues.html",
        me,
        queues=[by_key[k] for k in DISPLAY_ORDER],
        counts={k: len(v) for k, v in built.items()},
        overdue_counts={k: sum(1 for c in v if queues.overdue(c, at)) for k, v in built.items()},
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
