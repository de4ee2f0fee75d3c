"""Queues, claims, case review, decisions, four eyes, appeals, audit and export (HTTP level)."""

from __future__ import annotations

import csv
import io
import re
import threading

import httpx
from console_seed import URGENT_ORDER, ConsoleEnv, csrf_in
from fastapi.testclient import TestClient
from sqlalchemy import select

from vigie.console import queries as q
from vigie.reports.audit import verify_chain
from vigie.store.reports_tables import ApprovalRow, ComplaintRow
from vigie.store.sql import SqlStore
from vigie.store.tables import AuditRow, CaseRow


def _audit(env: ConsoleEnv, action: str) -> list[AuditRow]:
    with env.app.state.store.unit() as unit:
        return list(unit.session.scalars(select(AuditRow).where(AuditRow.action == action)))


def _case(env: ConsoleEnv, case_id: str) -> CaseRow:
    with env.app.state.store.unit() as unit:  # committed, so the row stays readable
        row = unit.session.get(CaseRow, case_id)
        assert row is not None
        return row


def _post(
    client: TestClient, path: str, page: str = "/console/queues", **data: str
) -> httpx.Response:
    token = csrf_in(client.get(page).text)
    return client.post(path, data={"csrf": token, **data}, follow_redirects=False)


def _claim(client: TestClient, case_id: str) -> None:
    _post(client, f"/console/cases/{case_id}/claim")


def test_urgent_queue_first_and_ordered_by_priority(console: ConsoleEnv) -> None:
    page = console.login("mod@vigie.test").get("/console/queues").text
    positions = [page.index(f'data-case="{c}"') for c in URGENT_ORDER]
    assert positions == sorted(positions)
    assert 'data-count="urgent">3<' in page and 'data-count="grooming">2<' in page
    assert "Overdue" in page  # case-sextortion is P1, opened two hours ago


def test_claim_is_exclusive(console: ConsoleEnv) -> None:
    a, b = console.login("mod@vigie.test"), console.login("mod2@vigie.test")
    _claim(a, console.demo_case)
    _claim(b, console.demo_case)
    assert _case(console, console.demo_case).assignee == "mod@vigie.test"
    assert "already claimed" in b.get(f"/console/cases/{console.demo_case}?taken=1").text


