"""Small helpers shared by the security tests."""

from __future__ import annotations

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
