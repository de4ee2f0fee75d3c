"""The pieces of the asynchronous mode that need no server."""

from __future__ import annotations

import json
import logging

from fastapi.testclient import TestClient

from vigie.events import AccountEvent, MessageEvent, UserReportEvent
from vigie.logging import JsonFormatter
from vigie.settings import Settings
from vigie.transport.config import BusConfig
from vigie.transport.envelope import Envelope, message_id
from vigie.transport.partition import ordering_key, partition_of


def _message(conv: str, sender: str = "u1") -> MessageEvent:
    return MessageEvent(type="message", id="e1", conversation=conv, sender=sender, text="hi")


def test_one_conversation_always_lands_in_one_partition() -> None:
    a, b = _message("c-1", "u1"), _message("c-1", "u2")
    assert ordering_key(a) == ordering_key(b) == "c:c-1"
    assert partition_of("pf", ordering_key(a), 64) == partition_of("pf", ordering_key(b), 64)
    report = UserReportEvent(
        type="user_report", id="r", reporter="x", subject="y", conversation="c-1"
    )
    assert ordering_key(report) == "c:c-1"
    assert ordering_key(AccountEvent(type="account", id="a", account="y")) == "a:y"
    spread = {partition_of("pf", f"c:{i}", 16) for i in range(400)}
    assert spread == set(range(16))


def test_config_reads_bus_settings_from_the_environment() -> None:
    settings = Settings(bus_url="nats://a:4222, nats://b:4222")
    config = BusConfig.from_settings(
        settings,
        {"VIGIE_BUS_PARTITIONS": "8", "VIGIE_BUS_STREAM": "S", "VIGIE_BUS_ACK_WAIT_S": "3"},
    )
    assert (config.partitions, config.stream, config.ack_wait_s) == (8, "S", 3.0)
    assert config.servers == ["nats://a:4222", "nats://b:4222"]
    assert config.partition_subject(3) == "vigie.events.3"
    assert not config.dead_subject.startswith(config.subject + ".")  # outside the stream


def test_envelope_round_trip_and_dedup_key() -> None:
    env = Envelope("pf_1", _message("c"), 1234.5)
    back = Envelope.decode(env.encode())
    assert back == env
    key = message_id("pf_1", "id with spaces\nand é")
    assert key.isascii() and len(key) == 32 and key != message_id("pf_2", "id with spaces\nand é")


def test_json_logs_never_carry_texts_or_secrets() -> None:
    record = logging.LogRecord("vigie", logging.WARNING, __file__, 1, "batch failed", None, None)
    record.partition = 3
    record.text = "a child's message"
    record.api_key = "vk_secret"
    said = record.__dict__["text"]
    try:
        raise ValueError(f"input_value={said!r}")  # as pydantic quotes input
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "batch failed" and line["partition"] == 3
    assert line["error"] == "ValueError"
    assert "child" not in json.dumps(line) and "vk_secret" not in json.dumps(line)


def test_sync_mode_keeps_200_and_serves_results_and_metrics(
    client: TestClient, auth: dict[str, str]
) -> None:
    event = {"type": "account", "id": "acc-1", "account": "u-1", "age": 30}
    answer = client.post("/v1/events", json={"events": [event]}, headers=auth)
    assert answer.status_code == 200
    assert client.get("/v1/events/acc-1", headers=auth).json() == answer.json()["results"][0]
    assert client.get("/v1/events/nope", headers=auth).status_code == 404
    assert client.get("/v1/events/acc-1").status_code == 401
    metrics = client.get("/metrics").text
    assert 'vigie_events_in_total{mode="sync"}' in metrics
    assert 'vigie_decisions_total{decision="allow"}' in metrics


def test_database_faults_are_retried_whether_or_not_sqlalchemy_wrapped_them() -> None:
    """The hot path runs on the driver's cursor, so a deadlock arrives as psycopg's own error:
    it must be retried in place, not taken for a poison event and dead-lettered."""
    import sqlite3

    import psycopg
    from sqlalchemy.exc import IntegrityError, OperationalError

    from vigie.bus.fencing import transient

    for fault in (
        psycopg.errors.DeadlockDetected("deadlock detected"),
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.errors.SerializationFailure("could not serialize access"),
        psycopg.InterfaceError("the connection is closed"),
        sqlite3.OperationalError("database is locked"),
        OperationalError("SELECT 1", {}, psycopg.OperationalError("server closed")),
    ):
        assert transient(fault), fault
    for error in (
        ValueError("bad event"),
        psycopg.errors.UniqueViolation("duplicate key"),
        IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation("duplicate key")),
    ):
        assert not transient(error), error


def test_a_partition_to_hand_back_whose_consumer_already_stopped_is_released() -> None:
    """Found by the dropped-connections fault test: after ownership was lost and taken back,
    a worker held one partition too many whose consumer had stopped on its own. Handing back
    only the partitions it was consuming kept that lock for ever: nobody read the partition."""
    import asyncio

    from vigie.bus.worker import Worker, _Slot

    class Ownership:
        def __init__(self) -> None:
            self.released: list[int] = []

        def rebalance(self) -> tuple[set[int], set[int]]:
            return {0, 1, 2}, {2}  # three held, two wanted: hand back 2

        def release(self, partition: int) -> None:
            self.released.append(partition)

    async def scenario() -> tuple[list[int], set[int]]:
        worker = Worker.__new__(Worker)
        worker.name, worker.ownership = "w", Ownership()  # type: ignore[assignment]
        busy = [asyncio.create_task(asyncio.sleep(60)) for _ in range(2)]
        stopped = asyncio.create_task(asyncio.sleep(0))
        await stopped
        worker._slots = {0: _Slot(0, task=busy[0]), 1: _Slot(1, task=busy[1])}
        worker._slots[2] = _Slot(2, task=stopped)  # its consumer ended on its own
        await worker._rebalance(None)  # type: ignore[arg-type]
        for task in busy:
            task.cancel()
        return worker.ownership.released, set(worker._slots)  # type: ignore[attr-defined]

    released, consuming = asyncio.run(scenario())
    assert released == [2] and consuming == {0, 1}
