"""Per-key rate limits, request timeouts and a bounded JSON parser, as ASGI middleware.

Why here and not in a proxy: Vigie is often run straight behind a platform's own load
balancer, and a flood from one platform (or one bug in its client) must not starve the
others. The buckets are in memory, per process, unless ``redis_url`` is set: then they are
in Redis (``shared_limits.py``) and every process and node counts against the same ones.

``install(app, settings)`` wires the three guards with the right nesting:
rate limit (outermost, cheapest refusal) -> timeout -> the app's body-size limit ->
input guard (innermost, so it only ever buffers a body the size limit has allowed).
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vigie.api.buckets import Counts, LocalCounts

if TYPE_CHECKING:
    from fastapi import FastAPI

    from vigie.settings import Settings

# Routes probes call every few seconds; limiting them would only make the orchestrator
# restart a healthy process.
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz"})
# Failed authentications allowed per client address and minute (key guessing, broken clients).
AUTH_FAILURES_PER_MINUTE = 60
# No event of the contract nests deeper than 4; 32 leaves room and stops recursion bombs.
MAX_JSON_DEPTH = 32


PlatformOf = Callable[[str, bool], "str | None"]
"""The platform id of an ``Authorization`` header: from the key cache only (``False``), or
also from the database (``True``); None for no valid key."""


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return "ip:" + (client[0] if client else "unknown")


def authorization(scope: Scope) -> str | None:
    for name, value in scope.get("headers") or []:
        if name == b"authorization":
            return str(value.decode("latin-1"))
    return None


async def answer(
    send: Send, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """A JSON error in the shape of api/errors.py: ``{"error": ...}``."""
    body = json.dumps({"error": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RateLimiter:
    """The request and failed-authentication buckets, shared by the rate-limit middleware and
    the events lane (``fastlane.py``), so a request is counted once whichever way it goes;
    in this process, or in Redis for all processes when ``redis_url`` is set.

    Requests that end in 401 also cost their address a token from a second, smaller bucket,
    so guessing keys from one address is slowed to ``AUTH_FAILURES_PER_MINUTE``.
    """

    def __init__(
        self,
        per_minute: int,
        auth_failures_per_minute: int = AUTH_FAILURES_PER_MINUTE,
        platform_of: PlatformOf | None = None,
        counts: Counts | None = None,
    ) -> None:
        self.per_minute = per_minute
        self.platform_of = platform_of
        self.counts = counts or LocalCounts(per_minute, auth_failures_per_minute)

    def watches(self, scope: Scope) -> bool:
        """Whether the request is limited at all (health probes never are)."""
        return (
            scope["type"] == "http"
            and scope.get("path") not in UNLIMITED_PATHS
            and self.per_minute > 0
        )

    def applies(self, scope: Scope) -> bool:
        """Whether the request still has its token to take (the events lane may have)."""
        return self.watches(scope) and CHARGED not in scope

    def charge(self, scope: Scope) -> tuple[float, str]:
        """Take the request's token: (seconds to wait, 0.0 when allowed; client address).

        A request counts against its authenticated *platform* when its key is valid (every
        spelling of a key, "bearer", "BEARER", spaces before it, and every key of the
        platform share one bucket), else against its client address. An address blocked for
        failed keys is refused before a key is looked up in the database, so guessing cannot
        make the database work either. A cached key costs one look at the counts (one Redis
        round trip when they are shared).
        """
        scope[CHARGED] = True
        address = client_address(scope)
        header = authorization(scope)
        platform = None
        if header is not None and self.platform_of is not None:
            platform = self.platform_of(header, False)
            if platform is None:
                blocked = self.counts.blocked(address)
                if blocked > 0:
                    return blocked, address
                platform = self.platform_of(header, True)
        who = address if platform is None else "platform:" + platform
        return self.counts.take(who, address), address

    def failed(self, address: str) -> None:
        self.counts.failed(address)


# Set in a request's scope once its token is taken (by the events lane, before falling through).
CHARGED = "vigie.rate_charged"


async def too_many(send: Send, wait: float) -> None:
    await answer(
        send,
        429,
        "too many requests; retry later",
        [(b"retry-after", str(max(1, math.ceil(wait))).encode())],
    )


class RateLimitMiddleware:
    """429 with ``Retry-After`` once a platform (or, without a valid key, an address) is over
    its limit. Every 401 costs its address a failure token, also on requests the events lane
    charged and handed on (they were not counted before: issue 21)."""

    def __init__(self, app: ASGIApp, limiter: RateLimiter) -> None:
        self.app = app
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.limiter.watches(scope):
            await self.app(scope, receive, send)
            return
        address = client_address(scope)
        if self.limiter.applies(scope):  # not yet charged by the events lane
            wait, address = self.limiter.charge(scope)
            if wait > 0:
                await too_many(send, wait)
                return

        async def watching_send(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                self.limiter.failed(address)
            await send(message)

        await self.app(scope, receive, watching_send)


class TimeoutMiddleware:
    """504 when the app has not started answering within ``timeout_s`` seconds.

    The handler keeps running in its worker thread (threads cannot be killed), but the client
    is freed and nothing it sends afterwards reaches the connection. Events are idempotent, so
    a client that retries gets the first answer once it is ready.
    """

    def __init__(self, app: ASGIApp, timeout_s: float) -> None:
        self.app = app
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.timeout_s <= 0:
            await self.app(scope, receive, send)
            return
        started = abandoned = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if abandoned:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, guarded_send))
        done, _ = await asyncio.wait({task}, timeout=self.timeout_s)
        if task in done or started:
            await task
            return
        abandoned = True
        task.cancel()
        task.add_done_callback(_forget)
        await too_slow(send, self.timeout_s)


async def too_slow(send: Send, timeout_s: float) -> None:
    await answer(send, 504, f"request not answered within {timeout_s:g} s")


def _forget(task: asyncio.Future[Any]) -> None:
    """Collect an abandoned handler's outcome so asyncio does not log it as lost."""
    if not task.cancelled():
        task.exception()


