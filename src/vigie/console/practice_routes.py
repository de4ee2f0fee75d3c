"""The practice space: référents work practice cases like real ones and get feedback; admins
see each person's progress. Nothing here touches cases, signals, decisions or the audit log's
case entries (see ``vigie.console.practice``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from vigie.console import practice
from vigie.console import queries as q
from vigie.console.web import Me, checked_form, db, forbidden, now, render, see_other
from vigie.domain.categories import Category

router = APIRouter(include_in_schema=False)


@router.get("/console/practice")
def practice_list(request: Request, me: Me) -> Response:
    if not me.can("practice.work"):
        return forbidden(request, me, "practice.work")
    with db(request) as s:
        done = q.practice_results(s, me.id)
    return render(request, "practice_list.html", me, cases=practice.practice_cases(), done=done)


@router.get("/console/practice/{key}")
def practice_case(request: Request, key: str, me: Me) -> Response:
    if not me.can("practice.work"):
        return forbidden(request, me, "practice.work")
    case = practice.by_key(key)
    if case is None:
        return render(request, "missing.html", me, status_code=404, what=key)
    return render(request, "practice_case.html", me, **_context(case))


def _context(case: practice.PracticeCase) -> dict[str, Any]:
    return {
        "case": case,
        "decisions": practice.DECISIONS,
        "channels": practice.CHANNELS,
        "categories": [c.value for c in Category],
        "feedback": None,
        "answer": None,
    }


@router.post("/console/practice/{key}")
async def answer(request: Request, key: str, me: Me) -> Response:
    """Assess an answer against the trained reviewer's; stored for the person's progress."""
    form = await checked_form(request, me)
    if not me.can("practice.work"):
        return forbidden(request, me, "practice.work")
    case = practice.by_key(key)
    if case is None:
        return render(request, "missing.html", me, status_code=404, what=key)
    decision, channel = form.get("decision", ""), form.get("channel", "")
    if decision not in practice.DECISIONS or channel not in practice.CHANNELS:
        return see_other(f"/console/practice/{key}")
    signs = {k.removeprefix("sign-") for k in form if k.startswith("sign-")}
    feedback = practice.assess(case, decision, channel, signs)
    with db(request) as s:
        q.record_practice(s, me.id, key, decision, channel, sorted(signs), feedback, now())
    context = {**_context(case), "feedback": feedback, "answer": (decision, channel, signs)}
    return render(request, "practice_case.html", me, **context)


@router.get("/console/practice-progress")
def progress(request: Request, me: Me) -> Response:
    if not me.can("practice.progress"):
        return forbidden(request, me, "practice.progress")
    with db(request) as s:
        rows = q.practice_progress(s)
    return render(
        request, "practice_progress.html", me, rows=rows, total=len(practice.practice_cases())
    )
