from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from sqlalchemy.orm import Session

from vigie.reports.approvals import record_approval
from vigie.reports.audit import verify_chain
from vigie.reports.dsa import (
    CATEGORY_MINORS,
    Grounds,
    StatementError,
    build_statement,
    make_puid,
    validate_statement,
)
from vigie.reports.dsa_client import DsaClient, DsaSubmitError, record_statements, submit_pending
from vigie.store.console_tables import CaseActionRow
from vigie.store.reports_tables import DsaStatementRow
from vigie.store.tables import AuditRow

from .dsa_server import FakeTransparencyDb

AT = datetime(2026, 11, 20, 17, 5, tzinfo=UTC)


def _statement(puid: str = "vigie-demo-1", **over: object) -> dict:
    args: dict = dict(
        puid=puid,
        decision="block",
        actions=["block", "restrict_contact"],
        categories=["secrecy", "platform_migration"],
        content_at=AT,
        applied_at=AT,
        automated_detection=True,
        automated_decision="AUTOMATED_DECISION_FULLY",
        from_notice=False,
        confirmed_illegal=False,
        has_media=False,
        grounds=Grounds(),
    )
    args.update(over)
    return build_statement(**args)


@pytest.fixture()
def fake() -> Iterator[FakeTransparencyDb]:
    with FakeTransparencyDb() as server:
        yield server


@pytest.fixture()
def client(fake: FakeTransparencyDb) -> Iterator[DsaClient]:
    c = DsaClient("tok", base_url=fake.url, sleep=lambda s: None)
    yield c
    c.close()


