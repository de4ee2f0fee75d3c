from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

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
from vigie.store.reports_tables import DsaStatementRow

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
    with pytest.raises(DsaSubmitError) as err:
        client.submit(
            [_statement(f"vigie-demo-{i}") for i in range(100)]
            + [_statement("vigie-demo-x"), _statement("vigie-demo-a")]
        )
    assert set(err.value.errors) == {"statement_101"}  # numbered in the whole list
    assert fake.batches == [1, 100]


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
