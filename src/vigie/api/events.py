"""``POST /v1/events``: a batch of platform events in, one decision per event out."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from vigie.api.auth import PlatformDep
from vigie.api.schemas import ErrorAnswer, EventsAnswer
from vigie.events import EventBatch

router = APIRouter(prefix="/v1", tags=["events"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorAnswer, "description": "missing or invalid API key"},
    413: {"model": ErrorAnswer, "description": "body over the limit"},
    422: {"model": ErrorAnswer, "description": "malformed body; names the field"},
}


@router.post("/events", response_model=EventsAnswer, responses=_ERRORS)
def post_events(batch: EventBatch, platform: PlatformDep, request: Request) -> dict[str, Any]:
    """Process the batch in order; an event id already seen returns its first answer."""
    results = request.app.state.pipeline.process_batch(platform, batch.events)
    return {"results": results}
