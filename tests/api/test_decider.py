"""The decider process answers the events lane exactly as the serve process would, and the
serve process takes over when it is not there."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from traffic import accounts, message
from vigie.api.app import create_app
from vigie.api.group_commit import GroupCommitter
from vigie.settings import Settings

ACCOUNTS = accounts("dc")


def _message(n: int, text: str) -> dict[str, Any]:
    return message("dc", n, text)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, dict[str, str]]]:
    from vigie.platforms import create_platform
    from vigie.store.migrate import upgrade

    url = f"sqlite:///{Path(tmp_path_factory.mktemp('decider')) / 'd.db'}"
    upgrade(url)
    settings = Settings(database_url=url)
    settings = settings.model_copy(
        update={"api": settings.api.model_copy(update={"decider": "process"})}
    )
    app = create_app(settings)
    with app.state.store.unit() as unit:
        key = create_platform(unit, "decided").api_key
    with TestClient(app) as client:
        deadline = time.monotonic() + 180
        while client.get("/readyz").status_code != 200:  # 503 "starting" while it loads
            assert time.monotonic() < deadline, "decider never became ready"
            time.sleep(0.2)
        yield client, {"Authorization": f"Bearer {key}"}
    app.state.store.dispose()


def test_the_decider_answers_the_lane(
    served: tuple[TestClient, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    client, auth = served
    assert client.app.state.decider.ready  # type: ignore[attr-defined]
    client.post("/v1/events", json={"events": ACCOUNTS}, headers=auth)  # caches the key

    async def not_here(*_: Any, **__: Any) -> Any:
        raise AssertionError("decided in the serve process")

    monkeypatch.setattr(GroupCommitter, "process", not_here)
    risky = _message(1, "c'est notre secret, ne dis rien à tes parents")
    answer = client.post("/v1/events", json={"events": [risky]}, headers=auth)
    assert answer.status_code == 200
    result = answer.json()["results"][0]
    assert result["id"] == "dc-m1" and {s["category"] for s in result["signals"]} >= {"secrecy"}
    assert client.get("/v1/events/dc-m1", headers=auth).json() == result  # stored, same object
    again = client.post("/v1/events", json={"events": [risky]}, headers=auth)
    assert again.json()["results"] == [result]  # idempotent through the decider too


def test_the_serve_process_decides_when_the_decider_is_gone(
    served: tuple[TestClient, dict[str, str]],
) -> None:
    client, auth = served
    decider = client.app.state.decider  # type: ignore[attr-defined]
    decider._process.kill()
    decider._process.wait(10)
    answer = client.post("/v1/events", json={"events": [_message(2, "salut")]}, headers=auth)
    assert answer.status_code == 200 and answer.json()["results"][0]["id"] == "dc-m2"
    assert not decider.ready and not decider.starting
    assert client.get("/readyz").status_code == 200
