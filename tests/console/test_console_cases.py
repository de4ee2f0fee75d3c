"""Whole cases: one case per subject across conversations, decisions that stack into a
history, an explicit close with an outcome, and held messages released or kept."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from console_seed import ConsoleEnv, csrf_in
from fastapi.testclient import TestClient
from sqlalchemy import select

from vigie.console import queries as q
from vigie.store.outbox import WebhookOutboxRow
from vigie.store.tables import (
    AuditRow,
    CaseRow,
    DecisionRow,
    MessageRow,
    PlatformRow,
    SignalRow,
)


def _post(client: TestClient, path: str, **data: str) -> str:
    token = csrf_in(client.get("/console/queues").text)
    resp = client.post(path, data={"csrf": token, **data}, follow_redirects=False)
    return str(resp.headers.get("location", ""))


def _case(env: ConsoleEnv, case_id: str) -> CaseRow:
    with env.app.state.store.unit() as unit:
        row = unit.session.get(CaseRow, case_id)
        assert row is not None
        return row


def test_decisions_stack_and_only_an_explicit_close_ends_the_case(console: ConsoleEnv) -> None:
    ref = console.login("ref1@vigie.test")
    case = console.demo_case
    decide = f"/console/cases/{case}/decide"
    _post(ref, f"/console/cases/{case}/claim")
    _post(ref, decide, kind="warn", rule="risk_review_minor", reason="first contact")
    _post(ref, decide, kind="restrict_contact", rule="image_or_meeting_request_to_minor")
    page = ref.get(f"/console/cases/{case}?done=restrict_contact").text
    assert 'id="done"' in page and 'id="decide-form"' in page  # still open, still ours
    assert page.count('data-action="') == 2  # the history holds both decisions
    assert "a report awaits" not in page
    _post(ref, decide, kind="prepare_report", rule="risk_review_minor", authority="pharos")
    assert _case(console, case).status == "report_pending"
    ref2 = console.login("ref2@vigie.test")
    _post(ref2, f"/console/cases/{case}/claim")
    assert "error=" in _post(
        ref2, f"/console/cases/{case}/close", outcome="reported", reason="sent"
    )  # not while a report awaits approval (the case is not even claimable then)
    with console.app.state.store.unit() as unit:
        report = q.pending_reports(unit.session)[0].id
    read = ref2.get(f"/console/reports/{report}/confirm").text  # the approver reads it
    digest = re.search(r'name="content_sha256" value="([0-9a-f]{64})"', read)
    assert digest, "the confirmation is bound to the content hash read"
    _post(ref2, f"/console/reports/{report}/review", verdict="approve", confirm="yes",
          content_sha256=digest.group(1))  # fmt: skip
    assert _case(console, case).status == "in_review"  # back in the queues, still open
    _post(ref2, f"/console/cases/{case}/claim")
    assert "reason" in _post(ref2, f"/console/cases/{case}/close", outcome="reported")
    _post(ref2, f"/console/cases/{case}/close", outcome="reported", reason="sent to PHAROS")
    row = _case(console, case)
    assert row.status == "reported" and row.assignee is None
    with console.app.state.store.unit() as unit:
        kinds = [a.kind for a in q.case_actions(unit.session, case)]
        closes = unit.session.scalars(select(AuditRow).where(AuditRow.action == "case.close"))
        assert [c.details["outcome"] for c in closes] == ["reported"]
    assert kinds == ["warn", "restrict_contact", "prepare_report", "close"]
    page = ref2.get(f"/console/cases/{case}").text
    assert 'id="closed-note"' in page and 'id="decide-form"' not in page


def _second_conversation(env: ConsoleEnv, case_id: str) -> int:
    """The same subject writes in a new conversation; Vigie held that message."""
    at = datetime.now(UTC)
    with env.app.state.store.unit() as unit:
        s = unit.session
        case = s.get(CaseRow, case_id)
        assert case is not None
        message = MessageRow(
            platform_id=case.platform_id,
            conversation_id="conv-second",
            sender=case.subject,
            recipients=["kid-2"],
            text="on se voit samedi ?",
            sent_at=at,
            event_id="ev-held-1",
            risk=0.9,
        )
        s.add(message)
        s.flush()
        s.add(
            DecisionRow(
                platform_id=case.platform_id,
                event_id="ev-held-1",
                kind="hold",
                actions=["hold_message"],
                case_id=case_id,
                rules=["high_risk_hold"],
                subject=case.subject,
                at=at,
            )
        )
        s.add(
            SignalRow(
                platform_id=case.platform_id,
                event_id="ev-held-1",
                conversation_id="conv-second",
                subject=case.subject,
                message_id=message.id,
                case_id=case_id,
                detector="text.grooming",
                category="meeting_request",
                score=0.9,
                explanation="asks to meet in person: “on se voit samedi”",
                span_start=0,
                span_end=17,
                details={},
                at=at - timedelta(seconds=1),
            )
        )
        platform = s.get(PlatformRow, case.platform_id)
        assert platform is not None
        platform.webhook_url, platform.webhook_secret = "http://platform.test/hook", "s" * 32
        return message.id


def test_whole_case_shows_every_conversation_and_held_messages_are_released(
    console: ConsoleEnv,
) -> None:
    case = console.demo_case
    message_id = _second_conversation(console, case)
    mod = console.login("mod@vigie.test")
    page = mod.get(f"/console/cases/{case}").text
    assert 'data-conversation="conv-second"' in page and page.count('class="thread"') == 2
    assert f'id="msg-{message_id}"' in page and 'data-held="held"' in page
    assert "<mark>on se voit samedi</mark>" in page
    assert "claim" in _post(mod, f"/console/cases/{case}/held/{message_id}", verdict="release")
    _post(mod, f"/console/cases/{case}/claim")
    back = _post(mod, f"/console/cases/{case}/held/{message_id}", verdict="release", reason="ok")
    assert "done=release_held" in back
    page = mod.get(f"/console/cases/{case}").text
    assert 'data-held="release_held"' in page
    with console.app.state.store.unit() as unit:
        hooks = [json.loads(h.body) for h in unit.session.scalars(select(WebhookOutboxRow))]
        released = [h for h in hooks if h["action"] == "release_message"]
        assert [h["event"] for h in released] == ["ev-held-1"]
        audits = unit.session.scalars(
            select(AuditRow).where(AuditRow.action == "case.held_release")
        )
        assert [a.details["event"] for a in audits] == ["ev-held-1"]
    assert _case(console, case).status in ("open", "in_review")  # a release does not close


def test_keeping_a_held_message_sends_nothing(console: ConsoleEnv) -> None:
    case = console.demo_case
    message_id = _second_conversation(console, case)
    mod = console.login("mod@vigie.test")
    _post(mod, f"/console/cases/{case}/claim")
    _post(mod, f"/console/cases/{case}/held/{message_id}", verdict="keep", reason="a meeting")
    assert 'data-held="keep_held"' in mod.get(f"/console/cases/{case}").text
    with console.app.state.store.unit() as unit:
        hooks = [json.loads(h.body) for h in unit.session.scalars(select(WebhookOutboxRow))]
    assert not [h for h in hooks if h["action"] == "release_message"]
    other = console.demo_case
    assert "not%20held" in _post(mod, f"/console/cases/{other}/held/999999", verdict="release")


def test_people_have_readable_aliases_and_the_platform_id_is_revealed_audited(
    console: ConsoleEnv,
) -> None:
    ref = console.login("ref1@vigie.test")
    case = console.demo_case
    page = ref.get(f"/console/cases/{case}", headers={"Accept-Language": "fr"}).text
    assert "A · Adulte, 34 ans · sujet" in page and "B · Enfant, 13 ans" in page
    assert "A · Adult, 34 · subject" in ref.get(f"/console/cases/{case}").text
    with console.app.state.store.unit() as unit:
        subject = unit.session.get(CaseRow, case)
        assert subject is not None
        pseudo = subject.subject
    assert 'id="account-id"' not in ref.get(f"/console/cases/{case}?account={pseudo}").text
    mod = console.login("mod@vigie.test")
    assert "data-reveal-account" not in mod.get(f"/console/cases/{case}").text
    token = csrf_in(mod.get("/console/queues").text)
    path = f"/console/cases/{case}/people/{pseudo}/reveal"
    assert mod.post(path, data={"csrf": token}, follow_redirects=False).status_code == 403
    back = _post(ref, path)
    shown = ref.get(back).text
    assert 'id="account-id"' in shown
    with console.app.state.store.unit() as unit:
        rows = unit.session.scalars(select(AuditRow).where(AuditRow.action == "account.reveal"))
        assert [(r.actor, r.target) for r in rows] == [
            ("console:ref1@vigie.test", f"account:{pseudo}")
        ]
