"""The console's SQL on PostgreSQL: queues, case view, race-safe claims, dashboard, export."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from console_seed import URGENT_ORDER, ConsoleEnv, csrf_in, log_in, seed
from fastapi.testclient import TestClient
from sqlalchemy import select

from vigie.api.app import create_app
from vigie.console import queries as q
from vigie.settings import Settings
from vigie.store.sql import SqlStore

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_console(postgres_url: str) -> Iterator[ConsoleEnv]:
    settings = Settings(database_url=postgres_url, secret_key="pg-secret-" + "z" * 20)
    info = seed(postgres_url, settings)
    app = create_app(settings)
    yield ConsoleEnv(
        app, postgres_url, info["demo_case"], lambda email: log_in(TestClient(app), email)
    )
    app.state.store.dispose()


def test_claim_race_on_postgres(pg_console: ConsoleEnv) -> None:
    store = SqlStore(pg_console.url)
    wins: list[bool] = []
    barrier = threading.Barrier(8)

    def grab(i: int) -> None:
        barrier.wait()
        with store.unit() as unit:
            wins.append(
                q.claim_case(unit.session, "case-low", f"o{i}@x", ("open",), datetime.now(UTC))
            )

    threads = [threading.Thread(target=grab, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.dispose()
    assert wins.count(True) == 1


def test_pages_on_postgres(pg_console: ConsoleEnv) -> None:
    mod = pg_console.login("mod@vigie.test")
    page = mod.get("/console/queues").text
    positions = [page.index(f'data-case="{c}"') for c in URGENT_ORDER]
    assert positions == sorted(positions)
    case_page = mod.get(f"/console/cases/{pg_console.demo_case}")
    assert case_page.status_code == 200 and "<mark>" in case_page.text
    token = csrf_in(case_page.text)
    mod.post(f"/console/cases/{pg_console.demo_case}/claim", data={"csrf": token})
    mod.post(
        f"/console/cases/{pg_console.demo_case}/decide",
        data={"csrf": token, "kind": "warn", "rule": "risk_review_minor"},
    )
    auditor = pg_console.login("audit@vigie.test")
    assert "warn" in auditor.get("/console/decisions.csv").text
    assert auditor.get("/console/dashboard").status_code == 200
    assert "Chain intact" in auditor.get("/console/audit?verify=1").text


def test_login_failures_at_once_are_all_counted_on_postgres(pg_console: ConsoleEnv) -> None:
    """Failures of one (e-mail, address) pair from several processes at once: one row, every
    failure counted (no lost update, no duplicate-key error)."""
    from vigie.console.security import backoff
    from vigie.store.console_tables import LoginBackoffRow

    store = SqlStore(pg_console.url)
    barrier = threading.Barrier(6)

    def fail() -> None:
        barrier.wait()
        with store.unit() as unit:
            at = datetime.now(UTC)
            q.record_login_failure(unit.session, "x@y", "10.0.0.1", at, backoff, timedelta(days=1))

    threads = [threading.Thread(target=fail) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with store.read() as unit:
        rows = list(unit.session.scalars(select(LoginBackoffRow)))
    store.dispose()
    assert [r.failures for r in rows] == [6]
