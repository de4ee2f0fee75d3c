"""Fixtures of the security suite: an app on a fresh SQLite database and platforms on it.

The semantic stage is off: these tests prove doors, limits and parsers, not detection quality,
and loading an embedding model would cost most of the suite's one-minute budget.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from vigie.api.app import create_app
from vigie.settings import Settings
from vigie.store.migrate import upgrade


def security_settings(url: str, **api: Any) -> Settings:
    return Settings(
        database_url=url, deliver_webhooks=False, detection={"semantic": False}, api=api
    )


@pytest.fixture(scope="module")
def module_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One migrated database per test module (migrations cost more than the tests)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('security')}/vigie.db"
    upgrade(url)
    return url


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """Build an app on a fresh database with chosen API settings; cleaned up after the test."""
    apps: list[FastAPI] = []
    clients: list[TestClient] = []

    def build(**api: Any) -> TestClient:
        url = f"sqlite:///{tmp_path}/vigie-{len(apps)}.db"
        upgrade(url)
        app = create_app(security_settings(url, **api))
        apps.append(app)
        client = TestClient(app, raise_server_exceptions=False)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.close()
    for app in apps:
        app.state.store.dispose()
