"""Webhooks: signed as the contract says, queued in the outbox, retried until a 2xx."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from vigie.actions.dispatcher import DispatchConfig, backoff, deliver_due, start_dispatcher
from vigie.domain.webhooks import sign, verify_signature, webhook_payload
from vigie.store.engine import make_engine
from vigie.store.outbox import WebhookOutboxRow, enqueue_actions, enqueue_webhook

SECRET = "whsec-test"
T0 = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)


class Receiver:
    """A real HTTP server on localhost that fails the first ``fail`` requests with 503."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.received: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ok = verify_signature(SECRET, self.headers["Vigie-Signature"], body)
                outer.received.append({"body": body, "ok": ok, "headers": dict(self.headers)})
                code = 503 if len(outer.received) <= outer.fail else (200 if ok else 400)
                self.send_response(code)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path}/outbox.db")
    WebhookOutboxRow.metadata.create_all(eng, tables=[WebhookOutboxRow.__table__])  # type: ignore[list-item]
    yield eng
    eng.dispose()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def queue(engine: Engine, url: str, action: str = "warn_child", event: str = "ev-1") -> str:
    payload = webhook_payload("p1", action, event, "subj-1", "case-1", T0)
    with Session(engine) as session:
        enqueue_webhook(session, "p1", url, SECRET, payload, now=T0)
        session.commit()
    return str(payload["id"])


def rows(engine: Engine) -> list[WebhookOutboxRow]:
    with Session(engine) as session:
        return list(session.scalars(select(WebhookOutboxRow)).all())


def test_payload_has_exactly_the_contract_fields() -> None:
    payload = webhook_payload("p1", "block", "ev-9", "s", None, T0)
    assert set(payload) == {"id", "action", "event", "subject", "case", "at"}
    assert payload["at"] == "2026-11-28T18:00:00Z"
    assert payload["id"] == webhook_payload("p1", "block", "ev-9", "s", None)["id"]
    assert payload["id"] != webhook_payload("p1", "open_case", "ev-9", "s", None)["id"]


def test_signature_roundtrip_and_replay_window() -> None:
    body = b'{"id":"x"}'
    header = sign(SECRET, body, timestamp=1_000_000)
    assert header.startswith("t=1000000,v1=")
    assert verify_signature(SECRET, header, body, now=1_000_000 + 299)
    assert not verify_signature(SECRET, header, body, now=1_000_000 + 301)
    assert not verify_signature("other", header, body, now=1_000_000)
    assert not verify_signature(SECRET, header, body + b" ", now=1_000_000)
    assert not verify_signature(SECRET, None, body)
    assert not verify_signature(SECRET, "garbage", body)


def test_signature_matches_the_contract_formula() -> None:
    import hashlib
    import hmac

    body = '{"a":1}'
    expected = hmac.new(SECRET.encode(), b"42." + body.encode(), hashlib.sha256).hexdigest()
    assert sign(SECRET, body, 42) == f"t=42,v1={expected}"


def test_delivers_signed_payload_once(engine: Engine, receiver: Receiver) -> None:
    pid = queue(engine, receiver.url)
    assert deliver_due(engine, T0) == 1
    assert deliver_due(engine, T0 + timedelta(hours=1)) == 0
    [got] = receiver.received
    assert got["ok"]
    assert json.loads(got["body"])["id"] == pid
    assert got["headers"]["Idempotency-Key"] == pid
    [row] = rows(engine)
    assert row.status == "delivered" and row.attempts == 1


def test_failing_then_succeeding_receiver_is_retried_with_backoff(engine: Engine) -> None:
    receiver = Receiver(fail=2)
    try:
        queue(engine, receiver.url)
        assert deliver_due(engine, T0) == 0
        assert deliver_due(engine, T0 + timedelta(seconds=1)) == 0, "not due before back-off"
        assert deliver_due(engine, T0 + timedelta(seconds=2)) == 0  # second failure
        assert rows(engine)[0].attempts == 2
        assert deliver_due(engine, T0 + timedelta(seconds=5)) == 0, "4 s after 2nd failure"
        assert deliver_due(engine, T0 + timedelta(seconds=6)) == 1
    finally:
        receiver.close()
    assert len(receiver.received) == 3
    [row] = rows(engine)
    assert row.status == "delivered" and row.attempts == 3 and row.last_status == 200


