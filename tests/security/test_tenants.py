"""Tenants apart: one platform's key never reads or changes another platform's data.

Property: for random pairs of platforms that use *the same* external ids (accounts,
conversations, event ids — platforms choose their ids, so collisions are normal), whatever
one sends, the other's accounts, cases, event answers and conversation history are unchanged
and invisible to it. Hash lists are operator-wide by design (hotline lists) and no API route
changes them; evidence is reachable only through the console (session, roles), which
test_auth_everywhere.py proves is closed to platform keys.
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from security.helpers import bearer, new_key
from vigie.pseudonym import pseudonymise

RISKY = [
    "salut, tu joues souvent ?",
    "t'as quel âge ?",
    "tes parents sont là ce soir ?",
    "ajoute moi sur snap",
    "n'en parle à personne, c'est notre secret",
    "envoie moi une photo de toi",
]
BENIGN = "on se retrouve au club de foot samedi avec toute l'équipe"

# Ids a platform might use: printable text in any script, no control characters.
ids = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=24)


@pytest.fixture(scope="module")
def client(module_db: str) -> TestClient:
    from security.conftest import security_settings
    from vigie.api.app import create_app

    app = create_app(security_settings(module_db))
    return TestClient(app, raise_server_exceptions=False)


def _events(adult: str, child: str, conv: str, prefix: str, age: int, texts: list[str]) -> list:
    accounts: list[dict[str, Any]] = [
        {
            "type": "account",
            "id": f"{prefix}a1",
            "account": adult,
            "age": age,
            "age_source": "declared",
        },
        {
            "type": "account",
            "id": f"{prefix}a2",
            "account": child,
            "age": 13,
            "age_source": "estimated",
        },
    ]
    messages = [
        {
            "type": "message",
            "id": f"{prefix}m{i}",
            "conversation": conv,
            "sender": adult,
            "recipients": [child],
            "text": text,
            "sent_at": f"2026-11-28T17:{i:02d}:00Z",
        }
        for i, text in enumerate(texts)
    ]
    return accounts + messages


def _send(client: TestClient, key: str, events: list) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for event in events:  # one by one, so conversation state builds up as in production
        r = client.post("/v1/events", json={"events": [event]}, headers=bearer(key))
        assert r.status_code == 200, r.text
        results.extend(r.json()["results"])
    return results


def _core(result: dict[str, Any]) -> dict[str, Any]:
    return {k: result.get(k) for k in ("id", "decision", "signals", "case", "actions")}


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(adult=ids, child=ids, conv=ids, prefix=ids, b_first=st.booleans())
def test_platforms_sharing_ids_never_see_or_change_each_other(
    client: TestClient, adult: str, child: str, conv: str, prefix: str, b_first: bool
) -> None:
    if adult == child:
        child = child + "-2"
    run = uuid.uuid4().hex[:8]
    key_a, key_b = new_key(client, f"a-{run}"), new_key(client, f"b-{run}")
    events_a = _events(adult, child, conv, prefix, 34, RISKY)
    events_b = _events(adult, child, conv, prefix, 12, [BENIGN] * len(RISKY))
    if b_first:
        results_b = _send(client, key_b, events_b)
        results_a = _send(client, key_a, events_a)
    else:
        results_a = _send(client, key_a, events_a)
        results_b = _send(client, key_b, events_b)

    # Same event ids, separate idempotency: B got answers for its own (benign) texts.
    assert [r["id"] for r in results_a] == [r["id"] for r in results_b]
    assert all(not r["signals"] and r["case"] is None for r in results_b)
    assert any(r["signals"] for r in results_a)
    # A's first answers still stand, whatever B sent with the same ids.
    again = _send(client, key_a, [events_a[-1]])
    assert again[0] == results_a[-1]

    # Reading one event's answer by id (asynchronous mode) also stays within the platform.
    last = quote(events_a[-1]["id"], safe="")
    answer_a = client.get(f"/v1/events/{last}", headers=bearer(key_a)).json()
    answer_b = client.get(f"/v1/events/{last}", headers=bearer(key_b)).json()
    assert _core(answer_a) == _core(results_a[-1]) and _core(answer_b) == _core(results_b[-1])

    cases_a = client.get("/v1/cases", headers=bearer(key_a)).json()["cases"]
    cases_b = client.get("/v1/cases", headers=bearer(key_b)).json()["cases"]
    assert cases_b == []
    assert cases_a and {c["subject"] for c in cases_a} == {adult}

    with client.app.state.store.read() as unit:  # type: ignore[attr-defined]
        pa, pb = unit.platform_by_name(f"a-{run}"), unit.platform_by_name(f"b-{run}")
        adult_a = pseudonymise(pa.pseudonym_secret, "account", adult)
        adult_b = pseudonymise(pb.pseudonym_secret, "account", adult)
        assert adult_a != adult_b  # the same person id cannot be linked across platforms
        assert unit.get_account(pa.id, adult_a).age == 34  # B's "age 12" changed nothing
        assert unit.get_account(pb.id, adult_b).age == 12
        assert unit.get_account(pb.id, adult_a) is None
        for case in cases_a:
            assert unit.get_case(pb.id, case["id"]) is None
        conv_a = pseudonymise(pa.pseudonym_secret, "conversation", conv)
        assert unit.history(pb.id, conv_a, 50) == []
        assert unit.processed_result(pb.id, events_a[-1]["id"])["signals"] == []


def test_a_key_cannot_be_pointed_at_another_platform(client: TestClient) -> None:
    """Fields that could name a platform in a body are ignored: the key alone decides."""
    key_a, key_b = new_key(client, "owner-a"), new_key(client, "owner-b")
    with client.app.state.store.read() as unit:  # type: ignore[attr-defined]
        pa = unit.platform_by_name("owner-a")
    event = {
        "type": "message",
        "id": "x1",
        "conversation": "c",
        "sender": "s",
        "text": "salut",
        "platform": pa.id,
        "platform_id": pa.id,
    }
    r = client.post(
        "/v1/events",
        json={"events": [event], "platform_id": pa.id},
        headers={**bearer(key_b), "X-Platform": pa.id},
    )
    assert r.status_code == 200
    with client.app.state.store.read() as unit:  # type: ignore[attr-defined]
        assert unit.processed_result(pa.id, "x1") is None
    assert client.get(f"/v1/cases?platform={pa.id}", headers=bearer(key_b)).json()["cases"] == []
    assert client.get("/v1/events/x1", headers=bearer(key_a)).status_code == 404
    assert key_a != key_b
