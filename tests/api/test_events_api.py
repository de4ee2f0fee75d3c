"""The events API through HTTP, as the contract in docs/api.md says."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient


def _batch(*events: dict) -> dict:
    return {"events": list(events)}


ACCOUNTS = [
    {
        "type": "account",
        "id": "a1",
        "account": "u-adult",
        "age": 34,
        "age_source": "declared",
        "created_at": "2026-11-20T10:00:00Z",
    },
    {"type": "account", "id": "a2", "account": "u-child", "age": 13, "age_source": "estimated"},
]


def _msg(i: int, text: str, sender: str = "u-adult", to: str = "u-child") -> dict:
    return {
        "type": "message",
        "id": f"m{i}",
        "conversation": "c-9",
        "sender": sender,
        "recipients": [to],
        "text": text,
        "sent_at": f"2026-11-28T17:{i:02d}:00Z",
    }


def test_missing_or_wrong_key_is_401(client: TestClient) -> None:
    body = _batch(_msg(1, "salut"))
    assert client.post("/v1/events", json=body).status_code == 401
    bad = {"Authorization": "Bearer vg_not-a-real-key"}
    assert client.post("/v1/events", json=body, headers=bad).status_code == 401
    assert client.get("/v1/cases", headers=bad).status_code == 401


def test_benign_message_is_allowed(client: TestClient, auth: dict[str, str]) -> None:
    r = client.post(
        "/v1/events", json=_batch(*ACCOUNTS, _msg(1, "salut, tu joues à quoi ?")), headers=auth
    )
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x["id"] for x in results] == ["a1", "a2", "m1"]
    assert results[2]["decision"] == "allow" and results[2]["case"] is None


def test_grooming_conversation_opens_a_case(client: TestClient, auth: dict[str, str]) -> None:
    lines = [
        "salut, tu joues souvent ?",
        "t'as quel âge ?",
        "tes parents sont là ce soir ?",
        "ajoute moi sur snap",
        "n'en parle à personne, c'est notre secret",
        "envoie moi une photo de toi",
    ]
    results = []
    for i, text in enumerate(lines):
        r = client.post("/v1/events", json=_batch(*ACCOUNTS, _msg(i, text)), headers=auth)
        assert r.status_code == 200
        results.append(r.json()["results"][-1])
    assert any(s["category"] == "secrecy" for x in results for s in x["signals"])
    last = results[-1]
    assert last["case"] is not None and last["decision"] in {"warn", "hold", "block"}
    cases = client.get("/v1/cases", headers=auth).json()["cases"]
    assert len(cases) == 1
    assert cases[0]["id"] == last["case"] and cases[0]["subject"] == "u-adult"
    assert {"secrecy", "platform_migration"} <= set(cases[0]["categories"])


def test_same_event_id_returns_first_answer_and_changes_nothing(
    client: TestClient, auth: dict[str, str]
) -> None:
    first = client.post(
        "/v1/events", json=_batch(*ACCOUNTS, _msg(1, "c'est notre secret")), headers=auth
    ).json()
    again = client.post(
        "/v1/events", json=_batch(_msg(1, "completely different text")), headers=auth
    ).json()
    assert again["results"][0] == first["results"][-1]


def test_malformed_body_is_422_naming_the_field(client: TestClient, auth: dict[str, str]) -> None:
    bad = _batch({"type": "message", "id": "m1", "conversation": "c", "sender": "u"})
    r = client.post("/v1/events", json=bad, headers=auth)
    assert r.status_code == 422
    assert "events.0" in r.json()["error"] and "text" in r.json()["error"]
    r = client.post("/v1/events", content=b"{not json", headers=auth)
    assert r.status_code == 422
    r = client.post("/v1/events", json={"events": [{"type": "teleport", "id": "x"}]}, headers=auth)
    assert r.status_code == 422


def test_body_over_limit_is_413(client: TestClient, auth: dict[str, str]) -> None:
    big = _batch(_msg(1, "x" * 15000))
    payload = json.dumps({"events": big["events"] * 80})
    r = client.post(
        "/v1/events", content=payload, headers={**auth, "Content-Type": "application/json"}
    )
    assert r.status_code == 413


def test_nothing_partially_written_on_error(client: TestClient, auth: dict[str, str]) -> None:
    bad = _batch(_msg(1, "salut"), {"type": "message", "id": "m2"})
    assert client.post("/v1/events", json=bad, headers=auth).status_code == 422
    ok = client.post("/v1/events", json=_batch(_msg(1, "bonjour")), headers=auth).json()
    assert ok["results"][0]["id"] == "m1"  # m1 was not stored by the failed batch
    with client.app.state.store.read() as unit:  # type: ignore[attr-defined]
        assert unit.processed_result is not None


def test_openapi_is_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/v1/events" in spec["paths"] and "/v1/cases" in spec["paths"]


def test_tenants_cannot_see_each_other(client: TestClient, auth: dict[str, str]) -> None:
    from vigie.platforms import create_platform

    client.post(
        "/v1/events", json=_batch(*ACCOUNTS, _msg(1, "c'est notre secret, photo stp")), headers=auth
    )
    with client.app.state.store.unit() as unit:  # type: ignore[attr-defined]
        other = create_platform(unit, "other").api_key
    r = client.get("/v1/cases", headers={"Authorization": f"Bearer {other}"})
    assert r.json()["cases"] == []


def test_help_page_is_public_in_both_languages(client: TestClient) -> None:
    fr = client.get("/help")
    en = client.get("/help?lang=en")
    assert fr.status_code == 200 and "3018" in fr.text
    assert en.status_code == 200 and en.text != fr.text


def test_a_valid_key_keeps_working_from_the_cache(client: TestClient, auth: dict[str, str]) -> None:
    for i in range(3):
        r = client.post("/v1/events", json=_batch(_msg(i, "salut")), headers=auth)
        assert r.status_code == 200
    assert client.get("/v1/cases", headers={"Authorization": "Bearer vg_x"}).status_code == 401


def test_json_without_a_json_content_type_is_still_read(
    client: TestClient, auth: dict[str, str]
) -> None:
    body = json.dumps(_batch(_msg(1, "salut")))
    r = client.post(
        "/v1/events",
        content=body,
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200 and r.json()["results"][0]["id"] == "m1"
    deep = '{"events": ' + "[" * 200 + "]" * 200 + "}"
    r = client.post("/v1/events", content=deep, headers={**auth, "Content-Type": "text/plain"})
    assert r.status_code == 422
