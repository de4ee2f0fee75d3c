"""One case: its evidence (behind its own permission), media reveal, notes and decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from vigie.console import queries as q
from vigie.console import queues
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
from vigie.reports.authorities import AUTHORITIES  # one list with the exports
from vigie.reports.case_facts import parse_time

router = APIRouter(include_in_schema=False)

# Decision kind → the case status it leads to.
DECISIONS: dict[str, str] = {
    "dismiss": "dismissed",
    "warn": "actioned",
    "restrict_contact": "actioned",
    "suspend": "actioned",
    "escalate": "escalated",
    "prepare_report": "report_pending",
}
REVEAL_WINDOW_S = 15 * 60


def policy_rules(request: Request) -> list[tuple[str, str]]:
    """(name, why) of the rules of the policy in force; decisions must cite one."""
    try:
        rules = request.app.state.pipeline.policy.document.rules
    except AttributeError:
        return []
    return [(r.name, r.why) for r in rules]


def segments(text: str, spans: list[tuple[int, int]]) -> list[tuple[str, bool]]:
    """Split a message into (piece, highlighted) so the template marks what triggered a signal."""
    marks = [False] * len(text)
    for start, end in spans:
        for i in range(max(0, start), min(len(text), end)):
            marks[i] = True
    out: list[tuple[str, bool]] = []
    for ch, mark in zip(text, marks, strict=True):
        if out and out[-1][1] == mark:
            out[-1] = (out[-1][0] + ch, mark)
        else:
            out.append((ch, mark))
    return out


def _account_age(created: str | None, at: datetime) -> int | None:
    """The account's age in days (the template says it in the page's language)."""
    if not created:
        return None
    return max(0, (at - parse_time(created)).days)


def _revealed(request: Request, me: Me, case_id: str) -> set[int]:
    """Media this officer revealed in the last minutes, per the audit log (never from the URL
    alone, so a link cannot show media without the reveal being logged)."""
    asked = request.query_params.get("reveal")
    if not asked or not asked.isdigit():
        return set()
    with db(request) as s:
        rows = q.audit_for_target(s, f"case:{case_id}", "evidence.reveal")
    at = now()
    return {
        int(r.details.get("media_id", -1))
        for r in rows
        if r.actor == f"console:{me.email}"
        and str(r.details.get("media_id")) == asked
        and (at - (q.utc(r.at) or at)).total_seconds() < REVEAL_WINDOW_S
    }


@router.get("/console/cases/{case_id}")
def case_page(request: Request, case_id: str, me: Me) -> Response:
    if not me.can("case.view"):
        return forbidden(request, me, "case.view")
    evidence = me.can("evidence.view")
    revealed = _revealed(request, me, case_id) if evidence else set()
    with db(request) as s:
        view = q.case_view(s, case_id)
        if view is None:
            return render(request, "missing.html", me, status_code=404, what=case_id)
        audit(
            s,
            me,
            "evidence.view" if evidence else "case.view",
            f"case:{case_id}",
            platform_id=view.row.platform_id,
        )
    at = now()
    by_message: dict[int, list[q.Highlight]] = {}
    for h in view.highlights:
        if h.message_id is not None:
            by_message.setdefault(h.message_id, []).append(h)
    timeline = [
        (
            m,
            segments(m.text, [h.span for h in by_message.get(m.id, []) if h.span]),
            by_message.get(m.id, []),
        )
        for m in view.facts.messages
    ]
    queue_case = q.QueueCase(
        view.row.id,
        view.facts.platform_name,
        view.row.subject,
        view.row.status,
        view.row.priority,
        view.row.risk,
        list(view.row.categories or []),
        q.utc(view.row.opened_at) or at,
        q.utc(view.row.updated_at) or at,
        view.row.assignee,
    )
    return render(
        request,
        "case.html",
        me,
        v=view,
        evidence=evidence,
        timeline=timeline,
        revealed=revealed,
        rules=policy_rules(request),
        decisions=DECISIONS,
        authorities=AUTHORITIES,
        overdue=queues.overdue(queue_case, at),
        account_age=lambda c: _account_age(c, at),
        taken=request.query_params.get("taken") == "1",
        error=request.query_params.get("error"),
    )


@router.post("/console/cases/{case_id}/media/{media_id}/reveal")
async def reveal(request: Request, case_id: str, media_id: int, me: Me) -> Response:
    await checked_form(request, me)
    if not me.can("evidence.view"):
        return forbidden(request, me, "evidence.view")
    with db(request) as s:
        case = q.get_case(s, case_id)
        if case is None:
            return render(request, "missing.html", me, status_code=404, what=case_id)
        audit(
            s,
            me,
            "evidence.reveal",
            f"case:{case_id}",
            {"media_id": media_id},
            platform_id=case.platform_id,
        )
    return see_other(f"/console/cases/{case_id}?reveal={media_id}#media-{media_id}")


@router.post("/console/cases/{case_id}/notes")
async def add_note(request: Request, case_id: str, me: Me) -> Response:
    form = await checked_form(request, me)
    if not me.can("note.add"):
        return forbidden(request, me, "note.add")
    text = form.get("text", "").strip()[:5000]
    if text:
        with db(request) as s:
            q.add_note(s, case_id, me.email, text, now())
            audit(s, me, "case.note", f"case:{case_id}")
    return see_other(f"/console/cases/{case_id}#notes")


def _decision_error(me: Me, case: Any, form: dict[str, str], rules: set[str]) -> str | None:
    kind = form.get("kind", "")
    if kind not in DECISIONS:
        return N_("unknown decision")
    if case.status in ("escalated", "report_pending") and not me.can("case.escalated"):
        return N_("only a référent decides escalated cases")
    if case.assignee != me.email:
        return N_("claim the case before deciding")
    if form.get("rule", "") not in rules:
        return N_("cite the policy rule the decision applies")
    if kind == "dismiss" and not form.get("reason", "").strip():
        return N_("a dismissal needs a reason")
    if kind == "prepare_report" and form.get("authority") not in AUTHORITIES:
        return N_("choose the authority")
    return None


@router.post("/console/cases/{case_id}/decide")
async def decide(request: Request, case_id: str, me: Me) -> Response:
    form = await checked_form(request, me)
    if not me.can("case.decide"):
        return forbidden(request, me, "case.decide")
    rules = {name for name, _ in policy_rules(request)}
    with db(request) as s:
        case = q.get_case(s, case_id)
        if case is None:
            return render(request, "missing.html", me, status_code=404, what=case_id)
        error = _decision_error(me, case, form, rules)
        if error is None:
            kind = form["kind"]
            action = q.record_action(
                s,
                case,
                kind=kind,
                rule=form["rule"],
                reason=form.get("reason", "").strip()[:2000],
                actor=me.email,
                now=now(),
                new_status=DECISIONS[kind],
                authority=form.get("authority") or None,
            )
            audit(
                s,
                me,
                "case.decision",
                f"case:{case_id}",
                {
                    "kind": kind,
                    "rule": form["rule"],
                    "action_id": action.id,
                    "reason": action.reason,
                    "authority": action.authority,
                },
                platform_id=case.platform_id,
            )
    if error is not None:
        return see_other(f"/console/cases/{case_id}?error={quote(error)}")
    return see_other("/console/queues?decided=" + case_id)
