"""``POST /v1/media``: a media event with the file itself, for platforms that cannot hash.

The bytes are hashed in memory and dropped; only the hashes reach the pipeline and storage.
Platforms that can hash on their side send a ``media`` event with ``hashes`` to
``/v1/events`` instead, so images never leave the platform.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from pydantic import ValidationError

from vigie.api.auth import PlatformDep
from vigie.api.errors import describe
from vigie.api.schemas import ErrorAnswer, EventsAnswer
from vigie.detect.media.hashing import HashingError, hash_media
from vigie.events import MediaEvent

router = APIRouter(prefix="/v1", tags=["media"])


@router.post(
    "/media",
    response_model=EventsAnswer,
    responses={
        401: {"model": ErrorAnswer, "description": "missing or invalid API key"},
        413: {"model": ErrorAnswer, "description": "file over the upload limit"},
        422: {"model": ErrorAnswer, "description": "bad event or unreadable media"},
    },
)
def post_media(
    platform: PlatformDep,
    request: Request,
    event: Annotated[str, Form(description="the media event as JSON (without hashes)")],
    file: Annotated[UploadFile, File(description="the image or video")],
) -> dict[str, Any]:
    try:
        media_event = MediaEvent.model_validate_json(event)
    except ValidationError as exc:
        first = describe(list(exc.errors()))[0]
        raise HTTPException(422, f"event.{first['field']}: {first['message']}") from exc
    limit = request.app.state.settings.media.max_upload_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"file over the upload limit of {limit} bytes")
    try:
        hashes = hash_media(data, file.filename)
    except HashingError as exc:
        raise HTTPException(422, f"file: {exc}") from exc
    del data
    results = request.app.state.pipeline.process_batch(
        platform, [media_event], uploaded={media_event.id: hashes}
    )
    return {"results": results}
