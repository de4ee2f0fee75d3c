"""One case: its evidence (behind its own permission), media reveal, notes and decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from vigie.console import queries as q
from vigie.console import queues
from vigie.console.i18n import N_
from vigie.console.report_routes import outgoing_config
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
from vigie.reports.authorities import AUTHORITIES  # one list with the exports
from vigie.reports.case_facts import parse_time
from vigie.reports.ncmec import ReportValidationError
from vigie.reports.ncmec_case import AlreadyReported
from vigie.store.console_tables import CaseActionRow
from vigie.store.tables import CaseRow

router = APIRouter(include_in_schema=False)

# Decision kind → the case status it leads to. Measures keep the case open (in review, still
# claimed) so decisions stack; "dismiss" is the shortcut for closing with no concern.
DECISIONS: dict[str, str] = {
    "warn": "in_review",
    "restrict_contact": "in_review",
    "suspend": "in_review",
    "escalate": "escalated",
    "prepare_report": "report_pending",
    "dismiss": "dismissed",
}
MEASURES = ("warn", "restrict_contact", "suspend")
# How a case may end: the status it closes with.
OUTCOMES = ("dismissed", "actioned", "reported")
CLOSED = frozenset(OUTCOMES)
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


def _account_age(created: str | datetime | None, at: datetime) -> int | None:
    """The account's age in days (the template says it in the page's language)."""
    if not created:
        return None
    when = parse_time(created) if isinstance(created, str) else created
    return max(0, (at - when).days)


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
        reports = outgoing.of_case(s, case_id)
        audit(
            s,
            me,
            "evidence.view" if evidence else "case.view",
            f"case:{case_id}",
            platform_id=view.row.platform_id,
        )
    with db(request) as s:
        people = q.people_of(s, view.row, view.threads, [p.pseudo_id for p in view.facts.parties])
        shown_id = _revealed_account(s, request, me, view.row, people)
    at = now()
    timeline = [
        (t, [(m, segments(m.text, [h.span for h in m.highlights if h.span])) for m in t.messages])
        for t in view.threads
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
        people=people,
        shown_id=shown_id,
        message_count=sum(len(t.messages) for t in view.threads),
        revealed=revealed,
        rules=policy_rules(request),
        decisions=DECISIONS,
        authorities=AUTHORITIES,
        overdue=queues.overdue(queue_case, at),
        account_age=lambda c: _account_age(c, at),
        taken=request.query_params.get("taken") == "1",
        done=request.query_params.get("done"),
        outcomes=OUTCOMES,
        closed=view.row.status in CLOSED,
        pending_report=any(a.report_status == "pending" for a in view.actions),
        error=request.query_params.get("error"),
        detail=request.query_params.get("detail"),
        reports=[
            (a, reports.get(a.id), outgoing.state(reports.get(a.id), a.report_status))
            for a in view.actions
            if a.kind == "prepare_report" and a.case_id == case_id
        ],
        report_error=outgoing.last_error,
    )


def _revealed_account(
    s: Session, request: Request, me: Me, case: CaseRow, people: dict[str, q.Person]
) -> tuple[str, str | None] | None:
    """(pseudonym, platform id) when this officer revealed that account in the last minutes,
    per the audit log (a link alone shows nothing)."""
    asked = request.query_params.get("account")
    if not asked or asked not in people or not me.can("account.reveal"):
        return None
    rows = q.audit_for_target(s, f"account:{asked}", "account.reveal")
    at = now()
    logged = any(
        r.actor == f"console:{me.email}"
        and r.details.get("case") == case.id
        and (at - (q.utc(r.at) or at)).total_seconds() < REVEAL_WINDOW_S
        for r in rows
    )
    return (asked, q.platform_account_id(s, case.platform_id, asked)) if logged else None


@router.post("/console/cases/{case_id}/people/{pseudo_id}/reveal")
async def reveal_account(request: Request, case_id: str, pseudo_id: str, me: Me) -> Response:
    """Show the platform's own account id: audited first, like a media reveal."""
    await checked_form(request, me)
    if not me.can("account.reveal"):
        return forbidden(request, me, "account.reveal")
    with db(request) as s:
        case = q.get_case(s, case_id)
        if case is None:
            return render(request, "missing.html", me, status_code=404, what=case_id)
        audit(s, me, "account.reveal", f"account:{pseudo_id}", {"case": case_id},
              platform_id=case.platform_id)  # fmt: skip
    return see_other(f"/console/cases/{case_id}?account={quote(pseudo_id)}#people-h")


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
    with db(request) as s:
        case = q.get_case(s, case_id)
        if case is None:  # a note on no case would sit in the table, tied to nothing
            return render(request, "missing.html", me, status_code=404, what=case_id)
        if text:
            q.add_note(s, case_id, me.email, text, now())
            audit(s, me, "case.note", f"case:{case_id}", platform_id=case.platform_id)
    return see_other(f"/console/cases/{case_id}#notes")


def _claim_error(me: Me, case: Any) -> str | None:
    """What stops this officer deciding on this case now, if anything."""
    if case.status in CLOSED:
        return N_("this case is closed")
    if case.status in ("escalated", "report_pending") and not me.can("case.escalated"):
        return N_("only a référent decides escalated cases")
    if case.assignee != me.email:
        return N_("claim the case before deciding")
    return None


