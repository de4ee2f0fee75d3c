"""Authentication everywhere: no route answers without credentials except the allow-list.

The test walks the live route table of ``create_app``, so a route added tomorrow by anyone is
checked without touching this file. A route that must be public has to be added to
``PUBLIC`` below, with the reason, in review.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from security.helpers import bearer, new_key
from security.routes import Door, walk

# (method, path regex) -> why it may answer without credentials.
PUBLIC: dict[tuple[str, str], str] = {
    ("GET", r"/healthz"): "liveness probe: a constant, no data",
    ("GET", r"/readyz"): "readiness probe: says only whether the database answers",
    ("GET", r"/help"): "public help page for children and parents: helplines, no data",
    ("GET", r"/metrics"): "Prometheus counters labelled by decision/reason only, never ids or "
    "texts (checked below); deploy on an internal network",
    ("GET", r"/openapi\.json"): "the published API contract; describes shapes, holds no data",
    ("GET", r"/docs"): "Swagger UI for the published contract",
    ("GET", r"/docs/oauth2-redirect"): "static helper page of the Swagger UI",
    ("GET", r"/redoc"): "ReDoc for the published contract",
    ("GET", r"/docs/static/.*"): "Swagger UI and ReDoc's own files (fastapi-offline); no data",
    ("POST", r"/docs/static/.*"): "the same static files: 405, nothing to post to",
    ("GET", r"/"): "redirects to the console, which then asks for a login",
    ("GET", r"/console/login"): "the login form itself",
    ("POST", r"/console/login"): "the login form itself (rate-limited, CSRF-checked)",
    ("GET", r"/console/static/.*"): "CSS and JS of the login page; no data",
}
# Asking with HEAD is asking with GET (Starlette answers HEAD for every GET route).
PUBLIC.update(
    {("HEAD", path): why for (method, path), why in list(PUBLIC.items()) if method == "GET"}
)

# Routes the walk must find, so a change in how routes nest cannot empty the walk silently.
KNOWN = {("POST", "/v1/events"), ("GET", "/v1/cases"), ("GET", "/healthz")}

FORGED = [
    {},
    bearer("vg_" + "A" * 43),
    {"Authorization": "Basic YWRtaW46YWRtaW4="},
    {"Cookie": "vigie_session=forged-token.0000"},
]


def is_public(door: Door) -> str | None:
    for (method, pattern), why in PUBLIC.items():
        if door.method == method and re.fullmatch(pattern, door.path):
            return why
    return None


def concrete(path: str) -> str:
    """A URL for a templated path: every parameter becomes a plausible but unknown id."""
    return re.sub(r"\{[^}]+\}", "x1", path)


def send(client: TestClient, door: Door, headers: dict[str, str]) -> Response:
    return client.request(door.method, concrete(door.path), headers=headers, follow_redirects=False)


def locked(response: Response) -> bool:
    """401/403, or a redirect to the console login page (what browsers get)."""
    if response.status_code in (401, 403):
        return True
    location = response.headers.get("location", "")
    return response.is_redirect and re.sub(r"^https?://[^/]+", "", location).startswith(
        "/console/login"
    )


@pytest.fixture(scope="module")
def client(module_db: str) -> TestClient:
    from security.conftest import security_settings
    from vigie.api.app import create_app

    app = create_app(security_settings(module_db))
    return TestClient(app, raise_server_exceptions=False)


def doors(client: TestClient) -> list[Door]:
    return sorted(set(walk(client.app.routes)), key=lambda d: (d.path, d.method))  # type: ignore[attr-defined]


def test_the_walk_sees_the_whole_table(client: TestClient) -> None:
    found = {(d.method, d.path) for d in doors(client)}
    assert found >= KNOWN, f"walk() lost routes: {KNOWN - found}"


def test_no_door_opens_without_credentials(client: TestClient) -> None:
    open_doors: list[str] = []
    for door in doors(client):
        if door.method == "WEBSOCKET":
            open_doors.append(f"{door.path}: websocket route; add its auth check to this test")
            continue
        if is_public(door):
            continue
        for headers in FORGED:
            r = send(client, door, headers)
            if not locked(r):
                open_doors.append(
                    f"{door.method} {door.path} with {sorted(headers) or 'nothing'}"
                    f" -> {r.status_code}"
                )
                break
    assert not open_doors, "routes answering without valid credentials:\n" + "\n".join(open_doors)


def test_public_doors_answer_without_error_or_data(client: TestClient) -> None:
    key = new_key(client, "walk-platform")
    client.post(
        "/v1/events",
        headers=bearer(key),
        json={
            "events": [
                {
                    "type": "message",
                    "id": "m1",
                    "conversation": "conv-secret-7",
                    "sender": "u-secret-7",
                    "text": "c'est notre secret, ajoute moi sur snap",
                }
            ]
        },
    )
    with client.app.state.store.read() as unit:  # type: ignore[attr-defined]
        platform_id = unit.platform_by_name("walk-platform").id
    for door in doors(client):
        if door.method not in ("GET", "HEAD") or not is_public(door):
            continue
        r = send(client, door, {})
        assert r.status_code < 500, f"{door.path} -> {r.status_code}"
        for private in (key, platform_id, "u-secret-7", "conv-secret-7", "notre secret"):
            assert private not in r.text, f"{door.path} shows {private!r} without credentials"


def test_every_public_entry_still_exists(client: TestClient) -> None:
    """A stale allow-list entry is a door someone could later reopen by accident."""
    present = doors(client)
    optional = {r"/help", r"/metrics", r"/console/login", r"/console/static/.*", r"/"}
    for method, pattern in PUBLIC:
        if pattern in optional or method == "HEAD":
            continue
        assert any(d.method == method and re.fullmatch(pattern, d.path) for d in present), (
            f"{method} {pattern} is allow-listed but no longer exists: remove it from PUBLIC"
        )


def test_a_platform_key_does_not_open_the_console(client: TestClient) -> None:
    """API keys belong to machines of one platform; the console is for safety officers."""
    headers = bearer(new_key(client, "console-probe"))
    opened = [
        f"{door.method} {door.path}"
        for door in doors(client)
        if door.path.startswith("/console")
        and not is_public(door)
        and not locked(send(client, door, headers))
    ]
    assert not opened, f"console pages open with a platform API key: {opened}"
