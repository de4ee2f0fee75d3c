"""Matrix events as Vigie events: a room is a conversation, its other members the recipients.

The Matrix event id is the Vigie event id, so Synapse asking twice about one event (a retry,
a restart) is answered from the first decision.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from vigie.events import MediaEvent, MessageEvent

TEXT_TYPES = {"m.text", "m.notice", "m.emote"}
MEDIA_TYPES = {"m.image"}


def kind(event: dict[str, Any]) -> str | None:
    """``text``, ``media``, ``membership`` or None (nothing Vigie reads)."""
    if event.get("type") == "m.room.member":
        return "membership"
    if event.get("type") != "m.room.message":
        return None  # state, reactions, and m.room.encrypted: unreadable by design
    msgtype = (event.get("content") or {}).get("msgtype")
    if msgtype in TEXT_TYPES:
        return "text"
    if msgtype in MEDIA_TYPES:
        return "media"
    return None


def _sent_at(event: dict[str, Any]) -> datetime | None:
    ts = event.get("origin_server_ts")
    return datetime.fromtimestamp(ts / 1000, UTC) if isinstance(ts, int) else None


def message_event(event: dict[str, Any], members: list[str]) -> MessageEvent:
    sender = str(event["sender"])
    body = str((event.get("content") or {}).get("body", ""))
    return MessageEvent(
        type="message",
        id=str(event["event_id"]),
        conversation=str(event["room_id"]),
        sender=sender,
        recipients=[m for m in members if m != sender][:1000],
        text=body[:20000],
        sent_at=_sent_at(event),
    )


def media_event(event: dict[str, Any], members: list[str]) -> MediaEvent:
    sender = str(event["sender"])
    return MediaEvent(
        type="media",
        id=str(event["event_id"]),
        conversation=str(event["room_id"]),
        sender=sender,
        recipients=[m for m in members if m != sender][:1000],
        sent_at=_sent_at(event),
    )


def media_url(event: dict[str, Any]) -> str | None:
    """The unencrypted file's ``mxc://`` URL (encrypted files carry theirs in ``file``)."""
    url = (event.get("content") or {}).get("url")
    return url if isinstance(url, str) and url.startswith("mxc://") else None
