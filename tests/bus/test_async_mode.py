"""Asynchronous mode end to end: API → JetStream → two worker processes → PostgreSQL."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from bus.conftest import Workers, bus_settings
from bus.helpers import post_all, wait_until
from bus.workload import (
    accounts,
    check_exactly_once,
    expected_order,
    messages,
    processed_count,
    roamer_profile,
)
from vigie.api.app import create_app
from vigie.platforms import create_platform
from vigie.store.sql import SqlStore
from vigie.transport.config import BusConfig

pytestmark = [pytest.mark.nats, pytest.mark.postgres]


def _reference(sqlite_url: str, events: list[dict]) -> dict[str, dict]:
    """The same traffic through the synchronous API: what the workers must decide."""
    app = create_app(bus_settings(sqlite_url, None))
    with TestClient(app) as client, app.state.store.unit() as unit:
        key = create_platform(unit, "ref", "http://127.0.0.1:9/hook").api_key
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {key}"
        answer = client.post("/v1/events", json={"events": events})
        assert answer.status_code == 200, answer.text
        results = answer.json()["results"]
    app.state.store.dispose()
    return {r["id"]: r for r in results}


def test_events_are_accepted_then_processed_once_in_order(
    bus_client: TestClient,
    workers: Workers,
    pg_store: SqlStore,
    platform_id_key: tuple[str, str],
    sqlite_url: str,
    bus_config: BusConfig,
) -> None:
    platform_id = platform_id_key[0]
    people, talk = accounts("t1", 8, 3), messages("t1", 8, 3)
    events = people + talk
    accepted = post_all(bus_client, people)
    assert accepted == [e["id"] for e in people]
    assert bus_client.get(f"/v1/events/{people[0]['id']}").status_code == 404

    workers.start("w1")
    workers.start("w2")
    # Accounts come first, as on a platform (sign-up long before chat): ordering is per
    # conversation, so a message may not overtake the account event of its recipient.
    wait_until(
        lambda: processed_count(pg_store, platform_id) == len(people),
        90,
        "accounts processed",
        workers.log_text,
    )
    accepted += post_all(bus_client, talk)
    wait_until(
        lambda: processed_count(pg_store, platform_id) == len(events),
        90,
        "all events processed",
        workers.log_text,
    )

    counts = check_exactly_once(pg_store, platform_id, accepted, expected_order("t1", 8, 3))
    assert counts["cases"] >= 1
    reference = _reference(sqlite_url, events)
    for event in events:
        answer = bus_client.get(f"/v1/events/{event['id']}")
        assert answer.status_code == 200
        if event.get("sender") == "roamer":
            continue  # the order *across* its conversations is not defined, nor its history
        got, want = answer.json(), reference[event["id"]]
        assert (got["decision"], bool(got["case"]), got["actions"]) == (
            want["decision"],
            bool(want["case"]),
            want["actions"],
        ), event["id"]
    profile = roamer_profile(pg_store, platform_id)
    assert len(profile["minor_contacts"]) == 3 and len(profile["conversations"]) == 3
    logs = workers.log_text()
    assert "partition taken" in logs and "hey, good game" not in logs  # no texts in logs


def test_readiness_and_metrics_in_async_mode(bus_client: TestClient) -> None:
    assert bus_client.get("/readyz").json() == {"status": "ready"}
    post_all(bus_client, accounts("t2", 1, 0))
    text = bus_client.get("/metrics").text
    assert 'vigie_events_in_total{mode="async"}' in text
    assert "vigie_end_to_end_seconds_bucket" in text


def test_backlog_over_the_bound_answers_503_with_retry_after(
    postgres_url: str,
    bus_config: BusConfig,
    platform_id_key: tuple[str, str],
) -> None:
    from dataclasses import replace

    app = create_app(bus_settings(postgres_url, bus_config.url))
    app.state.bus_config = replace(bus_config, max_backlog=10)
    with TestClient(app) as client:
        client.headers["Authorization"] = f"Bearer {platform_id_key[1]}"
        events = accounts("t3", 12, 0)
        first = client.post("/v1/events", json={"events": events[:8]})
        assert first.status_code == 202
        import time

        time.sleep(0.6)  # the publisher re-reads the backlog twice a second
        refused = client.post("/v1/events", json={"events": events[8:]})
        assert refused.status_code == 503
        assert refused.headers["Retry-After"] == str(bus_config.retry_after_s)
        assert "backlog" in refused.json()["error"]
    app.state.bus_publisher.close()
    app.state.store.dispose()
