"""``POST /v1/events``'s common case, answered without the framework's per-request machinery.

This route is on every platform's hot path. FastAPI resolves dependencies, builds request
objects and validates a parsed JSON tree on each call: about half a millisecond, more than
detection itself. This lane answers the common case: a key already in the key cache, a body
that validates, synchronous mode on SQLite (where requests that arrive together share a
commit, ``group_commit.py``). Anything else, an error included, goes on to the FastAPI route
with the body unchanged, so each error keeps one implementation and the OpenAPI document
stays the route's own.

It sits inside the guards (rate limit, timeout, body size, input checks), so they apply to
both paths alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import ValidationError
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from vigie.api.auth import cached_platform
from vigie.api.events import decide
from vigie.api.ratelimit import read_body, replay_body
from vigie.events import EventBatch

if TYPE_CHECKING:
    from fastapi import FastAPI

PATH = "/v1/events"


class EventsLane:
    def __init__(self, app: ASGIApp, owner: FastAPI) -> None:
        self.app = app
        self.owner = owner

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (
            scope["type"] == "http"
            and scope["path"] == PATH
            and scope["method"] == "POST"
            and self._applies()
        ):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        platform = cached_platform(self.owner, _authorization(scope))
        batch = _valid(body) if platform is not None else None
        if platform is None or batch is None:
            await self.app(scope, replay_body(body, receive), send)
            return
        results = await decide(self.owner, platform, batch.events)
        await JSONResponse({"results": results})(scope, receive, send)

    def _applies(self) -> bool:
        """Synchronous mode on SQLite; PostgreSQL and the bus take the route."""
        state = self.owner.state
        return not state.settings.bus_url and state.committer is not None


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


def install(app: FastAPI) -> None:
    """Innermost of the user middleware: after every guard, before FastAPI's router."""
    from starlette.middleware import Middleware

    app.user_middleware.append(Middleware(EventsLane, owner=app))
