"""Faults, for real: a worker SIGKILLed mid-batch, NATS restarted, PostgreSQL connections
dropped, poison events. After each, every event is processed exactly once in effect, each
conversation in order, and nothing is lost.
"""

from __future__ import annotations

import time

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bus.conftest import Workers, nats_down, nats_up, run_js
from bus.helpers import post_all, wait_until
from bus.workload import (
    accounts,
    check_exactly_once,
    expected_order,
    messages,
    processed_count,
    roamer_profile,
)
from vigie.bus.deadletter import list_dead_letters
from vigie.events import AccountEvent
from vigie.store.sql import SqlStore
from vigie.store.tables import AuditRow
from vigie.transport.config import BusConfig
from vigie.transport.envelope import Envelope
from vigie.transport.partition import ordering_key, partition_of

pytestmark = [pytest.mark.nats, pytest.mark.postgres, pytest.mark.slow]
CONVS, ROAM = 14, 4


def _traffic(tag: str) -> tuple[list[dict], list[dict]]:
    return accounts(tag, CONVS, ROAM), messages(tag, CONVS, ROAM)


def _finish(
    store: SqlStore, platform_id: str, workers: Workers, tag: str, events: list[dict]
) -> None:
    wait_until(
        lambda: processed_count(store, platform_id) == len(events),
        120,
        "every event processed",
        workers.log_text,
    )
    time.sleep(1.0)  # let any late redelivery land: it must change nothing
    check_exactly_once(
        store, platform_id, [e["id"] for e in events], expected_order(tag, CONVS, ROAM)
    )
    profile = roamer_profile(store, platform_id)
    assert len(profile["conversations"]) == ROAM


def test_worker_killed_mid_batch_loses_nothing(
    bus_client: TestClient,
    workers: Workers,
    pg_store: SqlStore,
    platform_id_key: tuple[str, str],
) -> None:
    platform_id = platform_id_key[0]
    people, talk = _traffic("k")
    post_all(bus_client, people + talk)
    doomed = workers.start("doomed")
    workers.start("survivor")
    wait_until(
        lambda: processed_count(pg_store, platform_id) >= 30,
        60,
        "processing under way",
        workers.log_text,
    )
    workers.kill(doomed)  # SIGKILL: no clean-up, un-acked batch in flight
    assert processed_count(pg_store, platform_id) < len(people + talk)
    _finish(pg_store, platform_id, workers, "k", people + talk)


def test_nats_restart_loses_nothing(
    bus_client: TestClient,
    workers: Workers,
    pg_store: SqlStore,
    platform_id_key: tuple[str, str],
) -> None:
    platform_id = platform_id_key[0]
    people, talk = _traffic("n")
    half = len(talk) // 2
    post_all(bus_client, people + talk[:half])
    workers.start("w1")
    workers.start("w2")
    wait_until(
        lambda: processed_count(pg_store, platform_id) >= 20,
        60,
        "processing under way",
        workers.log_text,
    )
    try:
        nats_down()
        refused = bus_client.post("/v1/events", json={"events": talk[half : half + 5]})
        assert refused.status_code == 503 and "Retry-After" in refused.headers
        time.sleep(2)
    finally:
        nats_up()
    post_all(bus_client, talk[half:])  # retries on 503 until the publisher has reconnected
    _finish(pg_store, platform_id, workers, "n", people + talk)


def test_postgres_connections_dropped_loses_nothing(
    bus_client: TestClient,
    workers: Workers,
    pg_store: SqlStore,
    platform_id_key: tuple[str, str],
    postgres_url: str,
) -> None:
    platform_id = platform_id_key[0]
    people, talk = _traffic("p")
    post_all(bus_client, people + talk)
    workers.start("w1")
    workers.start("w2")
    wait_until(
        lambda: processed_count(pg_store, platform_id) >= 20,
        60,
        "processing under way",
        workers.log_text,
    )
    url = make_url(postgres_url)
    killed = 0
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname="postgres", autocommit=True
    ) as admin:
        for _ in range(3):
            rows = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (url.database,),
            ).fetchall()
            killed += len(rows)
            time.sleep(0.7)
    assert killed > 0
    _finish(pg_store, platform_id, workers, "p", people + talk)
    assert "database unavailable, retrying" in workers.log_text() or killed


def test_poison_events_go_to_dead_letters_and_the_partition_moves_on(
    bus_client: TestClient,
    workers: Workers,
    pg_store: SqlStore,
    platform_id_key: tuple[str, str],
    bus_config: BusConfig,
) -> None:
    platform_id = platform_id_key[0]
    good = accounts("d", 6, 0)
    post_all(bus_client, good[:3])
    ghost = AccountEvent(type="account", id="ghost-1", account="ghost", age=20)
    part = partition_of("pf_missing", ordering_key(ghost), bus_config.partitions)

    async def inject(js):  # type: ignore[no-untyped-def]
        subject = bus_config.partition_subject(part)
        await js.publish(subject, Envelope("pf_missing", ghost, time.time()).encode())
        await js.publish(subject, b"{not json")

    run_js(bus_config, inject)
    post_all(bus_client, good[3:])
    workers.start("w1")
    wait_until(
        lambda: processed_count(pg_store, platform_id) == len(good),
        60,
        "good events processed",
        workers.log_text,
    )
    dead: list[dict] = []

    def two_dead() -> bool:
        dead[:] = run_js(bus_config, lambda js: list_dead_letters(js, bus_config))
        return len(dead) == 2

    wait_until(two_dead, 60, "two dead letters", workers.log_text)
    kinds = sorted(str(d["type"]) for d in dead)
    assert kinds == ["account", "malformed"]
    assert all(int(d["partition"]) == part for d in dead)
    assert {d["event"] for d in dead} == {"ghost-1", None}
    with pg_store.read() as unit:  # the console's audit view shows it
        audited = (
            unit.session.execute(
                select(AuditRow.target).where(AuditRow.action == "event.dead_letter")
            )
            .scalars()
            .all()
        )
    assert audited == ["ghost-1"]
