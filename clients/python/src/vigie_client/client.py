"""``VigieClient`` (sync) and ``AsyncVigieClient``: the same methods, on httpx.

Batches are retried as they were built (same event ids, so Vigie answers a replay from its
first processing); 429 and 503 wait for ``Retry-After``; other failures back off
exponentially. Errors that retrying cannot fix (401, 413, 422) are raised at once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx

from vigie_client import _core
from vigie_client.errors import VigieError
from vigie_client.models import Case, Event, EventResult, MediaEvent, SendResult

DEFAULT_BATCH = 100


class _Base:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        retry: _core.RetryPolicy | None,
        batch_size: int,
    ) -> None:
        if not 1 <= batch_size <= 1000:
            raise ValueError("batch_size must be between 1 and 1000")
        self.base_url = base_url.rstrip("/")
        self.retry = retry or _core.RetryPolicy()
        self.batch_size = batch_size
        self._headers = _core.headers(api_key)

    @staticmethod
    def _send_result(answers: list[dict[str, Any]]) -> SendResult:
        results: list[EventResult] = []
        accepted: list[str] = []
        for answer in answers:
            results += [EventResult.from_json(r) for r in answer.get("results", [])]
            accepted += [str(i) for i in answer.get("accepted", [])]
        return SendResult(results, accepted)


class VigieClient(_Base):
    """Synchronous client. ``with VigieClient(url, key) as vigie: vigie.send_events([...])``."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        retry: _core.RetryPolicy | None = None,
        batch_size: int = DEFAULT_BATCH,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(base_url, api_key, retry, batch_size)
        self._http = http or httpx.Client(timeout=timeout)
        self._own_http = http is None
        self._sleep = sleep

    def __enter__(self) -> VigieClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._http.request(
                    method, self.base_url + path, headers=self._headers, **kwargs
                )
                if response.is_success:
                    return response.json()
                error: VigieError = _core.error_for(response)
            except httpx.HTTPError as exc:
                error = _core.transport_error(exc)
            again, wait = _core.should_retry(error, attempt, self.retry)
            if not again:
                raise error
            self._sleep(wait)

    def send_events(self, events: Iterable[Event]) -> SendResult:
        """Send ``events`` in order, ``batch_size`` per request; one result per event."""
        answers = [
            self._request("POST", "/v1/events", json={"events": [e.to_json() for e in batch]})
            for batch in _core.batches(list(events), self.batch_size)
        ]
        return self._send_result(answers)

    def send(self, event: Event) -> EventResult:
        """One event, its decision (synchronous mode)."""
        return self.send_events([event]).results[0]

    def get_result(self, event_id: str) -> EventResult:
        """The stored result of one event; ``NotFoundError`` until it is processed."""
        return EventResult.from_json(self._request("GET", f"/v1/events/{event_id}"))

    def list_cases(self, limit: int = 100) -> list[Case]:
        """The platform's cases, newest first."""
        answer = self._request("GET", "/v1/cases", params={"limit": limit})
        return [Case.from_json(c) for c in answer["cases"]]

    def upload_media(self, event: MediaEvent, data: bytes, filename: str) -> EventResult:
        """Have Vigie hash the file (in memory, never stored) and decide on the media event."""
        files = {"file": (filename, data, "application/octet-stream")}
        answer = self._request("POST", "/v1/media", data=_core.media_form(event), files=files)
        return EventResult.from_json(answer["results"][0])


class AsyncVigieClient(_Base):
    """Asynchronous client; ``async with AsyncVigieClient(url, key) as vigie: ...``."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 10.0,
        retry: _core.RetryPolicy | None = None,
        batch_size: int = DEFAULT_BATCH,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(base_url, api_key, retry, batch_size)
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self._own_http = http is None

    async def __aenter__(self) -> AsyncVigieClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._http.request(
                    method, self.base_url + path, headers=self._headers, **kwargs
                )
                if response.is_success:
                    return response.json()
                error: VigieError = _core.error_for(response)
            except httpx.HTTPError as exc:
                error = _core.transport_error(exc)
            again, wait = _core.should_retry(error, attempt, self.retry)
            if not again:
                raise error
            await asyncio.sleep(wait)

    async def send_events(self, events: Iterable[Event]) -> SendResult:
        """Send ``events`` in order, ``batch_size`` per request; one result per event."""
        answers = [
            await self._request("POST", "/v1/events", json={"events": [e.to_json() for e in batch]})
            for batch in _core.batches(list(events), self.batch_size)
        ]
        return self._send_result(answers)

    async def send(self, event: Event) -> EventResult:
        return (await self.send_events([event])).results[0]

    async def get_result(self, event_id: str) -> EventResult:
        return EventResult.from_json(await self._request("GET", f"/v1/events/{event_id}"))

    async def list_cases(self, limit: int = 100) -> list[Case]:
        answer = await self._request("GET", "/v1/cases", params={"limit": limit})
        return [Case.from_json(c) for c in answer["cases"]]

    async def upload_media(self, event: MediaEvent, data: bytes, filename: str) -> EventResult:
        files = {"file": (filename, data, "application/octet-stream")}
        answer = await self._request("POST", "/v1/media", data=_core.media_form(event), files=files)
        return EventResult.from_json(answer["results"][0])