# An escaped NUL (``\u0000`` preceded by an even number of backslashes). PostgreSQL text cannot
# hold NUL, so such a body would fail deep in the store instead of being refused up front.
_ESCAPED_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")
_STRING = re.compile(rb'"[^"]*"')
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')


def json_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when ``body`` nests arrays/objects deeper than ``limit`` (strings are skipped).

    Linear and cheap on long texts (4 ms for 1 MiB of symbols here, against 17 ms for a
    regular expression over the whole body): escaped backslashes and quotes are dropped first, then
    everything but brackets and quotes, so only the structure is scanned in Python. Outside
    strings a stray ``\\"`` only makes more brackets count, never fewer.
    """
    if b"\\" in body:
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    structure = body.translate(None, _NOT_STRUCTURE)
    if structure.count(b"[") + structure.count(b"{") <= limit:
        return False
    depth = 0
    for byte in _STRING.sub(b"", structure):
        if byte in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        elif byte != 0x22:  # an unclosed quote: the parser refuses the body anyway
            depth -= 1
    return False


class InputGuardMiddleware:
    """Refuses (422) NUL in URLs, and JSON bodies that are not UTF-8, hold NUL or nest too deep.

    NUL reaches PostgreSQL as a query parameter and fails there (a 500), so it is refused at
    the door, in the path and query as in bodies.

    Python's JSON parser recurses once per level; a 1 MiB body of ``[`` is half a million
    levels. The check is linear in the body, which the body-size limit already bounds.
    """

    def __init__(self, app: ASGIApp, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b"")
        ):
            await _unprocessable(send, "contains the NUL character (%00); remove it", "url")
            return
        if (
            scope["type"] != "http"
            or scope.get("method") not in {"POST", "PUT", "PATCH", "DELETE"}
            or not _declares_json(scope)
        ):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        problem = body_problem(body, self.max_depth)
        if problem:
            await _unprocessable(send, problem)
            return
        await self.app(scope, replay_body(body, receive), send)


def body_problem(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Why a JSON body is refused before parsing (422), or None."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not valid UTF-8 at byte {exc.start}"
    if b"u0000" in body and _ESCAPED_NUL.search(body):  # substring test first: no regex scan
        return "contains the NUL character (\\u0000), which cannot be stored; remove it"
    if json_too_deep(body, max_depth):
        return f"JSON nested deeper than {max_depth} levels"
    return None


def _declares_json(scope: Scope) -> bool:
    """Any Content-Type naming JSON, in any case: parsers compare without case, so must we."""
    return any(
        name == b"content-type" and b"json" in value.lower()
        for name, value in scope.get("headers") or []
    )


async def read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replay_body(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands the already-read body on to the next app, then the rest."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _unprocessable(send: Send, problem: str, field: str = "body") -> None:
    body = json.dumps(
        {"error": f"{field}: {problem}", "fields": [{"field": field, "message": problem}]}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 422,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _platform_id(app: FastAPI, header: str, look_up: bool) -> str | None:
    from vigie.api.auth import authenticated, cached_platform

    platform = authenticated(app, header) if look_up else cached_platform(app, header)
    return None if platform is None else platform.id


def _shared_counts(url: str | None, per_minute: int) -> Counts | None:
    """Buckets in Redis, shared by every process and node, when ``redis_url`` is set."""
    if not url:
        return None
    from vigie.api.shared_limits import RedisCounts

    return RedisCounts(url, per_minute, AUTH_FAILURES_PER_MINUTE)


def install(app: FastAPI, settings: Settings) -> None:
    """Add the guards around what ``create_app`` built (call it after the body-size limit)."""
    app.user_middleware.append(Middleware(InputGuardMiddleware))  # innermost
    app.add_middleware(TimeoutMiddleware, timeout_s=settings.api.request_timeout_s)
    per_minute = settings.api.rate_limit_per_minute
    app.state.rate_limiter = RateLimiter(
        per_minute,
        platform_of=lambda header, look_up: _platform_id(app, header, look_up),
        counts=_shared_counts(settings.redis_url, per_minute),
    )
    app.add_middleware(RateLimitMiddleware, limiter=app.state.rate_limiter)
