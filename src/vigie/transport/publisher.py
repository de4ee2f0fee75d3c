"""The API's side of the bus: publish a batch durably, or say why not (busy or unavailable).

FastAPI handlers here are synchronous, and nats-py is asyncio; the publisher therefore owns one
event loop in a daemon thread and the handlers wait on it. The API process keeps one NATS
connection whatever server runs it, and it reconnects on its own after a NATS restart.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import APIError

from vigie.events import Event
from vigie.transport.config import BusConfig
from vigie.transport.envelope import Envelope, message_id
from vigie.transport.partition import ordering_key, partition_of
from vigie.transport.stream import backlog, ensure_streams

log = logging.getLogger(__name__)
T = TypeVar("T")
BACKLOG_TTL_S = 0.5


class BusBusy(Exception):
    """Workers are behind: the caller should retry after ``retry_after`` seconds."""

    def __init__(self, retry_after: int, reason: str) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class BusUnavailable(BusBusy):
    """NATS cannot be reached or did not confirm in time; nothing was accepted."""


class Publisher:
    def __init__(self, config: BusConfig) -> None:
        self.config = config
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="vigie-bus", daemon=True
        )
        self._thread.start()
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._backlog = (0, 0.0)  # (value, monotonic time read)

    # Public, synchronous -------------------------------------------------------------------
    def publish(self, platform_id: str, events: Sequence[Event]) -> list[str]:
        """Publish in order; returns the accepted ids once JetStream has stored every event."""
        timeout = self.config.publish_timeout_s * 2 + 5
        return self._call(self._publish(platform_id, list(events)), timeout)

    def backlog(self) -> int:
        return self._call(self._current_backlog(), self.config.publish_timeout_s + 5)

    def check(self) -> str | None:
        """None when the bus is reachable and the stream exists; else a short reason."""
        try:
            self.backlog()
        except BusBusy as exc:
            return str(exc)
        return None

    def close(self) -> None:
        if self._nc is not None:
            self._call(self._nc.close(), 5)
        self._loop.call_soon_threadsafe(self._loop.stop)

    # Inside the loop -------------------------------------------------------------------------
    def _call(self, coro: Coroutine[Any, Any, T], timeout: float) -> T:
        future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return future.result(timeout)
        except TimeoutError as exc:
            future.cancel()
            raise BusUnavailable(self.config.retry_after_s, "bus did not answer in time") from exc

    async def _jetstream(self) -> JetStreamContext:
        if self._js is not None and self._nc is not None and not self._nc.is_closed:
            return self._js
        try:
            self._nc = await nats.connect(
                self.config.servers,
                connect_timeout=2,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.5,
                allow_reconnect=True,
                name="vigie-api",
            )
            js = self._nc.jetstream(timeout=self.config.publish_timeout_s)
            await ensure_streams(js, self.config)
        except Exception as exc:
            if self._nc is not None:
                await self._nc.close()
            self._nc = None
            raise BusUnavailable(
                self.config.retry_after_s, f"bus unreachable: {type(exc).__name__}"
            ) from exc
        self._js = js
        return js

    async def _current_backlog(self) -> int:
        value, read_at = self._backlog
        if time.monotonic() - read_at < BACKLOG_TTL_S:
            return value
        js = await self._jetstream()
        try:
            value = await backlog(js, self.config)
        except Exception as exc:
            raise BusUnavailable(
                self.config.retry_after_s, f"bus unavailable: {type(exc).__name__}"
            ) from exc
        self._backlog = (value, time.monotonic())
        return value

    async def _publish(self, platform_id: str, events: list[Event]) -> list[str]:
        pending = await self._current_backlog()
        if pending + len(events) > self.config.max_backlog:
            raise BusBusy(self.config.retry_after_s, f"backlog of {pending} events")
        js = await self._jetstream()
        now = time.time()
        sends = [self._send(js, Envelope(platform_id, ev, now)) for ev in events]
        results = await asyncio.gather(*sends, return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            # The platform retries the whole batch: JetStream de-duplicates what did land,
            # and the pipeline is idempotent on event id anyway.
            raise self._refusal(failed[0])
        return [ev.id for ev in events]

    async def _send(self, js: JetStreamContext, envelope: Envelope) -> None:
        partition = partition_of(
            envelope.platform_id, ordering_key(envelope.event), self.config.partitions
        )
        await js.publish(
            self.config.partition_subject(partition),
            envelope.encode(),
            timeout=self.config.publish_timeout_s,
            stream=self.config.stream,
            headers={"Nats-Msg-Id": message_id(envelope.platform_id, envelope.event.id)},
        )

    def _refusal(self, exc: BaseException) -> BusBusy:
        if isinstance(exc, APIError) and "maximum messages" in str(exc).lower():
            return BusBusy(self.config.retry_after_s, "stream full")
        log.warning("bus publish failed", extra={"error": type(exc).__name__})
        return BusUnavailable(self.config.retry_after_s, f"publish failed: {type(exc).__name__}")