def test_unreachable_receiver_stays_pending(engine: Engine) -> None:
    queue(engine, "http://127.0.0.1:9/nothing-listens-here")
    assert deliver_due(engine, T0, DispatchConfig(timeout_s=1)) == 0
    [row] = rows(engine)
    assert row.status == "pending" and row.attempts == 1 and row.last_error


def test_backoff_doubles_and_is_capped() -> None:
    cfg = DispatchConfig()
    assert [backoff(n, cfg) for n in (1, 2, 3, 4)] == [2, 4, 8, 16]
    assert backoff(40, cfg) == 3600


def test_enqueue_is_idempotent_and_rolls_back_with_the_transaction(engine: Engine) -> None:
    with Session(engine) as session:
        n = enqueue_actions(
            session,
            "p1",
            "http://x",
            SECRET,
            "ev-1",
            "s",
            "c",
            ["allow", "warn_child", "open_case"],
            T0,
        )
        assert n == 2
        assert (
            enqueue_actions(session, "p1", "http://x", SECRET, "ev-1", "s", "c", ["warn_child"], T0)
            == 0
        )
        session.rollback()
    assert rows(engine) == []
    with Session(engine) as session:
        enqueue_actions(session, "p1", "http://x", SECRET, "ev-1", "s", "c", ["block"], T0)
        session.commit()
    with Session(engine) as session:
        assert (
            enqueue_actions(session, "p1", "http://x", SECRET, "ev-1", "s", "c", ["block"], T0) == 0
        )
    assert enqueue_actions(Session(engine), "p1", None, None, "e", "s", None, ["block"]) == 0


def test_extra_fields_are_added_not_renamed(engine: Engine) -> None:
    with Session(engine) as session:
        enqueue_actions(
            session,
            "p1",
            "http://x",
            SECRET,
            "ev-2",
            "s",
            None,
            ["warn_child"],
            T0,
            extra={"warn_child": {"safety": {"text": "hi"}, "id": "nope"}},
        )
        session.commit()
    body = json.loads(rows(engine)[0].body)
    assert body["safety"] == {"text": "hi"} and body["id"].startswith("wh_")


def test_background_dispatcher_delivers_and_stops(engine: Engine, receiver: Receiver) -> None:
    handle = start_dispatcher(engine)
    try:
        with Session(engine) as session:
            payload = webhook_payload("p1", "block", "ev-bg", "s", None)
            enqueue_webhook(session, "p1", receiver.url, SECRET, payload)
            session.commit()
        for _ in range(100):
            if receiver.received:
                break
            threading.Event().wait(0.05)
    finally:
        handle.stop()
    assert not handle.alive
    assert len(receiver.received) == 1 and receiver.received[0]["ok"]


@pytest.mark.postgres
def test_outbox_on_postgres(postgres_url: str, receiver: Receiver) -> None:
    eng = make_engine(postgres_url)
    try:
        with Session(eng) as session:
            assert (
                enqueue_actions(
                    session,
                    "p1",
                    receiver.url,
                    SECRET,
                    "ev-pg",
                    "s",
                    None,
                    ["block", "open_case", "block"],
                    T0,
                )
                == 2
            )
            session.commit()
        with Session(eng) as session:
            assert (
                enqueue_actions(
                    session, "p1", receiver.url, SECRET, "ev-pg", "s", None, ["block"], T0
                )
                == 0
            )
        assert deliver_due(eng) == 2
        assert all(r["ok"] for r in receiver.received)
        assert {r.status for r in rows(eng)} == {"delivered"}
    finally:
        eng.dispose()
