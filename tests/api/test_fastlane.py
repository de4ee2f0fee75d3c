"""The events lane answers exactly as the FastAPI route does, and steps aside for the rest."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from fastapi.testclient import TestClient

from traffic import accounts, message
from vigie.api import fastlane
from vigie.api.group_commit import GroupCommitter

ACCOUNTS = accounts("fl")


def _message(n: int, text: str) -> dict[str, Any]:
    return message("fl", n, text)


@pytest.fixture
def lane_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the requests the lane answered itself (a cached key and a valid body)."""
    calls: list[int] = []
    original = fastlane._valid

    def counting(body: bytes) -> Any:
        batch = original(body)
        if batch is not None:
            calls.append(len(batch.events))
        return batch

    monkeypatch.setattr(fastlane, "_valid", counting)
    return calls


def test_lane_answers_cached_keys_like_the_route(
    client: TestClient, auth: dict[str, str], lane_calls: list[int]
) -> None:
    first = client.post("/v1/events", json={"events": ACCOUNTS}, headers=auth)
    assert first.status_code == 200 and lane_calls == [2]  # the lane checks the key itself
    risky = _message(1, "c'est notre secret, ne dis rien à tes parents")
    answer = client.post("/v1/events", json={"events": [risky]}, headers=auth)
    assert answer.status_code == 200 and lane_calls == [2, 1]
    result = answer.json()["results"][0]
    assert result["id"] == "fl-m1" and result["signals"]
    assert answer.headers["content-type"] == "application/json"
    # The stored answer (route) and the lane's answer are the same object.
    stored = client.get("/v1/events/fl-m1", headers=auth)
    assert stored.json() == result
    # Repeating the event returns the first answer, through the lane too.
    again = client.post("/v1/events", json={"events": [risky]}, headers=auth)
    assert again.json()["results"][0] == result and lane_calls == [2, 1, 1]


def test_errors_go_to_the_route(
    client: TestClient, auth: dict[str, str], lane_calls: list[int]
) -> None:
    client.post("/v1/events", json={"events": ACCOUNTS}, headers=auth)
    lane_calls.clear()
    bad = client.post("/v1/events", json={"events": [{"type": "message", "id": 1}]}, headers=auth)
    assert bad.status_code == 422 and "fields" in bad.json()
    wrong = client.post(
        "/v1/events", json={"events": ACCOUNTS}, headers={"Authorization": "Bearer vg_nope"}
    )
    assert wrong.status_code == 401
    nul = client.post(
        "/v1/events",
        content=b'{"events": [{"type": "message", "id": "x\\u0000"}]}',
        headers={**auth, "Content-Type": "application/json"},
    )
    assert nul.status_code == 422
    assert lane_calls == []


def test_lane_applies_only_to_sqlite_in_synchronous_mode(client: TestClient) -> None:
    lane = fastlane.EventsLane(client.app, client.app)  # type: ignore[arg-type]
    assert lane._applies()
    client.app.state.settings = client.app.state.settings.model_copy(  # type: ignore[attr-defined]
        update={"bus_url": "nats://127.0.0.1:4222"}
    )
    assert not lane._applies()


class _Store:
    def write_turn(self) -> Any:
        return contextlib.nullcontext()


class _Pipeline:
    """Records the groups it is given; fails any group holding a batch named "bad"."""

    def __init__(self) -> None:
        self.groups: list[int] = []
        self.store = _Store()

    def process_many(self, batches: list[tuple[Any, list[str]]]) -> list[list[dict[str, Any]]]:
        self.groups.append(len(batches))
        if any("bad" in events for _, events in batches):
            raise RuntimeError("bad batch")
        return [[{"id": e} for e in events] for _, events in batches]

    def process_batch(self, platform: Any, events: list[str]) -> list[dict[str, Any]]:
        return self.process_many([(platform, events)])[0]


def test_requests_waiting_together_share_one_transaction() -> None:
    pipeline = _Pipeline()
    committer = GroupCommitter(pipeline)  # type: ignore[arg-type]

    async def run() -> list[Any]:
        return await asyncio.gather(*(committer.process(None, [f"e{n}"]) for n in range(5)))  # type: ignore[arg-type, list-item]

    answers = asyncio.run(run())
    assert answers == [[{"id": f"e{n}"}] for n in range(5)]
    assert pipeline.groups == [5]


