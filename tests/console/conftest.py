"""Console fixtures: one seeded app per test, and logged-in clients per officer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from console_seed import ConsoleEnv, log_in, reports_settings, seed
from fastapi.testclient import TestClient

from vigie.api.app import create_app
from vigie.settings import Settings


@pytest.fixture
def console(sqlite_url: str, tmp_path: Path) -> Iterator[ConsoleEnv]:
    settings = Settings(
        database_url=sqlite_url,
        secret_key="test-secret-" + "x" * 20,
        reports=reports_settings(tmp_path),
    )
    info = seed(sqlite_url, settings)
    app = create_app(settings)

    def login(email: str) -> TestClient:
        return log_in(TestClient(app, base_url="http://testserver"), email)

    yield ConsoleEnv(app, sqlite_url, info["demo_case"], login)
    app.state.store.dispose()
