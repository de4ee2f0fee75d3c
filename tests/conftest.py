"""Shared fixtures: migrated databases (SQLite and PostgreSQL), stores, an app, a platform."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from services import PG_HOST, PG_PORT, require_postgres
from vigie.api.app import create_app
from vigie.settings import Settings
from vigie.store.migrate import upgrade
from vigie.store.sql import SqlStore


def _admin_exec(sql: str) -> None:
    import psycopg

    with psycopg.connect(
        host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(sql)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/vigie.db"
    upgrade(url)
    return url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for one test, dropped afterwards."""
    require_postgres()
    name = "vigie_test_" + secrets.token_hex(6)
    _admin_exec(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        _admin_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Runs a test on both databases."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def store(sqlite_url: str) -> Iterator[SqlStore]:
    s = SqlStore(sqlite_url)
    yield s
    s.dispose()


@pytest.fixture
def settings(sqlite_url: str) -> Settings:
    return Settings(database_url=sqlite_url)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as c:
        yield c
    app.state.store.dispose()


@pytest.fixture
def api_key(client: TestClient) -> str:
    from vigie.platforms import create_platform

    with client.app.state.store.unit() as unit:  # type: ignore[attr-defined]
        return create_platform(unit, "test-platform").api_key


@pytest.fixture
def auth(api_key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"}