def test_statement_fields() -> None:
    s = _statement()
    assert s["category"] == CATEGORY_MINORS
    assert s["category_specification"] == ["KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS"]
    assert s["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"]
    assert s["decision_provision"] == "DECISION_PROVISION_PARTIAL_SUSPENSION"
    assert s["decision_ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert s["incompatible_content_ground"] and s["incompatible_content_explanation"]
    assert s["automated_detection"] == "Yes"
    assert s["source_type"] == "SOURCE_VOLUNTARY"
    assert s["application_date"] == "2026-11-20"
    assert "FR" in s["territorial_scope"]


def test_illegal_ground_and_csam_keyword() -> None:
    s = _statement(
        confirmed_illegal=True, categories=["known_imagery"], has_media=True, from_notice=True
    )
    assert s["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"
    assert s["illegal_content_legal_ground"] and s["illegal_content_explanation"]
    assert s["category_specification"] == ["KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL"]
    assert s["content_type"] == ["CONTENT_TYPE_TEXT", "CONTENT_TYPE_IMAGE"]
    assert s["source_type"] == "SOURCE_ARTICLE_16"


def test_validation_names_fields() -> None:
    s = _statement()
    s["automated_decision"] = "maybe"
    s["puid"] = "has space"
    del s["decision_visibility"], s["decision_provision"]
    with pytest.raises(StatementError) as err:
        validate_statement(s)
    assert set(err.value.errors) >= {"automated_decision", "puid", "decision_visibility"}


def test_puid_is_safe() -> None:
    assert make_puid("demo game/1", 42) == "vigie-demo_game_1-42"


def test_batches_of_100(fake: FakeTransparencyDb, client: DsaClient) -> None:
    created = client.submit([_statement(f"vigie-demo-{i}") for i in range(250)])
    assert fake.batches == [100, 100, 50]
    assert len(created) == 250 and all(c["uuid"] for c in created)


def test_retry_then_422_indexed(fake: FakeTransparencyDb, client: DsaClient) -> None:
    fake.fail_next = 2
    client.submit([_statement("vigie-demo-a")])
    broken = _statement("vigie-demo-x")
    broken["decision_facts"] = ""
    with pytest.raises(DsaSubmitError) as err:
        client.submit_batch([_statement("vigie-demo-b"), broken], offset=100)
    assert set(err.value.errors) == {"statement_101"}  # numbered in the whole list
    assert fake.batches == [1]


def test_retry_after_is_honoured(fake: FakeTransparencyDb) -> None:
    waits: list[float] = []
    client = DsaClient("tok", base_url=fake.url, sleep=waits.append, backoff=0.5)
    fake.fail_next, fake.retry_after = 2, "7"
    client.submit([_statement("vigie-demo-r")])
    assert waits == [7.0, 7.0]
    fake.fail_next, fake.retry_after = 1, "86400"  # capped: a batch job never sleeps a day
    client.submit([_statement("vigie-demo-s")])
    assert waits[-1] == 300.0


def test_stored_batch_with_a_lost_answer_recovers(
    session: Session,
    make_case,  # type: ignore[no-untyped-def]
    fake: FakeTransparencyDb,
) -> None:
    """Stored, answered 502 until retries ran out; the next run gets 422 existing_puids, checks
    each PUID, marks the stored ones sent and sends the rest, instead of sticking forever."""
    make_case(session)
    client = DsaClient("tok", base_url=fake.url, sleep=lambda s: None, retries=0)
    record_statements(session, Grounds(), now=AT)
    session.commit()
    fake.store_then_fail = 1
    with pytest.raises(DsaSubmitError, match="502"):
        submit_pending(session, client, now=AT)
    session.rollback()
    stored = set(fake.statements)
    assert len(stored) == 2
    session.add(
        CaseActionRow(
            case_id="case-1",
            platform_id="demo",
            subject="p-adult",
            kind="suspend",
            rule="grooming-minor",
            reason="",
            actor="mod@x",
            at=AT,
        )
    )
    session.commit()
    record_statements(session, Grounds(), now=AT)
    session.commit()
    assert submit_pending(session, client, now=AT) == 3
    assert sorted(fake.lookups) == sorted(stored)
    rows = session.query(DsaStatementRow).all()
    assert all(r.submitted_at is not None for r in rows)
    assert len(fake.statements) == 3
    assert submit_pending(session, client, now=AT) == 0
    recovered = session.query(AuditRow).filter_by(action="dsa.recovered").one()
    assert sorted(recovered.details["already_stored"]) == sorted(stored)


def test_console_restrictions_get_truthful_statements(
    session: Session,
    make_case,  # type: ignore[no-untyped-def]
) -> None:
    make_case(session)
    for i, kind in enumerate(("suspend", "restrict_contact", "warn", "dismiss")):
        session.add(
            CaseActionRow(
                case_id="case-1",
                platform_id="demo",
                subject="p-adult",
                kind=kind,
                rule="grooming-minor",
                reason="",
                actor="mod@x",
                at=AT.replace(minute=10 + i),
            )
        )
    record_approval(
        session, "case-1", authority="pharos", author="mod@x", approver="ref@x", role="referent"
    )
    session.commit()
    rows = {r.puid: r.payload for r in record_statements(session, Grounds(), now=AT)}
    console = {p: v for p, v in rows.items() if "-console-" in p}
    assert len(console) == 2  # a warning or a dismissal restricts nothing: no statement
    restrictions = {
        (v.get("decision_account"), v.get("decision_provision"), v.get("decision_visibility"))
        for v in console.values()
    }
    assert restrictions == {
        ("DECISION_ACCOUNT_SUSPENDED", None, None),
        (None, "DECISION_PROVISION_PARTIAL_SUSPENSION", None),
    }
    for payload in console.values():
        assert payload["automated_decision"] == "AUTOMATED_DECISION_NOT_AUTOMATED"
        assert payload["automated_detection"] == "Yes"  # Vigie's signals led to the case
        assert payload["decision_ground"] == "DECISION_GROUND_ILLEGAL_CONTENT"  # approved
        assert payload["source_type"] == "SOURCE_ARTICLE_16"  # the child reported him
    automated = [v for p, v in rows.items() if "-console-" not in p]
    assert {v["automated_decision"] for v in automated} == {"AUTOMATED_DECISION_FULLY"}
    assert record_statements(session, Grounds(), now=AT) == []


def test_every_restriction_gets_a_statement(
    session: Session,
    make_case,  # type: ignore[no-untyped-def]
    fake: FakeTransparencyDb,
    client: DsaClient,
) -> None:
    make_case(session)
    rows = record_statements(session, Grounds(), now=AT)
    session.commit()
    assert len(rows) == 2  # one hold, one block
    assert record_statements(session, Grounds(), now=AT) == []
    for row in rows:
        text = str(row.payload)
        assert "p-adult" not in text and "p-child" not in text  # no personal data
    assert submit_pending(session, client, now=AT) == 2
    assert all(r.tdb_uuid for r in session.query(DsaStatementRow))
    assert submit_pending(session, client, now=AT) == 0
    assert verify_chain(session) is None


def test_recovery_lookups_wait_as_the_server_asks(
    session: Session,
    make_case,  # type: ignore[no-untyped-def]
    fake: FakeTransparencyDb,
) -> None:
    """The existing-puid lookups of a recovery are rate limited too: a 429 with Retry-After is
    waited out, not taken as a failure that leaves the batch stuck."""
    make_case(session)
    waits: list[float] = []
    client = DsaClient("tok", base_url=fake.url, sleep=waits.append, retries=2)
    record_statements(session, Grounds(), now=AT)
    session.commit()
    fake.store_then_fail = 1
    client.retries = 0  # the lost answer is given up on at once
    with pytest.raises(DsaSubmitError, match="502"):
        submit_pending(session, client, now=AT)
    session.rollback()
    client.retries = 2
    fake.throttle_lookups, fake.retry_after = 1, "11"
    assert submit_pending(session, client, now=AT) == 2
    assert waits == [11.0]
    assert all(r.submitted_at is not None for r in session.query(DsaStatementRow))


def test_retry_after_as_an_http_date(fake: FakeTransparencyDb) -> None:
    """RFC 9110 allows Retry-After as a date; it is waited until, not replaced by a backoff."""
    waits: list[float] = []
    client = DsaClient("tok", base_url=fake.url, sleep=waits.append, backoff=0.5)
    when = datetime.now(UTC) + timedelta(seconds=120)
    fake.fail_next, fake.retry_after = 1, format_datetime(when, usegmt=True)
    client.submit([_statement("vigie-demo-d")])
    assert len(waits) == 1 and 110 <= waits[0] <= 120


def test_a_report_after_the_measure_does_not_make_it_notice_driven(
    session: Session,
    make_case,  # type: ignore[no-untyped-def]
) -> None:
    """The officer acted before anyone reported the account: own initiative (Art. 17(3)(b)
    and the transparency figures both depend on the source being true)."""
    make_case(session)
    session.add(
        CaseActionRow(
            case_id="case-1",
            platform_id="demo",
            subject="p-adult",
            kind="suspend",
            rule="grooming-minor",
            reason="",
            actor="mod@x",
            at=AT.replace(minute=5, second=30),  # the child's report comes at 17:06
        )
    )
    session.commit()
    rows = {r.puid: r.payload for r in record_statements(session, Grounds(), now=AT)}
    console = [v for p, v in rows.items() if "-console-" in p]
    assert [v["source_type"] for v in console] == ["SOURCE_VOLUNTARY"]
