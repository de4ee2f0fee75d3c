"""Media events with the file: hashed in memory, bytes never stored."""

from __future__ import annotations

import io
import json

from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from vigie.store.tables import MediaRow

EVENT = {
    "type": "media",
    "id": "md-1",
    "conversation": "c-1",
    "sender": "u-1",
    "recipients": ["u-2"],
}


def _png() -> bytes:
    img = Image.new("RGB", (128, 96))
    for x in range(128):
        for y in range(96):
            img.putpixel((x, y), (x * 2, y * 2, (x + y) % 256))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_upload_is_hashed_and_only_hashes_are_kept(
    client: TestClient, auth: dict[str, str]
) -> None:
    data = _png()
    r = client.post(
        "/v1/media",
        headers=auth,
        data={"event": json.dumps(EVENT)},
        files={"file": ("a.png", data, "image/png")},
    )
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["id"] == "md-1"
    with client.app.state.store.read() as unit:  # type: ignore[attr-defined]
        row = unit.session.execute(select(MediaRow)).scalar_one()
        assert set(row.hashes) >= {"pdq", "md5", "sha256"}
        assert len(row.hashes["pdq"]) == 64


def test_corrupt_image_is_refused_clearly(client: TestClient, auth: dict[str, str]) -> None:
    data = _png()[:200]
    r = client.post(
        "/v1/media",
        headers=auth,
        data={"event": json.dumps(EVENT)},
        files={"file": ("a.png", data, "image/png")},
    )
    assert r.status_code == 422
    assert r.json()["error"].startswith("file:")


def test_bad_event_json_names_the_field(client: TestClient, auth: dict[str, str]) -> None:
    r = client.post(
        "/v1/media",
        headers=auth,
        data={"event": json.dumps({"type": "media"})},
        files={"file": ("a.png", _png(), "image/png")},
    )
    assert r.status_code == 422 and "event." in r.json()["error"]


def test_upload_needs_a_key(client: TestClient) -> None:
    r = client.post(
        "/v1/media",
        data={"event": json.dumps(EVENT)},
        files={"file": ("a.png", _png(), "image/png")},
    )
    assert r.status_code == 401
