"""Small helpers shared by the security tests."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient

from vigie.platforms import create_platform


def new_key(client: TestClient, name: str) -> str:
    """A fresh platform on the client's app; returns its API key."""
    app: Any = client.app
    with app.state.store.unit() as unit:
        return create_platform(unit, name).api_key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database (any scope), dropped afterwards.

    Skips (or fails under CI=true) when the server is not reachable, like tests/conftest.py.
    """
    import psycopg

    from services import PG_HOST, PG_PORT, require_postgres
    from vigie.store.migrate import upgrade

    require_postgres()
    name = "vigie_sec_" + secrets.token_hex(6)

    def admin(sql: str) -> None:
        with psycopg.connect(
            host=PG_HOST, port=PG_PORT, user="postgres", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(sql)

    admin(f'CREATE DATABASE "{name}"')
    try:
        url = f"postgresql+psycopg://postgres@{PG_HOST}:{PG_PORT}/{name}"
        upgrade(url)
        yield url
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
