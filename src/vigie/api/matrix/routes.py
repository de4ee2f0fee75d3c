"""The HTTP side of synapse-http-antispam: ``POST /v1/matrix/<callback>``.

Synapse's module posts each callback's arguments as JSON with ``Authorization: Bearer <key>``
(the platform's Vigie API key), so one Vigie serves several homeservers, one platform each.
A 2xx answer lets the action through; any other answer refuses it, and its JSON body
(``errcode``, ``error``) is what the member's client shows. Callbacks Vigie has no use for
are answered "allowed", so enabling every callback in Synapse is safe.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, FastAPI, HTTPException, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from vigie.api.auth import PlatformDep
from vigie.api.events import decide
from vigie.api.matrix import mapping
from vigie.api.matrix.homeserver import Homeserver, HomeserverError
from vigie.api.matrix.schemas import (
    ANSWERS,
    Allowed,
    InviteCheck,
    JoinCheck,
    Ping,
    PingAnswer,
    SpamCheck,
)
from vigie.api.matrix.standing import standings
from vigie.detect.media.hashing import HashingError, hash_media
from vigie.domain import Platform
from vigie.settings import MatrixSettings

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/matrix", tags=["matrix"])
ALLOWED: dict[str, Any] = {}


def homeserver(app: FastAPI, platform: Platform) -> Homeserver:
    """The platform's homeserver client (one per process); 409 when it is not configured."""
    config: MatrixSettings | None = app.state.settings.matrix.get(platform.name)
    if config is None:
        raise HTTPException(409, f"no [matrix.{platform.name}] section in Vigie's settings")
    clients: dict[str, Homeserver] | None = getattr(app.state, "matrix_homeservers", None)
    if clients is None:
        clients = app.state.matrix_homeservers = {}
    if platform.name not in clients:
        clients[platform.name] = Homeserver(config)
    return clients[platform.name]


def refused(reason: str) -> JSONResponse:
    return JSONResponse(status_code=403, content={"errcode": "M_FORBIDDEN", "error": reason})


@router.post("/ping", response_model=PingAnswer, responses=ANSWERS)
async def ping(body: Ping, platform: PlatformDep) -> dict[str, str]:
    """The module's start-up check: the same id back, with ``status: ok``."""
    return {"id": body.id, "status": "ok"}


@router.post("/check_event_for_spam", response_model=Allowed, responses=ANSWERS)
async def check_event_for_spam(
    body: SpamCheck, platform: PlatformDep, request: Request, later: BackgroundTasks
) -> Any:
    """Messages and images in; ``hold`` and ``block`` refused with M_FORBIDDEN."""
    hs = homeserver(request.app, platform)
    event = body.event
    kind = mapping.kind(event)
    if kind == "membership":
        hs.forget_members(str(event.get("room_id")))
    if kind not in ("text", "media") or event.get("sender") == hs.config.notices_user:
        return ALLOWED
    members = await _members(hs, str(event.get("room_id")))
    result = await _decide(request.app, platform, hs, event, kind, members)
    if result is None:
        return ALLOWED
    if "warn_child" in result.get("actions", ()) and result.get("safety_message"):
        later.add_task(_warn_children, request.app, platform, hs, event, members, result)
    if result["decision"] == "hold":
        return refused(hs.config.hold_reason)
    if result["decision"] == "block":
        return refused(hs.config.block_reason)
    return ALLOWED


async def _members(hs: Homeserver, room_id: str, keep: bool = True) -> list[str]:
    try:
        return await hs.members(room_id, keep)
    except HomeserverError as exc:  # decided without recipients: no minor is known to read it
        log.warning("matrix: room members unavailable: %s", exc)
        return []


async def _decide(
    app: FastAPI,
    platform: Platform,
    hs: Homeserver,
    event: dict[str, Any],
    kind: str,
    members: list[str],
) -> dict[str, Any] | None:
    """Vigie's answer for the event; None when an image cannot be fetched or read."""
    if kind == "text":
        return dict((await decide(app, platform, [mapping.message_event(event, members)]))[0])
    url = mapping.media_url(event)
    if url is None:
        return None  # an encrypted file: only its sender and recipients can read it
    try:
        hashes = hash_media(await hs.media(url))
    except (HomeserverError, HashingError) as exc:
        log.warning("matrix: image %s not checked: %s", event.get("event_id"), exc)
        return None
    media = mapping.media_event(event, members)
    answers = await run_in_threadpool(
        app.state.pipeline.process_batch, platform, [media], {media.id: hashes}
    )
    return dict(answers[0])


async def _warn_children(
    app: FastAPI,
    platform: Platform,
    hs: Homeserver,
    event: dict[str, Any],
    members: list[str],
    result: dict[str, Any],
) -> None:
    """The safety message, from the server-notices account, to each minor in the room."""
    others = [m for m in members if m != event.get("sender")]
    known = await run_in_threadpool(standings, app.state.store, platform, others)
    text = notice_text(result["safety_message"])
    room = str(event.get("room_id"))
    for user, standing in known.items():
        if standing.minor(hs.config.adult_age) and hs.first_notice(user, room):
            try:
                await hs.notify(user, text)
            except HomeserverError as exc:
                log.warning("matrix: safety notice to a child not sent: %s", exc)


def notice_text(message: dict[str, Any]) -> str:
    """Title, text and each help line, as plain text (every client shows it)."""
    lines = [str(message.get("title", "")), "", str(message.get("text", "")), ""]
    for line in message.get("help", []):
        reach = " ".join(str(x) for x in (line.get("phone"), line.get("url")) if x)
        lines.append(f"- {line.get('name')}: {reach}".rstrip(": "))
    return "\n".join(lines).strip()


@router.post("/user_may_invite", response_model=Allowed, responses=ANSWERS)
async def user_may_invite(body: InviteCheck, platform: PlatformDep, request: Request) -> Any:
    """A minor invited by an adult with an open case (or restricted) is refused, by policy."""
    hs = homeserver(request.app, platform)
    hs.forget_members(body.room_id)
    if not hs.config.refuse_invites:
        return ALLOWED
    users = [body.inviter, body.invitee]
    known = await run_in_threadpool(standings, request.app.state.store, platform, users)
    adult_age = hs.config.adult_age
    if known[body.invitee].minor(adult_age) and known[body.inviter].flagged(adult_age):
        return refused(hs.config.invite_reason)
    return ALLOWED


@router.post("/user_may_join_room", response_model=Allowed, responses=ANSWERS)
async def user_may_join_room(body: JoinCheck, platform: PlatformDep, request: Request) -> Any:
    """A minor may not join a room where an adult with an open case (or restricted) is."""
    hs = homeserver(request.app, platform)
    hs.forget_members(body.room)
    if not hs.config.refuse_invites:
        return ALLOWED
    members = await _members(hs, body.room, keep=False)
    known = await run_in_threadpool(
        standings, request.app.state.store, platform, [body.user, *members]
    )
    adult_age = hs.config.adult_age
    if known[body.user].minor(adult_age) and any(
        known[m].flagged(adult_age) for m in members if m != body.user
    ):
        return refused(hs.config.invite_reason)
    return ALLOWED


@router.post("/{callback}", response_model=Allowed, responses=ANSWERS)
async def other_callback(
    callback: Annotated[str, Path(pattern=r"^[a-z0-9_]{1,64}$")], platform: PlatformDep
) -> dict[str, Any]:
    """Callbacks Vigie does not use (room creation, logins…): allowed, so that a module
    configured without ``enabled_callbacks`` never refuses them by a 404."""
    return ALLOWED
