"""Bodies of the synapse-http-antispam callbacks, as its source sends them (0.5.x)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from vigie.api.schemas import ErrorAnswer, ValidationErrorAnswer


def _example(example: dict[str, Any]) -> ConfigDict:
    return ConfigDict(extra="ignore", json_schema_extra={"examples": [example]})


class Ping(BaseModel):
    model_config = _example({"id": "aBcDeFgH"})
    id: str


class PingAnswer(BaseModel):
    model_config = _example({"id": "aBcDeFgH", "status": "ok"})
    id: str
    status: str


class SpamCheck(BaseModel):
    """``event``: the event in the client format, with its ``event_id``."""

    model_config = _example(
        {
            "event": {
                "type": "m.room.message",
                "event_id": "$Fq2sjA9d8i0:example.org",
                "room_id": "!club:example.org",
                "sender": "@coach:example.org",
                "origin_server_ts": 1764694800000,
                "content": {"msgtype": "m.text", "body": "salut, tu joues à quoi ?"},
            }
        }
    )
    event: dict[str, Any]


class InviteCheck(BaseModel):
    model_config = _example(
        {
            "inviter": "@coach:example.org",
            "invitee": "@lea:example.org",
            "room_id": "!dm:example.org",
        }
    )
    inviter: str
    invitee: str
    room_id: str


class JoinCheck(BaseModel):
    model_config = _example(
        {"user": "@lea:example.org", "room": "!dm:example.org", "is_invited": True}
    )
    user: str
    room: str
    is_invited: bool = False


class Allowed(BaseModel):
    """Any 2xx lets the action through; the body is ignored."""

    model_config = _example({})


class Refusal(BaseModel):
    model_config = _example(
        {
            "errcode": "M_FORBIDDEN",
            "error": "This message is held for review by this server's child-safety team.",
        }
    )
    errcode: str
    error: str


ANSWERS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorAnswer, "description": "missing or invalid API key"},
    403: {"model": Refusal, "description": "refused: Synapse shows `error` to the member"},
    409: {"model": ErrorAnswer, "description": "no [matrix.<platform>] section in the settings"},
    422: {"model": ValidationErrorAnswer, "description": "malformed body; names the field"},
}


class ActionAnswer(BaseModel):
    model_config = _example(
        {"id": "wh_0f3c5a1e9b7d4c2a8e6f1b3d5c7a9e0f", "applied": ["shadow_ban"]}
    )
    id: str
    applied: list[str]


_WEBHOOK_EXAMPLE = {
    "id": "wh_0f3c5a1e9b7d4c2a8e6f1b3d5c7a9e0f",
    "action": "restrict_contact",
    "event": "console-action-42",
    "subject": "@coach:example.org",
    "case": "case_3f2a9c1d",
    "at": "2026-12-02T08:00:00Z",
}


def action_body() -> dict[str, Any]:
    """The webhook payload, described by hand: the route reads the raw bytes it verifies."""
    schema = {
        "type": "object",
        "required": ["id", "action"],
        "properties": {k: {"type": ["string", "null"]} for k in _WEBHOOK_EXAMPLE},
        "examples": [_WEBHOOK_EXAMPLE],
    }
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        },
        "parameters": [
            {
                "name": "Vigie-Signature",
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
                "example": "t=1764662400,v1=" + "5f1c" * 16,
            }
        ],
    }
