"""The Python client (``clients/python``) against a live ``vigie serve``, sync and async.

No mocks: every call crosses HTTP to a real server process, so what is checked here (batches,
idempotent retries, 429 with Retry-After, typed errors, media upload, webhooks) is what a
platform using the client gets.
"""

from __future__ import annotations

import asyncio
import io
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from PIL import Image

from served import Served, free_port, serve_env, served
from vigie_client import (
    AccountEvent,
    AsyncVigieClient,
    AuthError,
    MediaEvent,
    MessageEvent,
    RateLimitError,
    RetryPolicy,
    ServerError,
    SignatureError,
    UserReport,
    ValidationError,
    VigieClient,
    parse_webhook,
)

# Events are decided in the serve process itself, without the sentence encoder: what is
# tested here is the HTTP contract, and the server is up in seconds.
LOOP = {"VIGIE_API__DECIDER": "loop", "VIGIE_DETECTION__SEMANTIC": "false"}


@pytest.fixture(scope="module")
def vigie(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("client")
    with served(tmp, env=serve_env(tmp, **LOOP)) as server:
        yield server


def _png(shade: int = 0) -> bytes:
    img = Image.new("RGB", (128, 96))
    for x in range(128):
        for y in range(96):
            img.putpixel((x, y), ((x * 2 + shade) % 256, y * 2, (x + y) % 256))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _chat(prefix: str) -> list[AccountEvent | MessageEvent]:
    adult, child = f"{prefix}-adult", f"{prefix}-child"
    return [
        AccountEvent(adult, age=34, age_source="declared"),
        AccountEvent(child, age=12, age_source="declared"),
        *(
            MessageEvent(f"{prefix}-c", adult, text, recipients=[child])
            for text in ("salut", "tu joues à quoi ?", "bonne partie")
        ),
    ]


def test_batches_are_sent_in_order_with_one_result_per_event(vigie: Served) -> None:
    events = _chat("batch")
    with VigieClient(vigie.url, vigie.key, batch_size=2) as client:
        sent = client.send_events(events)
    assert [r.id for r in sent.results] == [e.id for e in events]
    assert {r.decision for r in sent.results} == {"allow"}
    assert sent.accepted == []


def test_sending_the_same_events_again_is_answered_from_the_first_time(vigie: Served) -> None:
    report = UserReport("idem-child", "idem-adult", "idem-c", "asked me to keep a secret")
    with VigieClient(vigie.url, vigie.key) as client:
        first = client.send(report)
        cases = len(client.list_cases())
        again = client.send(report)  # a retry after a lost answer sends the same id
        assert again == first
        assert len(client.list_cases()) == cases


def test_cases_are_read_back_with_the_platform_s_own_account_ids(vigie: Served) -> None:
    with VigieClient(vigie.url, vigie.key) as client:
        client.send_events(
            [
                AccountEvent("case-adult", age=41),
                AccountEvent("case-child", age=11),
                UserReport("case-child", "case-adult", "case-c", "wants my photos, says secret"),
            ]
        )
        cases = client.list_cases(limit=50)
    assert any(c.subject == "case-adult" and c.status for c in cases)


def test_a_wrong_key_is_an_auth_error(vigie: Served) -> None:
    with VigieClient(vigie.url, "vg_" + "x" * 43) as client, pytest.raises(AuthError):
        client.list_cases()


def test_a_refused_body_names_the_field(vigie: Served) -> None:
    too_long = MessageEvent("val-c", "val-a", "x" * 20001)
    with VigieClient(vigie.url, vigie.key) as client, pytest.raises(ValidationError) as err:
        client.send(too_long)
    assert err.value.field == "events.0.message.text"
    assert err.value.status == 422


def test_media_upload_is_hashed_and_decided(vigie: Served) -> None:
    media = MediaEvent("up-a", "up-c", ["up-b"])
    with VigieClient(vigie.url, vigie.key) as client:
        result = client.upload_media(media, _png(), "cat.png")
        assert result.id == media.id and result.decision == "allow"
        with pytest.raises(ValidationError) as err:
            client.upload_media(MediaEvent("up-a", "up-c"), b"not an image", "x.png")
    assert err.value.field == "file"


def test_the_async_client_does_the_same(vigie: Served) -> None:
    async def run() -> None:
        events = _chat("async")
        async with AsyncVigieClient(vigie.url, vigie.key, batch_size=3) as client:
            sent = await client.send_events(events)
            assert [r.id for r in sent.results] == [e.id for e in events]
            assert (await client.send_events(events)).results == sent.results
            assert (await client.get_result(events[0].id)) == sent.results[0]
            media = await client.upload_media(MediaEvent("async-a"), _png(7), "a.png")
            assert media.decision == "allow"
        async with AsyncVigieClient(vigie.url, "vg_wrong") as bad:
            with pytest.raises(AuthError):
                await bad.list_cases()

    asyncio.run(run())


def test_nobody_listening_is_a_server_error_after_the_retries() -> None:
    waits: list[float] = []
    policy = RetryPolicy(max_attempts=3, base_delay_s=0.01)
    url = f"http://127.0.0.1:{free_port()}"
    client = VigieClient(url, "vg_x", retry=policy, sleep=waits.append)
    with client, pytest.raises(ServerError):
        client.list_cases()
    assert len(waits) == 2


def test_429_waits_for_retry_after_then_goes_on(tmp_path: Path) -> None:
    # 20 requests a minute: the 21st waits about 3 s for its token.
    env = serve_env(tmp_path, **LOOP, VIGIE_API__RATE_LIMIT_PER_MINUTE="20")
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        threading.Event().wait(seconds)

    events = [AccountEvent(f"rl-{n}", age=30) for n in range(22)]
    with served(tmp_path, env=env) as vigie:
        with VigieClient(vigie.url, vigie.key, batch_size=1, sleep=sleep) as client:
            sent = client.send_events(events)
        assert [r.id for r in sent.results] == [e.id for e in events]
        assert waits and all(w >= 1 for w in waits)  # Retry-After, whole seconds
        impatient = RetryPolicy(max_attempts=1)
        client = VigieClient(vigie.url, vigie.key, retry=impatient)
        with client, pytest.raises(RateLimitError) as err:
            for n in range(5):
                client.send(AccountEvent(f"rl-more-{n}", age=30))
        assert err.value.retry_after is not None and err.value.retry_after >= 1


class _Receiver(BaseHTTPRequestHandler):
    """A platform's webhook endpoint: keeps the raw body and its signature header."""

    got: ClassVar[list[tuple[str | None, bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.got.append((self.headers.get("Vigie-Signature"), body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        return


def test_webhooks_from_a_live_server_verify_and_tampering_does_not(tmp_path: Path) -> None:
    receiver = HTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_port}/hook"
    env = serve_env(tmp_path, **LOOP)
    try:
        with served(tmp_path, env=env, platform_args=("--webhook", hook)) as vigie:
            secret = vigie.webhook_secret
            assert secret is not None
            with VigieClient(vigie.url, vigie.key) as client:
                client.send_events(_grooming("wh"))
            signature, body = _first_delivery(_Receiver.got)
    finally:
        receiver.shutdown()
    event = parse_webhook(secret, signature, body)
    assert event.action and event.id.startswith("wh_")
    with pytest.raises(SignatureError):
        parse_webhook(secret, signature, body.replace(b'"action"', b'"acti0n"'))
    with pytest.raises(SignatureError):  # a replay an hour later
        parse_webhook(secret, signature, body, now=time.time() + 3600)
    with pytest.raises(SignatureError):
        parse_webhook("whsec_other", signature, body)


def _first_delivery(got: list[tuple[str | None, bytes]]) -> tuple[str | None, bytes]:
    for _ in range(100):
        if got:
            return got[0]
        threading.Event().wait(0.1)
    raise AssertionError("no webhook delivered within 10 s")


def _grooming(prefix: str) -> list[AccountEvent | MessageEvent | UserReport]:
    """A report by a 12-year-old about an adult: Vigie acts on it (a webhook goes out)."""
    return [
        AccountEvent(f"{prefix}-adult", age=38, age_source="declared"),
        AccountEvent(f"{prefix}-child", age=12, age_source="declared"),
        UserReport(f"{prefix}-child", f"{prefix}-adult", f"{prefix}-c", "wants my photos"),
    ]