def _decision_error(me: Me, case: Any, form: dict[str, str], rules: set[str]) -> str | None:
    kind = form.get("kind", "")
    if kind not in DECISIONS:
        return N_("unknown decision")
    error = _claim_error(me, case)
    if error:
        return error
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
        error, detail = _decision_error(me, case, form, rules), ""
        if error is None and form["kind"] == "dismiss" and q.pending_report_of(s, case_id):
            error = N_("a report awaits approval: the case closes once it is decided")
        prepared = None
        if error is None and form["kind"] == "prepare_report":
            # The report is prepared now (the package, the NCMEC draft), before the decision
            # is recorded: what cannot be prepared is said, and nothing is recorded.
            try:
                prepared = outgoing.prepare_report(
                    s, case_id, authority=form["authority"], preparer=me.email,
                    config=outgoing_config(request), now=now(),
                )  # fmt: skip
            except (outgoing.ReportNotReady, ReportValidationError, AlreadyReported) as exc:
                error, detail = _REPORT_ERRORS.get(type(exc), N_("unknown decision")), str(exc)
        if error is None:
            kind = form["kind"]
            action = _record(
                s,
                me,
                case,
                dict(policy_rules(request)),
                kind=kind,
                rule=form["rule"],
                reason=form.get("reason", ""),
                new_status=DECISIONS[kind],
                authority=form.get("authority") or None,
                keep_claim=kind in MEASURES,
                outcome="dismissed" if kind == "dismiss" else None,
            )
            if prepared is not None:
                prepared.details = {**(prepared.details or {}), "action_id": action.id}
    if error is not None:
        extra = f"&detail={quote(detail)}" if detail else ""
        return see_other(f"/console/cases/{case_id}?error={quote(error)}{extra}")
    if form["kind"] in MEASURES:  # the case stays open and claimed: more may follow
        return see_other(f"/console/cases/{case_id}?done={form['kind']}#history")
    if form["kind"] == "prepare_report":  # the preparer sees exactly what will leave
        return see_other(f"/console/reports/{action.id}?done=prepared")
    return see_other("/console/queues?decided=" + case_id)


# Why a report could not be prepared (the exception's own text follows, as data).
_REPORT_ERRORS: dict[type, str] = {
    outgoing.ReportNotReady: N_("The report cannot be prepared: this Vigie lacks settings."),
    ReportValidationError: N_("NCMEC would refuse this report as the case stands."),
    AlreadyReported: N_("This case already has a CyberTipline report."),
}


def _record(s: Any, me: Me, case: Any, whys: dict[str, str], **fields: Any) -> CaseActionRow:
    """One decision on the case's history, and its audit entry, in the same transaction; the
    platform's webhook carries the cited rule's ``why`` as its reason."""
    fields["reason"] = str(fields.get("reason") or "").strip()[:2000]
    fields["why"] = whys.get(str(fields.get("rule") or ""), "")
    action = q.record_action(s, case, actor=me.email, now=now(), **fields)
    details = {
        "kind": action.kind,
        "rule": action.rule,
        "action_id": action.id,
        "reason": action.reason,
        "authority": action.authority,
    }
    details.update(
        {k: v for k, v in (("event", action.event_id), ("outcome", action.outcome)) if v}
    )
    audit(s, me, AUDIT_ACTIONS.get(action.kind, "case.decision"), f"case:{case.id}", details,
          platform_id=case.platform_id)  # fmt: skip
    return action


AUDIT_ACTIONS = {
    "close": "case.close",
    "release_held": "case.held_release",
    "keep_held": "case.held_keep",
}


@router.post("/console/cases/{case_id}/close")
async def close(request: Request, case_id: str, me: Me) -> Response:
    """The only way a case ends: an explicit outcome and why, once no report awaits approval."""
    form = await checked_form(request, me)
    if not me.can("case.decide"):
        return forbidden(request, me, "case.decide")
    outcome, reason = form.get("outcome", ""), form.get("reason", "").strip()
    with db(request) as s:
        case = q.get_case(s, case_id)
        if case is None:
            return render(request, "missing.html", me, status_code=404, what=case_id)
        error = _claim_error(me, case)
        if error is None and outcome not in OUTCOMES:
            error = N_("choose how the case ends")
        if error is None and not reason:
            error = N_("closing a case needs a reason")
        if error is None and q.pending_report_of(s, case_id):
            error = N_("a report awaits approval: the case closes once it is decided")
        if error is None:
            whys = dict(policy_rules(request))
            fields = {"rule": form.get("rule", ""), "reason": reason, "outcome": outcome}
            _record(s, me, case, whys, kind="close", new_status=outcome, **fields)
    if error is not None:
        return see_other(f"/console/cases/{case_id}?error={quote(error)}#close")
    return see_other("/console/queues?decided=" + case_id)


@router.post("/console/cases/{case_id}/held/{message_id}")
async def held(request: Request, case_id: str, message_id: int, me: Me) -> Response:
    """Release a held message (the platform is told by webhook and delivers it) or keep it."""
    form = await checked_form(request, me)
    if not me.can("case.decide"):
        return forbidden(request, me, "case.decide")
    verdict = form.get("verdict", "")
    with db(request) as s:
        case = q.get_case(s, case_id)
        if case is None:
            return render(request, "missing.html", me, status_code=404, what=case_id)
        message = q.held_message(s, case, message_id)
        error = _claim_error(me, case)
        if error is None and (message is None or verdict not in ("release", "keep")):
            error = N_("this message is not held")
        if error is None and message is not None:
            fields = {"rule": form.get("rule", ""), "reason": form.get("reason", "")}
            _record(s, me, case, dict(policy_rules(request)), kind=f"{verdict}_held",
                    new_status=case.status, keep_claim=True, event_id=message.event_id,
                    **fields)  # fmt: skip
    if error is not None:
        return see_other(f"/console/cases/{case_id}?error={quote(error)}")
    return see_other(f"/console/cases/{case_id}?done={verdict}_held#msg-{message_id}")
