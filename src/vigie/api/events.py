"""``POST /v1/events``: a batch of platform events in, one decision per event out.

Two modes, chosen by configuration (contract: docs/api.md):

* synchronous (default): the batch runs through the pipeline now; ``200`` with the results;
* asynchronous (``VIGIE_BUS_URL`` set): the batch is published to NATS JetStream and the answer
  is ``202`` with the accepted ids as soon as the bus has stored them; ``vigie worker``
  processes them and ``GET /v1/events/{id}`` answers once the result exists. When workers are
  far behind or the bus is down, the answer is ``503`` with ``Retry-After`` and nothing is
  accepted, so the platform keeps the events and retries.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from vigie.api.auth import PlatformDep
from vigie.api.decider import DeciderGone
from vigie.api.schemas import (
    AcceptedAnswer,
    ErrorAnswer,
    EventResult,
    EventsAnswer,
    ValidationErrorAnswer,
)
from vigie.domain import Platform
from vigie.events import Event, EventBatch
from vigie.runtime import metrics
from vigie.settings import ApiSettings

router = APIRouter(prefix="/v1", tags=["events"])
_PUBLISHER_LOCK = threading.Lock()

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorAnswer, "description": "missing or invalid API key"},
    413: {"model": ErrorAnswer, "description": "body over the limit"},
    422: {"model": ValidationErrorAnswer, "description": "malformed body; names the field"},
}


_ASYNC: dict[int | str, dict[str, Any]] = {
    202: {"model": AcceptedAnswer, "description": "asynchronous mode: durably on the bus"},
    503: {
        "model": ErrorAnswer,
        "description": "asynchronous mode: bus busy or down; retry after the Retry-After header",
        "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}},
    },
}


def bus_publisher(app: FastAPI) -> Any:
    """The process's publisher when ``bus_url`` is set, else None (created on first use)."""
    settings = app.state.settings
    if not settings.bus_url:
        return None
    with _PUBLISHER_LOCK:
        publisher = getattr(app.state, "bus_publisher", None)
        if publisher is None:
            from vigie.transport.config import BusConfig
            from vigie.transport.publisher import Publisher

            config = getattr(app.state, "bus_config", None) or BusConfig.from_settings(settings)
            publisher = app.state.bus_publisher = Publisher(config)
    return publisher


@router.post("/events", response_model=EventsAnswer, responses={**_ERRORS, **_ASYNC})
async def post_events(batch: EventBatch, platform: PlatformDep, request: Request) -> Any:
    """Process the batch in order; an event id already seen returns its first answer.

    On SQLite, writers take turns anyway, so batches go to the group committer: one
    transaction, on the event loop, for the batches waiting together (``group_commit.py``).
    On PostgreSQL, whose round trips wait on the network, each request gets a thread.
    """
    problem = batch_problem(batch, request.app.state.settings.api)
    if problem is not None:
        raise RequestValidationError([problem])
    publisher = bus_publisher(request.app)
    if publisher is not None:
        return await run_in_threadpool(_publish, publisher, platform.id, batch)
    results = await decide(request.app, platform, batch.events)
    # The pipeline's answers already have the documented shape; a ready response skips a
    # second validation of every result on the hot path.
    return JSONResponse({"results": results})


def batch_problem(batch: EventBatch, api: ApiSettings) -> dict[str, Any] | None:
    """What makes a valid batch too costly to take, as a validation error (422), or None.

    Checked before any work, on the route and the events lane alike: events per body
    (``api.max_events_per_batch``), characters per message (``api.max_text_chars``) and
    per body (``api.max_text_chars_per_request``). Text is what the detectors' CPU time
    follows, so these bound the work one request can ask for.
    """
    texts = [(event.type, getattr(event, "text", None)) for event in batch.events]
    return cost_problem(texts, api)


