"""Limits: per-key rate limits (429 + Retry-After), request timeouts, bounded bodies."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from security.helpers import bearer, new_key
from vigie.api.buckets import Buckets, TokenBucket
from vigie.api.ratelimit import json_too_deep

MakeClient = Callable[..., TestClient]


def test_token_bucket_refills_at_its_rate() -> None:
    bucket = TokenBucket(capacity=3, period=60.0, now=0.0)
    assert [bucket.take(0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(0.0) == 20.0  # one token per 20 s
    assert bucket.take(20.0) == 0.0


def test_bucket_table_is_bounded() -> None:
    buckets = Buckets(per_minute=5, max_size=10)
    for i in range(1000):
        buckets.take(f"key:{i}", now=0.0)
    assert len(buckets) == 10


def test_over_the_limit_is_429_with_retry_after_per_key(make_client: MakeClient) -> None:
    client = make_client(rate_limit_per_minute=3)
    a, b = new_key(client, "a"), new_key(client, "b")
    assert [client.get("/v1/cases", headers=bearer(a)).status_code for _ in range(3)] == [200] * 3
    refused = client.get("/v1/cases", headers=bearer(a))
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "retry" in refused.json()["error"]
    assert client.get("/v1/cases", headers=bearer(b)).status_code == 200  # others unaffected
    assert client.get("/healthz").status_code == 200  # probes are never limited


def test_guessing_keys_from_one_address_is_slowed(make_client: MakeClient) -> None:
    client = make_client(rate_limit_per_minute=100_000)
    codes = [client.get("/v1/cases", headers=bearer(f"vg_guess{i}")).status_code for i in range(70)]
    assert codes[0] == 401
    assert codes[-1] == 429


def test_slow_request_is_cut_at_the_timeout(make_client: MakeClient) -> None:
    client = make_client(request_timeout_s=0.2)

    async def slow() -> dict[str, str]:
        await asyncio.sleep(5)
        return {"late": "yes"}

    client.app.add_api_route("/v1/slow-for-test", slow)  # type: ignore[attr-defined]
    r = client.get("/v1/slow-for-test")
    assert r.status_code == 504
    assert "within 0.2 s" in r.json()["error"]


def _events_body(n: int, text: str = "salut") -> bytes:
    events = [
        {
            "type": "message",
            "id": f"m{i}",
            "conversation": "c",
            "sender": "s",
            "recipients": ["r"],
            "text": text,
        }
        for i in range(n)
    ]
    return json.dumps({"events": events}).encode()


def _chunks(body: bytes, size: int = 4096) -> Iterator[bytes]:
    for i in range(0, len(body), size):
        yield body[i : i + size]


def test_oversized_body_is_413_with_or_without_content_length(make_client: MakeClient) -> None:
    client = make_client(max_body_bytes=4096)
    headers = {**bearer(new_key(client, "p")), "Content-Type": "application/json"}
    body = _events_body(200)
    assert len(body) > 4096
    declared = client.post("/v1/events", content=body, headers=headers)
    assert declared.status_code == 413 and "limit" in declared.json()["error"]
    streamed = client.post("/v1/events", content=_chunks(body), headers=headers)
    assert streamed.status_code == 413


def test_deeply_nested_json_is_refused_before_parsing(make_client: MakeClient) -> None:
    client = make_client()
    headers = {**bearer(new_key(client, "p")), "Content-Type": "application/json"}
    for depth in (40, 300_000):
        body = b'{"events":' + b"[" * depth + b"]" * depth + b"}"
        for content_type in ("application/json", "APPLICATION/JSON", "application/x+json"):
            r = client.post(
                "/v1/events", content=body, headers={**headers, "Content-Type": content_type}
            )
            assert r.status_code == 422
            assert "nested deeper" in r.json()["error"]


def test_brackets_inside_strings_do_not_count_as_nesting(make_client: MakeClient) -> None:
    client = make_client()
    headers = {**bearer(new_key(client, "p")), "Content-Type": "application/json"}
    r = client.post(
        "/v1/events", content=_events_body(1, "[" * 500 + "{" * 500 + '\\"'), headers=headers
    )
    assert r.status_code == 200
    assert not json_too_deep(b'{"a": "[[[[\\"[[[[", "b": [[1]]}', limit=3)
    assert json_too_deep(b'{"a": "x", "b": [[[1]]]}', limit=3)


def test_invalid_utf8_is_422_naming_the_body(make_client: MakeClient) -> None:
    client = make_client()
    headers = {**bearer(new_key(client, "p")), "Content-Type": "application/json"}
    body = _events_body(1).replace(b"salut", b"sa\xff\xfelut")
    r = client.post("/v1/events", content=body, headers=headers)
    assert r.status_code == 422
    assert "UTF-8" in r.json()["error"]


def test_huge_strings_and_batches_are_422_naming_the_field(make_client: MakeClient) -> None:
    client = make_client(max_body_bytes=8 * 1024 * 1024)
    headers = {**bearer(new_key(client, "p")), "Content-Type": "application/json"}
    r = client.post("/v1/events", content=_events_body(1, "x" * 20_001), headers=headers)
    assert r.status_code == 422 and "events.0.message.text" in r.json()["error"]
    r = client.post("/v1/events", content=_events_body(1001), headers=headers)
    assert r.status_code == 422 and "events" in r.json()["error"]
    r = client.get("/v1/cases?limit=99999999999999999999999", headers=headers)
    assert r.status_code == 422 and "limit" in r.json()["error"]


def _depth(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


_TRICKY = st.text(alphabet=st.sampled_from(list('ab[]{}"\\\n©')), max_size=8)
_VALUES = st.recursive(
    st.none() | _TRICKY | st.integers(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TRICKY, inner, max_size=3),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(_VALUES, st.integers(0, 6))
def test_the_depth_check_agrees_with_the_parser(value: Any, limit: int) -> None:
    """The fast depth check (structure only, escapes dropped first) is exact on valid JSON,
    brackets, quotes and backslashes inside strings included."""
    body = json.dumps(value, ensure_ascii=False).encode()
    assert json_too_deep(body, limit) == (_depth(value) > limit)


def test_spellings_of_a_key_and_keys_of_one_platform_share_one_bucket(
    make_client: MakeClient,
) -> None:
    """Issue 21, finding 2: the limit was keyed on the raw header, so "bearer", "BEARER" or
    spaces before the key each had a fresh bucket. It is keyed on the platform now."""
    from vigie.platforms import create_platform, issue_api_key

    client = make_client(rate_limit_per_minute=4)
    app: Any = client.app
    with app.state.store.unit() as unit:
        created = create_platform(unit, "a")
        second = issue_api_key(unit, created.platform.id)
    key = created.api_key
    spellings = [f"Bearer {key}", f"bearer {key}", f"BEARER   {key}", f"Bearer {second}"]
    codes = [client.get("/v1/cases", headers={"Authorization": h}).status_code for h in spellings]
    assert codes == [200] * 4
    assert client.get("/v1/cases", headers={"Authorization": f"bEaReR  {key}"}).status_code == 429
    other = new_key(client, "b")
    assert client.get("/v1/cases", headers=bearer(other)).status_code == 200


def test_wrong_keys_on_post_events_are_counted(make_client: MakeClient) -> None:
    """Issue 21, finding 3: the events lane marked requests as charged, so their 401s never
    reached the failure count (150 random keys gave 150 x 401 and no 429)."""
    client = make_client(rate_limit_per_minute=100_000)
    body = _events_body(1)
    codes = [
        client.post(
            "/v1/events",
            content=body,
            headers={"Authorization": f"Bearer vg_guess{i}", "Content-Type": "application/json"},
        ).status_code
        for i in range(150)
    ]
    # 60 failures a minute, refilled as time passes: on a slow machine a few more go through
    # before the first 429, so the red team's 150 keys are sent and a 429 must come.
    assert codes[0] == 401 and codes[-1] == 429


def test_a_wrong_key_is_refused_before_the_body_is_looked_at(make_client: MakeClient) -> None:
    """The key is checked first: a body that the JSON guard would refuse (422) gets the
    401, so an unauthenticated 1 MiB body is never parsed."""
    client = make_client()
    body = b'{"events":' + b"[" * 500_000
    for headers in ({"Authorization": "Bearer vg_wrong"}, {}):
        r = client.post(
            "/v1/events", content=body, headers={**headers, "Content-Type": "application/json"}
        )
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"] == "Bearer"
        assert r.json()["error"] in {"invalid API key", "missing API key"}
