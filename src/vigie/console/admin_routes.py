"""Audit log, decision-log export, dashboard, wellness settings and the console's own files."""

from __future__ import annotations

import csv
import io
import json
import re
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from vigie import csv_safe
from vigie.console import queries as q
from vigie.console import queue_queries as qq
from vigie.console import queues
from vigie.console.i18n import LANGS
from vigie.console.web import (
    HERE,
    LANG_COOKIE,
    SECURITY_HEADERS,
    Me,
    audit,
    checked_form,
    db,
    forbidden,
    now,
    render,
    see_other,
)
from vigie.reports.audit import verify_chain
from vigie.store.tables import AuditRow

router = APIRouter(include_in_schema=False)
STATIC = HERE / "static"
STATIC_FILES = {"console.css": "text/css", "console.js": "text/javascript"}


@router.get("/console/static/{name}")
def static(name: str) -> Response:
    if name not in STATIC_FILES:
        return Response(status_code=404)
    return FileResponse(
        STATIC / name,
        media_type=STATIC_FILES[name],
        headers={"Cache-Control": "public, max-age=3600"},
    )


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit row as people read it: the actor without its ``console:`` prefix, the target
    split into its kind and id (so cases link), the details as decoded text, not JSON."""

    row: AuditRow
    actor: str
    kind: str
    target: str
    details: list[tuple[str, str]]

    @classmethod
    def of(cls, row: AuditRow) -> AuditEntry:
        actor = row.actor.removeprefix("console:")
        kind, sep, target = row.target.partition(":")
        if not sep or " " in kind:
            kind, target = "", row.target
            if _CASE_ID.match(target) or row.action.startswith(("case.", "report.")):
                kind = "case"  # the pipeline and the reports tools write bare case ids
        return cls(row, actor, kind, target, _details(row.details))


_CASE_ID = re.compile(r"^case[_-][\w-]+$")


def _details(details: dict[str, Any] | None) -> list[tuple[str, str]]:
    out = []
    for key, value in sorted((details or {}).items()):
        if isinstance(value, dict | list):
            text = json.dumps(value, ensure_ascii=False, sort_keys=True)
        else:
            text = "" if value is None else str(value)
        out.append((str(key), text))
    return out


@router.get("/console/audit")
def audit_page(request: Request, me: Me) -> Response:
    if not me.can("audit.view"):
        return forbidden(request, me, "audit.view")
    params = request.query_params
    before = params.get("before")
    with db(request) as s:
        rows = q.audit_page(
            s,
            limit=100,
            before=int(before) if before and before.isdigit() else None,
            actor=params.get("actor") or None,
            action=params.get("action") or None,
        )
        broken = verify_chain(s) if params.get("verify") else None
    return render(
        request,
        "audit.html",
        me,
        entries=[AuditEntry.of(r) for r in rows],
        verified=bool(params.get("verify")),
        broken=broken,
        actor=params.get("actor", ""),
        action=params.get("action", ""),
    )


@router.get("/console/decisions.csv")
def export_decisions(request: Request, me: Me) -> Response:
    if not me.can("decisions.export"):
        return forbidden(request, me, "decisions.export")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "id",
            "at",
            "case",
            "platform",
            "subject",
            "decision",
            "policy_rule",
            "reason",
            "officer",
            "report_status",
            "authority",
            "approved_by",
            "overturned",
        ]
    )
    with db(request) as s:
        rows = q.decision_log(s)
        for r in rows:
            at = q.utc(r.at)
            writer.writerow(
                csv_safe.row(
                    [
                        r.id,
                        at.isoformat() if at else "",
                        r.case_id,
                        r.platform_id,
                        r.subject,
                        r.kind,
                        r.rule,
                        r.reason,
                        r.actor,
                        r.report_status or "",
                        r.authority or "",
                        r.reviewed_by or "",
                        int(r.overturned),
                    ]
                )
            )
        audit(s, me, "decisions.export", "decision_log", {"rows": len(rows)})
    headers = {
        **SECURITY_HEADERS,
        "Content-Disposition": 'attachment; filename="vigie-decisions.csv"',
    }
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


def _percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def _seconds(value: float | None) -> timedelta | None:
    return None if value is None else timedelta(seconds=value)


def _flag_totals(
    flags: list[tuple[str, str, str, int]],
) -> tuple[Counter[str], Counter[str], Counter[str], Counter[tuple[str, str]]]:
    """Per category, per day, per language, and per (category, day) for the "over time"
    table, from the counts the database grouped."""
    by_category: Counter[str] = Counter()
    by_day: Counter[str] = Counter()
    by_lang: Counter[str] = Counter()
    per_day: Counter[tuple[str, str]] = Counter()
    for day, category, lang, n in flags:
        by_category[category] += n
        by_day[day] += n
        by_lang[lang] += n
        per_day[(category, day)] += n
    return by_category, by_day, by_lang, per_day


@router.get("/console/dashboard")
def dashboard(request: Request, me: Me) -> Response:
    if not me.can("dashboard.view"):
        return forbidden(request, me, "dashboard.view")
    at = now()
    with db(request) as s:
        counts = qq.backlog(s, at).counts
        delays = q.first_decision_delays(s)
        flags = q.signal_counts(s, at - timedelta(days=14))
        outcomes = q.appeal_outcomes(s)
        decided = q.count_actions(s)
        dead_letters = q.count_audit(s, "event.dead_letter")
    by_category, by_day, by_lang, per_day = _flag_totals(flags)
    appeals = sum(outcomes.values())
    return render(
        request,
        "dashboard.html",
        me,
        backlog=[(qu, counts[qu.key]) for qu in queues.QUEUES],
        median=_seconds(statistics.median(delays) if delays else None),
        p95=_seconds(_percentile(delays, 95)),
        decided_cases=len(delays),
        by_category=by_category.most_common(),
        by_day=sorted(by_day.items()),
        by_lang=by_lang.most_common(),
        top=max([*by_category.values(), *by_day.values(), 1]),
        days=sorted(by_day),
        per_day=per_day,
        overturned=outcomes.get("overturned", 0),
        appeals=appeals,
        decisions=decided,
        dead_letters=dead_letters,
    )


@router.post("/console/lang")
async def switch_lang(request: Request, me: Me) -> Response:
    """The header's switch: saved on the account, so it follows the officer everywhere."""
    form = await checked_form(request, me)
    lang = form.get("lang", "")
    if lang in LANGS:
        with db(request) as s:
            user = q.user_by_id(s, me.id)
            if user is not None:
                user.lang = lang
    return _with_lang(lang, form.get("next"))


def _with_lang(lang: str, next_url: str | None) -> Response:
    local = bool(next_url) and str(next_url).startswith("/console") and "//" not in str(next_url)
    response = see_other(str(next_url) if local else "/console")
    if lang in LANGS:
        response.set_cookie(LANG_COOKIE, lang, samesite="strict", path="/", max_age=365 * 86400)
    return response


@router.get("/console/settings")
def settings_page(request: Request, me: Me) -> Response:
    return render(request, "settings.html", me, saved=request.query_params.get("saved") == "1")


@router.post("/console/settings")
async def save_settings(request: Request, me: Me) -> Response:
    form = await checked_form(request, me)
    minutes = form.get("break_minutes", "50")
    lang = form.get("lang", "")
    with db(request) as s:
        user = q.user_by_id(s, me.id)
        if user is not None:
            q.save_wellness(
                s,
                user,
                blur="blur" in form,
                greyscale="greyscale" in form,
                mute="mute" in form,
                break_minutes=max(0, min(480, int(minutes))) if minutes.isdigit() else 50,
                lang=lang if lang in LANGS else "",
            )
    return see_other("/console/settings?saved=1")
