"""The storage interface behaves the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text

from vigie.domain import Account, AgeSource, Case, Message, Signal
from vigie.platforms import UnknownPlatform, authenticate, create_platform, rotate_api_key
from vigie.store.audit import verify_chain
from vigie.store.sql import SqlStore


@pytest.fixture
def any_store(db_url: str) -> SqlStore:
    return SqlStore(db_url)


def test_platform_keys_are_stored_only_as_hashes(any_store: SqlStore) -> None:
    with any_store.unit() as unit:
        created = create_platform(unit, "p1")
    with any_store.read() as unit:
        assert authenticate(unit, created.api_key) == created.platform
        assert authenticate(unit, created.api_key + "x") is None
        rows = (
            unit.session.execute(  # type: ignore[attr-defined]
                __import__("sqlalchemy").text("select key_hash from api_keys")
            )
            .scalars()
            .all()
        )
    assert created.api_key not in rows
    any_store.dispose()


def test_rotating_a_key_revokes_the_old_ones(any_store: SqlStore) -> None:
    with any_store.unit() as unit:
        created = create_platform(unit, "p5")
    with any_store.unit() as unit:
        first = rotate_api_key(unit, "p5").api_key
    with any_store.unit() as unit:
        second = rotate_api_key(unit, "p5").api_key
    with any_store.read() as unit:
        assert authenticate(unit, created.api_key) is None
        assert authenticate(unit, first) is None
        assert authenticate(unit, second) == created.platform
        with pytest.raises(UnknownPlatform):
            rotate_api_key(unit, "nowhere")
    any_store.dispose()


def test_accounts_conversations_and_state_round_trip(any_store: SqlStore) -> None:
    now = datetime(2026, 11, 28, 17, 0, tzinfo=UTC)
    with any_store.unit() as unit:
        pid = create_platform(unit, "p2").platform.id
        unit.save_account(Account(pid, "abc", 13, AgeSource.ESTIMATED, now, now), "sealed")
        assert unit.touch_conversation(pid, "c1", now, None) == 1
        assert unit.touch_conversation(pid, "c1", now, None) == 2
        unit.add_message(Message(pid, "c1", "abc", "salut", now, ["def"], "ev-1"), 0.1)
        unit.save_participant_state(pid, "c1", "abc", {"k": [1, 2]}, 0.4, ["secrecy"])
    with any_store.read() as unit:
        acc = unit.get_account(pid, "abc")
        assert acc is not None and acc.age == 13 and acc.age_source is AgeSource.ESTIMATED
        assert unit.external_ref(pid, "abc") == "sealed"
        assert [m.text for m in unit.history(pid, "c1", 10)] == ["salut"]
        assert unit.participant_state(pid, "c1", "abc") == ({"k": [1, 2]}, 0.4, ["secrecy"])
    any_store.dispose()


def test_cases_signals_and_audit_chain(any_store: SqlStore) -> None:
    with any_store.unit() as unit:
        pid = create_platform(unit, "p3").platform.id
        case = Case(
            pid, "abc", "case_1", categories=["secrecy"], risk=0.7, opened_at=datetime.now(UTC)
        )
        unit.save_case(case)
        unit.add_signals(
            pid,
            "ev-1",
            [Signal("text", "secrecy", 0.8, "asks for secrecy")],
            conversation_id="c1",
            subject="abc",
            case_id="case_1",
            at=datetime.now(UTC),
        )
        unit.audit("tester", "case.view", "case_1", {"why": "test"}, pid)
    with any_store.read() as unit:
        found = unit.open_case_for(pid, "abc")
        assert found is not None and found.id == "case_1" and found.categories == ["secrecy"]
        assert [c.id for c in unit.list_cases(pid)] == ["case_1"]
        assert unit.get_case("other-platform", "case_1") is None
        assert verify_chain(unit.session) is None  # type: ignore[attr-defined]
    any_store.dispose()


def test_unit_and_session_audit_entries_share_one_chain(any_store: SqlStore) -> None:
    """The hot path appends on prepared statements, the console through the ORM: one chain."""
    from vigie.store.audit import append_audit

    with any_store.unit() as unit:
        append_audit(unit.session, "alice", "case.view", "case_1", {"n": 1})  # type: ignore[attr-defined]
        unit.audit("pipeline", "case.open", "case_2", {"priority": 2, "rules": ["r"]}, "p")
        unit.audit("pipeline", "case.open", "case_3")
    with any_store.unit() as unit:
        append_audit(unit.session, "bob", "evidence.export", "case_2")  # type: ignore[attr-defined]
    with any_store.read() as unit:
        assert verify_chain(unit.session) is None  # type: ignore[attr-defined]
        rows = unit.session.execute(  # type: ignore[attr-defined]
            text("SELECT target, details FROM audit_log ORDER BY id")
        ).all()
    assert [r[0] for r in rows] == ["case_1", "case_2", "case_3", "case_2"]
    any_store.dispose()


def test_both_callers_writing_at_once_keep_one_chain(any_store: SqlStore) -> None:
    """The pipeline's unit and ORM sessions (console, reports) appending from four threads at
    once: every entry lands in one line the verifier accepts, and an edit to an entry either
    caller wrote is found at that entry."""
    import threading

    from sqlalchemy.orm import Session

    from vigie.store.audit import append_audit

    errors: list[BaseException] = []

    def by_unit(n: int) -> None:
        for i in range(10):
            with any_store.unit() as unit:
                unit.audit(f"unit{n}", "case.open", f"u{n}-{i}", {"i": i}, "p")

    def by_session(n: int) -> None:
        for i in range(10):
            with Session(any_store.engine) as s:
                append_audit(s, f"orm{n}", "case.view", f"s{n}-{i}", {"i": i}, platform_id="p")
                s.commit()

    def run(target: Any, n: int) -> None:
        try:
            target(n)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=run, args=(w, n)) for n, w in enumerate([by_unit, by_session] * 2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    with any_store.unit() as unit:
        session: Session = unit.session  # type: ignore[attr-defined]
        assert verify_chain(session) is None
        rows = session.execute(text("SELECT id, actor FROM audit_log ORDER BY id")).all()
        assert len(rows) == 40 and {r[1][:3] for r in rows} == {"uni", "orm"}
        edited = next(r[0] for r in rows if r[1].startswith("uni"))
        session.execute(text("UPDATE audit_log SET target = 'x' WHERE id = :id"), {"id": edited})
        broken = verify_chain(session)
        assert broken is not None and broken.id == edited
        session.rollback()
    any_store.dispose()


def test_a_failed_unit_writes_nothing(any_store: SqlStore) -> None:
    with any_store.unit() as unit:
        pid = create_platform(unit, "p4").platform.id
    with pytest.raises(RuntimeError), any_store.unit() as unit:
        unit.save_processed(pid, "ev-9", {"id": "ev-9"})
        raise RuntimeError("boom")
    with any_store.read() as unit:
        assert unit.processed_result(pid, "ev-9") is None
    any_store.dispose()
