"""The synapse-http-antispam side in process, for what needs no homeserver (the rest is in
test_synapse_e2e.py, against a real Synapse)."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from vigie.api.matrix import mapping
from vigie.api.matrix.routes import notice_text
from vigie.domain.webhooks import sign


def test_ping_answers_the_module_s_id(client: TestClient, auth: dict[str, str]) -> None:
    answer = client.post("/v1/matrix/ping", json={"id": "aBcD"}, headers=auth)
    assert answer.json() == {"id": "aBcD", "status": "ok"}


def test_callbacks_need_the_platform_key(client: TestClient) -> None:
    assert client.post("/v1/matrix/ping", json={"id": "x"}).status_code == 401


def test_callbacks_vigie_does_not_use_are_allowed(client: TestClient, auth: dict[str, str]) -> None:
    answer = client.post("/v1/matrix/user_may_create_room", json={"user_id": "@a:b"}, headers=auth)
    assert answer.status_code == 200 and answer.json() == {}


def test_a_platform_without_matrix_settings_is_told_so(
    client: TestClient, auth: dict[str, str]
) -> None:
    event = {"type": "m.room.message", "content": {"msgtype": "m.text", "body": "hi"}}
    answer = client.post("/v1/matrix/check_event_for_spam", json={"event": event}, headers=auth)
    assert answer.status_code == 409 and "[matrix." in answer.json()["error"]


def test_only_text_and_images_are_read() -> None:
    def event(kind: str, msgtype: str | None = None) -> dict[str, object]:
        return {"type": kind, "content": {"msgtype": msgtype} if msgtype else {}}

    assert mapping.kind(event("m.room.message", "m.text")) == "text"
    assert mapping.kind(event("m.room.message", "m.image")) == "media"
    assert mapping.kind(event("m.room.encrypted")) is None
    assert mapping.kind(event("m.reaction")) is None


def test_a_message_s_recipients_are_the_other_members() -> None:
    event = {
        "type": "m.room.message",
        "event_id": "$e1",
        "room_id": "!r",
        "sender": "@a:x",
        "origin_server_ts": 1764694800000,
        "content": {"msgtype": "m.text", "body": "salut"},
    }
    message = mapping.message_event(event, ["@a:x", "@b:x"])
    assert (message.id, message.conversation, message.recipients) == ("$e1", "!r", ["@b:x"])


def test_the_notice_lists_each_help_line() -> None:
    text = notice_text(
        {"title": "T", "text": "Body.", "help": [{"name": "3018", "phone": "3018", "url": None}]}
    )
    assert text.startswith("T\n\nBody.") and "- 3018: 3018" in text


def test_actions_need_the_platform_s_signature(client: TestClient) -> None:
    from vigie.platforms import create_platform

    with client.app.state.store.unit() as unit:  # type: ignore[attr-defined]
        platform = create_platform(unit, "hooked", "http://127.0.0.1:1/v1/matrix/actions/hooked")
    secret = platform.platform.webhook_secret
    assert secret is not None
    body = json.dumps({"id": "wh_1", "action": "restrict_contact", "subject": "@a:x"}).encode()
    path = "/v1/matrix/actions/hooked"
    assert client.post(path, content=body).status_code == 401
    assert client.post("/v1/matrix/actions/nobody", content=body).status_code == 401
    # A signed automatic decision is acknowledged and left to the spam checks.
    signed = {"Vigie-Signature": sign(secret, body), "Content-Type": "application/json"}
    answer = client.post(path, content=body, headers=signed)
    assert answer.status_code == 200 and answer.json()["applied"] == []
