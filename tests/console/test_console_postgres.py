"""The console's SQL on PostgreSQL: queues, case view, race-safe claims, dashboard, export."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from console_seed import URGENT_ORDER, ConsoleEnv, csrf_in, log_in, seed
from fastapi.testclient import TestClient

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
