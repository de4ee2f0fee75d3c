"""One platform's costly requests cannot hold the pipeline every platform shares (issue 21, 1).

The red team's attack: messages of ``©`` (symbol clean-up was quadratic: 40 KB cost 8.4 s of
CPU) stalled every other platform. The API now bounds what one request may ask for before
any work (characters per message and per request, 422 naming the field) and what it may
take while it runs (a CPU budget per request, 422 past it, nothing kept).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from security.helpers import bearer, new_key

MakeClient = Callable[..., TestClient]
SYMBOLS = "©"


def _body(texts: list[str], prefix: str = "m") -> bytes:
    events: list[dict[str, Any]] = [
        {
            "type": "message",
            "id": f"{prefix}{i}",
            "conversation": "c",
            "sender": "s",
            "recipients": ["r"],
            "text": text,
        }
        for i, text in enumerate(texts)
    ]
    return json.dumps({"events": events}, ensure_ascii=False).encode()


def _post(client: TestClient, key: str, body: bytes) -> Any:
    headers = {**bearer(key), "Content-Type": "application/json"}
    return client.post("/v1/events", content=body, headers=headers)


@pytest.mark.parametrize("lane", [False, True], ids=["route", "lane"])
def test_a_message_over_the_text_cap_is_422_naming_the_field(
    make_client: MakeClient, lane: bool
) -> None:
    client = make_client()
    key = new_key(client, "a")
    if lane:  # a cached key takes the events lane
        assert _post(client, key, _body(["salut"], "warm")).status_code == 200
    r = _post(client, key, _body(["salut", SYMBOLS * 4001]))
    assert r.status_code == 422
    assert r.json()["error"] == "events.1.message.text: at most 4000 characters per message"
    assert _post(client, key, _body([SYMBOLS * 4000], "ok")).status_code == 200


def test_the_text_cap_is_a_setting(make_client: MakeClient) -> None:
    client = make_client(max_text_chars=10)
    r = _post(client, new_key(client, "a"), _body(["x" * 11]))
    assert r.status_code == 422 and "at most 10 characters" in r.json()["error"]


@pytest.mark.parametrize("lane", [False, True], ids=["route", "lane"])
def test_a_request_over_its_text_budget_is_422_before_any_work(
    make_client: MakeClient, lane: bool
) -> None:
    client = make_client(max_text_chars_per_request=1000)
    key = new_key(client, "a")
    if lane:
        assert _post(client, key, _body(["salut"], "warm")).status_code == 200
    r = _post(client, key, _body([SYMBOLS * 400] * 3))
    assert r.status_code == 422
    assert r.json()["fields"] == [
        {"field": "events", "message": "at most 1000 characters of text per request"}
    ]
    assert client.get("/v1/events/m0", headers=bearer(key)).status_code == 404


@pytest.mark.parametrize("lane", [False, True], ids=["route", "lane"])
def test_a_one_mebibyte_request_of_symbols_is_refused_naming_the_field(
    make_client: MakeClient, lane: bool
) -> None:
    """The issue's own attack, at the default limits: 1 MiB of ``©`` in one request (the
    lane checks a large body's raw JSON before validating it)."""
    client = make_client()
    key = new_key(client, "a")
    if lane:
        assert _post(client, key, _body(["salut"], "warm")).status_code == 200
    body = _body([SYMBOLS * 10_000] * 52)
    assert 1_000_000 < len(body) <= 1024 * 1024
    r = _post(client, key, body)
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "events.0.message.text"


@pytest.mark.parametrize("lane", [False, True], ids=["route", "lane"])
def test_a_request_over_its_cpu_budget_is_refused_and_keeps_nothing(
    make_client: MakeClient, lane: bool
) -> None:
    client = make_client(cpu_budget_s=0.001)
    key, other = new_key(client, "a"), new_key(client, "b")
    if lane:
        assert _post(client, key, _body(["salut"], "warm")).status_code == 200
    r = _post(client, key, _body([SYMBOLS * 4000] * 40))
    assert r.status_code == 422
    field = r.json()["fields"][0]
    assert field["field"] == "events" and "CPU budget of 0.001 s" in field["message"]
    assert client.get("/v1/events/m0", headers=bearer(key)).status_code == 404  # rolled back
    assert _post(client, other, _body(["salut"])).status_code == 200  # the others go on


def test_the_decider_reports_a_request_over_budget_as_such() -> None:
    """The decider process sends errors as text; over budget is a 422, not a failure."""
    from vigie.api.decider import DeciderError, _error
    from vigie.pipeline import OverBudget

    assert isinstance(_error("OverBudget: over the CPU budget"), OverBudget)
    assert isinstance(_error("ValueError: boom"), DeciderError)
