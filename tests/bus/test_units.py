"""The pieces of the asynchronous mode that need no server."""

from __future__ import annotations

import json
import logging

from fastapi.testclient import TestClient

from vigie.bus.config import BusConfig
from vigie.bus.envelope import Envelope, message_id
from vigie.bus.partition import ordering_key, partition_of
from vigie.events import AccountEvent, MessageEvent, UserReportEvent
from vigie.logging import JsonFormatter
from vigie.settings import Settings


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
    said = record.text
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
