"""``POST /v1/events``'s common case, answered in front of the framework.

This route is on every platform's hot path. Through FastAPI, a request passes a dozen ASGI
layers (error handling, telemetry, the guards, dependencies, a parsed JSON tree validated
again): about 0.2 ms of CPU per request, as much as detecting grooming in the message. The
lane answers the common case before all that: a key already in the key cache, a body that
validates, synchronous mode on SQLite (where requests that arrive together share a commit,
``group_commit.py``).

The guards hold on the lane too, each through its own code: the request's rate-limit token is
taken here (and the middleware then skips it), bodies over the size limit or that the input
guard refuses go on to the middleware that answers them, and a decision later than the
request timeout answers 504. Anything else, an error included, goes through the whole FastAPI
stack with the body unchanged, so each error keeps one implementation and the OpenAPI document
stays the route's own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from vigie.api.auth import cached_platform
from vigie.api.events import decide
from vigie.api.ratelimit import body_problem, read_body, replay_body, too_many, too_slow
from vigie.domain import Platform
from vigie.events import EventBatch

if TYPE_CHECKING:
    from fastapi import FastAPI

PATH = "/v1/events"
_JSON_HEADERS = [(b"content-type", b"application/json")]


def takes(scope: Scope) -> bool:
    """Whether a request is one the lane may answer (the rest skip it entirely)."""
    return scope["type"] == "http" and scope["path"] == PATH and scope["method"] == "POST"


class EventsLane:
    """Answers ``POST /v1/events`` itself when it can; else hands the request to ``full``."""

    def __init__(self, owner: FastAPI, full: ASGIApp) -> None:
        self.owner = owner
        self.full = full

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self._applies():
            await self.full(scope, receive, send)
            return
        limiter = self.owner.state.rate_limiter
        if limiter.applies(scope):
            wait, _ = limiter.charge(scope)
            if wait > 0:
                await too_many(send, wait)
                return
        api = self.owner.state.settings.api
        if not _declared_within(scope, api.max_body_bytes):
            await self.full(scope, receive, send)  # the body-size guard decides
            return
        body = await read_body(receive)
        accepted = self._accept(scope, body, api.max_body_bytes, api.max_events_per_batch)
        if accepted is None:
            await self.full(scope, replay_body(body, receive), send)
            return
        platform, batch = accepted
        try:
            results = await decide(self.owner, platform, batch.events, api.request_timeout_s, body)
        except TimeoutError:
            await too_slow(send, api.request_timeout_s)
            return
        await _send_json(send, {"results": results})

    def _applies(self) -> bool:
        """Synchronous mode on SQLite; PostgreSQL and the bus take the route."""
        state = self.owner.state
        return not state.settings.bus_url and state.committer is not None

    def _accept(
        self, scope: Scope, body: bytes, limit: int, max_events: int
    ) -> tuple[Platform, EventBatch] | None:
        """Platform and batch when the lane can answer: size, input guard, cached key, body
        (anything refused goes to the full stack, which answers the error)."""
        if len(body) > limit or body_problem(body) is not None:
            return None
        platform = cached_platform(self.owner, _authorization(scope))
        batch = _valid(body) if platform is not None else None
        if platform is None or batch is None or len(batch.events) > max_events:
            return None
        return platform, batch


def _declared_within(scope: Scope, limit: int) -> bool:
    """A declared Content-Length within the limit (chunked bodies take the full stack)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return bool(value.isdigit() and int(value) <= limit)
    return False


def _authorization(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return str(value.decode("latin-1"))
    return None


def _valid(body: bytes) -> EventBatch | None:
    try:
        return EventBatch.model_validate_json(body)
    except ValidationError:
        return None


async def _send_json(send: Send, content: Any) -> None:
    body = orjson.dumps(content)
    headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