def test_a_failing_batch_does_not_fail_the_others_in_its_group() -> None:
    pipeline = _Pipeline()
    committer = GroupCommitter(pipeline)  # type: ignore[arg-type]

    async def run() -> list[Any]:
        jobs = [committer.process(None, [name]) for name in ("ok1", "bad", "ok2")]  # type: ignore[arg-type, list-item]
        return await asyncio.gather(*jobs, return_exceptions=True)

    ok1, bad, ok2 = asyncio.run(run())
    assert ok1 == [{"id": "ok1"}] and ok2 == [{"id": "ok2"}]
    assert isinstance(bad, RuntimeError)
    assert pipeline.groups == [3, 1, 1, 1]  # the group, then each alone


def test_groups_are_capped() -> None:
    pipeline = _Pipeline()
    committer = GroupCommitter(pipeline, max_events=4)  # type: ignore[arg-type]

    async def run() -> None:
        await asyncio.gather(*(committer.process(None, ["a", "b"]) for _ in range(5)))  # type: ignore[arg-type, list-item]

    asyncio.run(run())
    assert pipeline.groups == [2, 2, 1]


def _guarded_client(settings: Any, **api: Any) -> TestClient:
    from vigie.api.app import create_app

    tuned = settings.model_copy(update={"api": settings.api.model_copy(update=api)})
    return TestClient(create_app(tuned))


def _platform_key(client: TestClient) -> dict[str, str]:
    from vigie.platforms import create_platform

    with client.app.state.store.unit() as unit:  # type: ignore[attr-defined]
        key = create_platform(unit, "guarded").api_key
    return {"Authorization": f"Bearer {key}"}


def test_the_lane_counts_each_request_once_against_the_rate_limit(
    settings: Any, lane_calls: list[int]
) -> None:
    with _guarded_client(settings, rate_limit_per_minute=5) as client:
        auth = _platform_key(client)
        codes = [
            client.post("/v1/events", json={"events": [_message(n, "salut")]}, headers=auth)
            for n in range(7)
        ]
    assert [c.status_code for c in codes] == [200] * 5 + [429, 429]
    assert codes[-1].headers["retry-after"] and "too many" in codes[-1].json()["error"]
    assert len(lane_calls) == 5  # the lane looks keys up itself, the first one too


def test_the_lane_leaves_oversized_bodies_to_the_size_guard(
    settings: Any, lane_calls: list[int]
) -> None:
    with _guarded_client(settings, max_body_bytes=400) as client:
        auth = _platform_key(client)
        client.post("/v1/events", json={"events": [_message(0, "salut")]}, headers=auth)
        lane_calls.clear()
        big = client.post("/v1/events", json={"events": [_message(1, "x" * 500)]}, headers=auth)
    assert big.status_code == 413 and "400 bytes" in big.json()["error"]
    assert lane_calls == []


async def _never(self: Any) -> None:
    """A drainer that never serves the queue."""


def test_a_late_decision_answers_504(
    settings: Any, monkeypatch: pytest.MonkeyPatch, lane_calls: list[int]
) -> None:
    with _guarded_client(settings, request_timeout_s=0.05) as client:
        auth = _platform_key(client)
        client.post("/v1/events", json={"events": ACCOUNTS}, headers=auth)  # caches the key
        monkeypatch.setattr(GroupCommitter, "_drain", _never)  # a queue never served
        late = client.post("/v1/events", json={"events": [_message(1, "salut")]}, headers=auth)
    assert late.status_code == 504 and "0.05 s" in late.json()["error"]
    assert lane_calls == [len(ACCOUNTS), 1]


def test_the_committer_gives_up_waiting_after_its_timeout() -> None:
    committer = GroupCommitter(_Pipeline())  # type: ignore[arg-type]
    committer._drain = lambda: _never(committer)  # type: ignore[method-assign]

    async def run() -> None:
        await committer.process(None, ["e"], timeout=0.01)  # type: ignore[arg-type, list-item]

    with pytest.raises(TimeoutError):
        asyncio.run(run())


def test_the_platform_cap_on_events_per_body_holds_on_the_lane_and_the_route(
    settings: Any, lane_calls: list[int]
) -> None:
    with _guarded_client(settings, max_events_per_batch=2) as client:
        auth = _platform_key(client)
        two = [_message(0, "salut"), _message(1, "ça va ?")]
        three = [*two, _message(2, "à demain")]
        over_lane = client.post("/v1/events", json={"events": three}, headers=auth)
        within = client.post("/v1/events", json={"events": two}, headers=auth)
        client.app.events_lane = None  # type: ignore[attr-defined]
        over_route = client.post("/v1/events", json={"events": three}, headers=auth)
    assert within.status_code == 200
    assert lane_calls == [3, 2]  # the lane read the three and answered the route's 422
    for over in (over_route, over_lane):
        assert over.status_code == 422
        assert over.json()["fields"] == [
            {"field": "events", "message": "at most 2 events per batch"}
        ]
