"""``POST /v1/events``'s common case, answered in front of the framework.

This route is on every platform's hot path. Through FastAPI, a request passes a dozen ASGI
layers (error handling, telemetry, the guards, dependencies, a parsed JSON tree validated
again): about 0.2 ms of CPU per request, as much as detecting grooming in the message. The
lane answers the common case before all that: a key already in the key cache, a body that
validates, synchronous mode on SQLite (where requests that arrive together share a commit,
``group_commit.py``).

The guards hold on the lane too, each through its own code: the request's rate-limit token is
taken here (and the middleware then skips it, but still counts a 401), the key is checked
before the body is read (a wrong key's 1 MiB is never parsed, and its 401 is counted),
bodies over the size limit or that the input guard refuses go on to the middleware that
answers them, and a decision later than the request timeout answers 504. A valid batch over
the limits on its cost (``batch_problem``) is refused here with the route's 422, so a flood
of 1 MiB bodies is parsed once, not three times. Anything else, an error included, goes
through the whole FastAPI stack with the body unchanged, so each error keeps one
implementation and the OpenAPI document stays the route's own.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import orjson
from pydantic import ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from vigie.api.auth import CHALLENGE, INVALID, MISSING, authenticated, bearer_key
from vigie.api.errors import over_budget, unprocessable
from vigie.api.events import batch_problem, cost_problem, decide
from vigie.api.ratelimit import (
    answer,
    body_problem,
    client_address,
    read_body,
    replay_body,
    too_many,
    too_slow,
)
from vigie.events import EventBatch
from vigie.pipeline import OverBudget
from vigie.settings import ApiSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

PATH = "/v1/events"
LARGE_BODY = 64 * 1024  # bodies over this are checked for cost on their raw JSON first
_JSON_HEADERS = [(b"content-type", b"application/json")]


def takes(scope: Scope) -> bool:
    """Whether a request is one the lane may answer (the rest skip it entirely)."""
    return bool(scope["type"] == "http" and scope["path"] == PATH and scope["method"] == "POST")


class EventsLane:
    """Answers ``POST /v1/events`` itself when it can; else hands the request to ``full``."""

    def __init__(self, owner: FastAPI, full: ASGIApp) -> None:
        self.owner = owner
        self.full = full

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limiter = self.owner.state.rate_limiter
        if limiter.applies(scope):
            wait, _ = limiter.charge(scope)
            if wait > 0:
                await too_many(send, wait)
                return
        authorization = _authorization(scope)
        platform = authenticated(self.owner, authorization)
        if platform is None:  # the key first: a wrong key's body is never read
            if limiter.watches(scope):
                limiter.failed(client_address(scope))
            await _unauthorized(send, bearer_key(authorization) is None)
            return
        if not self._applies():
            await self.full(scope, receive, send)
            return
        api = self.owner.state.settings.api
        if not _declared_within(scope, api.max_body_bytes):
            await self.full(scope, receive, send)  # the body-size guard decides
            return
        body = await read_body(receive)
        if len(body) > LARGE_BODY:
            await asyncio.sleep(0)  # requests read meanwhile go first: parsing takes a while
        batch = self._accept(body, api)
        if batch is None:
            await self.full(scope, replay_body(body, receive), send)
            return
        problem = batch if isinstance(batch, dict) else batch_problem(batch, api)
        if problem is not None or isinstance(batch, dict):  # here: parsing again costs 20 ms
            await _send_json(send, unprocessable([problem]), 422)
            return
        try:
            results = await decide(self.owner, platform, batch.events, api.request_timeout_s, body)
        except TimeoutError:
            await too_slow(send, api.request_timeout_s)
            return
        except OverBudget as exc:
            await _send_json(send, over_budget(exc), 422)
            return
        await _send_json(send, {"results": results})

    def _applies(self) -> bool:
        """Synchronous mode on SQLite; PostgreSQL and the bus take the route."""
        state = self.owner.state
        return not state.settings.bus_url and state.committer is not None

    def _accept(self, body: bytes, api: ApiSettings) -> EventBatch | dict[str, Any] | None:
        """The batch when the lane can answer: size, input guard, body (anything refused goes
        to the full stack, which answers the error). A large body over the cost limits gives
        the problem instead, found on its raw JSON."""
        if len(body) > api.max_body_bytes:
            return None
        problem = _raw_cost_problem(body, api) if len(body) > LARGE_BODY else None
        if problem is not None:  # before the input guard: 1 ms for 1 MiB, where it takes 3
            return problem
        return None if body_problem(body) is not None else _valid(body)


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


def _raw_cost_problem(body: bytes, api: ApiSettings) -> dict[str, Any] | None:
    """The cost limits checked on a large body's raw JSON: 1-3 ms for 1 MiB of symbols, where
    validating it first costs 12 (the loop every platform shares does this work).

    Safe before the input guard (``body_problem``): orjson refuses invalid UTF-8 and stops at
    1,024 levels of nesting without recursing in Python, and a body it cannot read is left to
    the guard. A costly body with NUL or 33 levels is then refused for its cost (422 either
    way), and a flood of them costs the shared loop one parse each, not the guard's scans too.
    """
    try:
        events = orjson.loads(body).get("events")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    if not isinstance(events, list):
        return None
    texts = [
        (e.get("type"), e.get("text")) if isinstance(e, dict) else (None, None) for e in events
    ]
    return cost_problem(texts, api)


def _valid(body: bytes) -> EventBatch | None:
    try:
        return EventBatch.model_validate_json(body)
    except ValidationError:
        return None


async def _unauthorized(send: Send, missing: bool) -> None:
    """The route's 401, answered before the body is read."""
    challenge = [(k.lower().encode(), v.encode()) for k, v in CHALLENGE.items()]
    await answer(send, 401, MISSING if missing else INVALID, challenge)


async def _send_json(send: Send, content: Any, status: int = 200) -> None:
    body = orjson.dumps(content)
    headers = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