def cost_problem(texts: Sequence[tuple[Any, Any]], api: ApiSettings) -> dict[str, Any] | None:
    """:func:`batch_problem` on each event's ``(type, text)``, parsed or raw JSON alike (the
    events lane checks a large body's raw JSON before the slower validation)."""
    if len(texts) > api.max_events_per_batch:
        return _too_long(("events",), f"at most {api.max_events_per_batch} events per batch")
    total = 0
    for at, (kind, text) in enumerate(texts):
        if not isinstance(text, str):
            continue
        if len(text) > api.max_text_chars:
            where = ("events", at, kind, "text")
            return _too_long(where, f"at most {api.max_text_chars} characters per message")
        total += len(text)
    if total > api.max_text_chars_per_request:
        limit = api.max_text_chars_per_request
        return _too_long(("events",), f"at most {limit} characters of text per request")
    return None


def _too_long(where: tuple[Any, ...], message: str) -> dict[str, Any]:
    return {"loc": ("body", *where), "msg": message, "type": "too_long"}


async def decide(
    app: FastAPI,
    platform: Platform,
    events: Sequence[Event],
    timeout: float | None = None,
    body: bytes | None = None,
) -> list[Any]:
    """Synchronous mode: the decisions for ``events``, counted in the metrics.

    ``timeout`` raises ``TimeoutError`` when the answers are late (group commit and the
    decider; the route has the timeout middleware instead). ``body``, the checked request body the
    events came from, lets the decider process take them (``decider.py``).
    """
    metrics.EVENTS_IN_SYNC.inc(len(events))
    started = time.perf_counter()
    results = await _by_decider(app, platform, body, timeout)
    if results is None:
        results = await _here(app, platform, events, timeout)
    metrics.record_batch("api", time.perf_counter() - started, results)
    return results


async def _here(
    app: FastAPI, platform: Platform, events: Sequence[Event], timeout: float | None
) -> list[Any]:
    """Decided in this process: group commit on SQLite, a worker thread elsewhere."""
    committer = app.state.committer
    if committer is not None:
        decided: list[Any] = await committer.process(platform, events, timeout)
        return decided
    answers: list[Any] = await run_in_threadpool(app.state.pipeline.process_batch, platform, events)
    return answers


async def _by_decider(
    app: FastAPI, platform: Platform, body: bytes | None, timeout: float | None
) -> list[Any] | None:
    """The decider process's answers; None when it is not there to take them."""
    decider = getattr(app.state, "decider", None)
    if body is None or decider is None or not decider.ready:
        return None
    try:
        return list(await decider.process(platform, body, timeout))
    except DeciderGone:
        return None


def _publish(publisher: Any, platform_id: str, batch: EventBatch) -> JSONResponse:
    from vigie.transport.publisher import BusBusy, BusUnavailable

    try:
        accepted = publisher.publish(platform_id, batch.events)
    except BusBusy as exc:
        reason = "unavailable" if isinstance(exc, BusUnavailable) else "backlog"
        metrics.REFUSED.labels(reason=reason).inc()
        return JSONResponse(
            status_code=503,
            content={"error": f"bus {reason}, retry later"},
            headers={"Retry-After": str(exc.retry_after)},
        )
    metrics.EVENTS_IN.labels(mode="async").inc(len(accepted))
    return JSONResponse(status_code=202, content={"accepted": accepted})


@router.get(
    "/events/{event_id:path}",
    response_model=None,
    responses={
        200: {"model": EventResult, "description": "the stored result, as first answered"},
        401: _ERRORS[401],
        404: {"model": ErrorAnswer, "description": "not processed (yet)"},
    },
)
def get_event(event_id: str, platform: PlatformDep, request: Request) -> JSONResponse:
    """The result of one event, the same object as in the synchronous answer."""
    with request.app.state.store.read() as unit:
        result = unit.processed_result(platform.id, event_id)
    if result is None:
        raise HTTPException(status_code=404, detail="event not processed (yet)")
    return JSONResponse(content=result)  # byte for byte the object stored with the event