def test_claim_race_has_one_winner(console: ConsoleEnv) -> None:
    """Eight threads, eight connections, one case: exactly one UPDATE wins."""
    store = SqlStore(console.url)
    wins: list[bool] = []
    barrier = threading.Barrier(8)

    def grab(i: int) -> None:
        barrier.wait()
        with store.unit() as unit:
            wins.append(
                q.claim_case(unit.session, "case-low", f"o{i}@x", ("open",), q.utc(None) or _now())
            )

    threads = [threading.Thread(target=grab, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.dispose()
    assert wins.count(True) == 1


def _now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime.now(UTC)


def test_case_view_highlights_triggers_and_logs_the_view(console: ConsoleEnv) -> None:
    page = console.login("mod@vigie.test").get(f"/console/cases/{console.demo_case}").text
    assert "<mark>" in page and "msg trigger" in page
    assert "account age" in page.lower() and "estimated" in page  # the child's age source
    assert page.count('class="tile blurred grey"') == 2  # media hidden by default
    assert _audit(console, "evidence.view")


def test_reveal_is_logged_and_needed(console: ConsoleEnv) -> None:
    mod = console.login("mod@vigie.test")
    case = console.demo_case
    page = mod.get(f"/console/cases/{case}").text
    media_id = page.split('data-media="', 1)[1].split('"', 1)[0]
    # A crafted link alone does not reveal anything.
    assert 'data-revealed="yes"' not in mod.get(f"/console/cases/{case}?reveal={media_id}").text
    resp = _post(mod, f"/console/cases/{case}/media/{media_id}/reveal", f"/console/cases/{case}")
    shown = mod.get(resp.headers["location"]).text  # type: ignore[attr-defined]
    assert f'data-media="{media_id}" data-revealed="yes"' in shown
    entries = _audit(console, "evidence.reveal")
    assert entries and entries[0].details == {"media_id": int(media_id)}


def test_decision_needs_claim_rule_and_reason(console: ConsoleEnv) -> None:
    mod = console.login("mod@vigie.test")
    case = console.demo_case
    path = f"/console/cases/{case}/decide"
    resp = _post(mod, path, kind="warn", rule="risk_review_minor")
    assert "claim" in resp.headers["location"]  # type: ignore[attr-defined]
    _claim(mod, case)
    resp = _post(mod, path, kind="dismiss", rule="risk_review_minor")
    assert "reason" in resp.headers["location"]  # type: ignore[attr-defined]
    resp = _post(mod, path, kind="warn", rule="no-such-rule")
    assert "policy" in resp.headers["location"]  # type: ignore[attr-defined]
    resp = _post(mod, path, kind="restrict_contact", rule="risk_review_minor")
    assert "done=restrict_contact" in resp.headers["location"]  # type: ignore[attr-defined]
    row = _case(console, case)  # a measure keeps the case open and claimed: decisions stack
    assert row.status == "in_review" and row.assignee == "mod@vigie.test"
    assert _audit(console, "case.decision")[0].details["rule"] == "risk_review_minor"


def _prepare_report(env: ConsoleEnv, author: TestClient, case: str) -> int:
    _claim(author, case)
    _post(
        author,
        f"/console/cases/{case}/decide",
        kind="prepare_report",
        rule="known_imagery",
        authority="pharos",
        reason="matches a list",
    )
    with env.app.state.store.unit() as unit:
        return q.pending_reports(unit.session)[0].id


def test_four_eyes_report_approval(console: ConsoleEnv) -> None:
    ref1, ref2 = console.login("ref1@vigie.test"), console.login("ref2@vigie.test")
    mod = console.login("mod@vigie.test")
    action = _prepare_report(console, ref1, "case-hash")
    assert _case(console, "case-hash").status == "report_pending"
    review = f"/console/reports/{action}/review"
    own = _post(ref1, review, "/console/reports", verdict="approve", confirm="yes")
    assert "You%20prepared" in own.headers["location"]  # type: ignore[attr-defined]
    assert (
        _post(mod, review, "/console/reports", verdict="approve", confirm="yes").status_code == 403
    )  # type: ignore[attr-defined]
    unconfirmed = _post(ref2, review, "/console/reports", verdict="approve")
    assert unconfirmed.headers["location"].endswith("/confirm")  # type: ignore[attr-defined]
    assert _case(console, "case-hash").status == "report_pending"  # nothing approved yet
    page = ref2.get(f"/console/reports/{action}/confirm", headers={"Accept-Language": "fr"})
    assert "Approuver un signalement" in page.text and 'name="confirm"' in page.text
    digest = re.search(r'name="content_sha256" value="([0-9a-f]{64})"', page.text)
    assert digest, "the confirmation is bound to the content hash read"
    _post(ref2, review, "/console/reports", verdict="approve", confirm="yes",
          content_sha256=digest.group(1))  # fmt: skip
    with console.app.state.store.unit() as unit:
        approvals = list(unit.session.scalars(select(ApprovalRow)))
    assert [(a.author, a.approver, a.role) for a in approvals] == [
        ("ref1@vigie.test", "ref2@vigie.test", "referent")
    ]
    assert _audit(console, "report.approve") and _audit(console, "report.self_approval_refused")
    queues = ref2.get("/console/queues").text
    assert 'data-count="reports">0<' in queues  # approved: waits for submission, not for us
    assert 'data-approved="' in ref2.get("/console/reports").text


def test_appeal_goes_to_someone_else_and_overturns_count(console: ConsoleEnv) -> None:
    ref1, ref2 = console.login("ref1@vigie.test"), console.login("ref2@vigie.test")
    case = "case-low"
    _claim(ref1, case)
    _post(ref1, f"/console/cases/{case}/decide", kind="suspend", rule="risk_review")
    with console.app.state.store.unit() as unit:
        action_id = q.case_actions(unit.session, case)[0].id
    _post(
        ref1,
        f"/console/cases/{case}/appeals",
        statement="it was a misunderstanding",
        action_id=str(action_id),
    )
    with console.app.state.store.unit() as unit:
        appeal = q.open_appeals(unit.session)[0]
    path = f"/console/appeals/{appeal.id}/decide"
    own = _post(ref1, path, "/console/appeals", outcome="overturned")
    assert "someone%20other" in own.headers["location"]  # type: ignore[attr-defined]
    _post(ref2, path, "/console/appeals", outcome="overturned", reason="context")
    assert 'id="overturns">1<' in ref2.get("/console/appeals").text
    with console.app.state.store.read() as unit:
        complaint = unit.session.scalars(select(ComplaintRow)).one()
        assert complaint.outcome == "overturned"
        assert q.case_actions(unit.session, case)[0].overturned


def test_audit_view_export_and_chain(console: ConsoleEnv) -> None:
    mod = console.login("mod@vigie.test")
    _claim(mod, "case-report")
    _post(
        mod,
        "/console/cases/case-report/decide",
        kind="dismiss",
        rule="user_report",
        reason="a misunderstanding between friends",
    )
    auditor = console.login("audit@vigie.test")
    csv_text = auditor.get("/console/decisions.csv").text
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert rows[0]["decision"] == "dismiss" and rows[0]["policy_rule"] == "user_report"
    page = auditor.get("/console/audit?verify=1").text
    assert "Chain intact" in page and "decisions.export" in page
    with console.app.state.store.read() as unit:
        assert verify_chain(unit.session) is None


def test_dashboard_and_settings(console: ConsoleEnv) -> None:
    mod = console.login("mod@vigie.test")
    assert "Backlog per queue" in mod.get("/console/dashboard").text
    _post(mod, "/console/settings", "/console/settings", break_minutes="20", lang="fr", mute="on")
    page = mod.get(f"/console/cases/{console.demo_case}").text
    assert "Chronologie" in page and 'class="tile"' in page  # blur and greyscale now off


def test_escalated_cases_go_to_referents(console: ConsoleEnv) -> None:
    mod, mod2 = console.login("mod@vigie.test"), console.login("mod2@vigie.test")
    ref = console.login("ref1@vigie.test")
    _claim(mod, "case-sextortion")
    _post(mod, "/console/cases/case-sextortion/decide", kind="escalate", rule="sextortion_block")
    assert 'data-count="escalated">1<' in mod.get("/console/queues").text
    _claim(mod2, "case-sextortion")
    assert _case(console, "case-sextortion").assignee is None
    _claim(ref, "case-sextortion")
    assert _case(console, "case-sextortion").assignee == "ref1@vigie.test"


def test_officer_decisions_reach_the_platform_and_hold_evidence(console: ConsoleEnv) -> None:
    import json

    from vigie.store.outbox import WebhookOutboxRow
    from vigie.store.reports_tables import LegalHoldRow
    from vigie.store.tables import PlatformRow

    case = console.demo_case
    with console.app.state.store.unit() as unit:
        platform_id = unit.session.get(CaseRow, case).platform_id  # type: ignore[union-attr]
        platform = unit.session.get(PlatformRow, platform_id)
        platform.webhook_url, platform.webhook_secret = "http://127.0.0.1:9/h", "whsec_test"  # type: ignore[union-attr]
    mod = console.login("mod@vigie.test")
    _claim(mod, case)
    _post(mod, f"/console/cases/{case}/decide", kind="restrict_contact", rule="risk_review_minor")
    with console.app.state.store.unit() as unit:
        bodies = [json.loads(b) for b in unit.session.scalars(select(WebhookOutboxRow.body))]
        holds = list(unit.session.scalars(select(LegalHoldRow.case_id)))
    sent = [b for b in bodies if b["action"] == "restrict_contact" and b["case"] == case]
    assert len(sent) == 1 and sent[0]["subject"] == "u-marc"  # the platform's own id
    assert holds == [case]


def test_dead_letters_are_counted_on_the_dashboard(console: ConsoleEnv) -> None:
    from vigie.reports.audit import append_audit

    with console.app.state.store.unit() as unit:
        append_audit(unit.session, "worker:w1", "event.dead_letter", "ev-9", {"attempts": 5})
    admin = console.login("admin@vigie.test")
    page = admin.get("/console/dashboard").text
    assert 'data-dead-letters="1"' in page
    assert "ev-9" in admin.get("/console/audit?action=event.dead_letter").text
