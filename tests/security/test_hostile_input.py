"""Hostile input: refused with a clear error, or, for text built to evade, still detected.

Body size, nesting, UTF-8 and huge strings are in test_limits.py; parsers in
test_parsers_fuzz.py. Here: text written to slip past the patterns, media made to exhaust
the decoder, and characters the database cannot store.
"""

from __future__ import annotations

import io
import json
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from security.conftest import security_settings
from security.helpers import bearer, new_key
from vigie.api.app import create_app
from vigie.store.migrate import upgrade

MakeClient = Callable[..., TestClient]
ZW, RLM, RLO, PDF = "\u200b", "\u200f", "\u202e", "\u202c"

# (text a person could send, category that must still be found). Non-explicit risk indicators
# only, as child-protection guidance describes them.
EVASIONS = [
    ("ajoute moi sur snap", "platform_migration"),  # the plain form, as a control
    (f"ajoute moi sur s{ZW}n{ZW}a{ZW}p", "platform_migration"),  # zero-width characters
    ("ajoute moi sur ѕnар", "platform_migration"),  # Cyrillic ѕ, а, р
    (f"ajoute moi sur sn{RLM}ap", "platform_migration"),  # right-to-left mark
    (f"ajoute moi sur {RLO}snap{PDF}", "platform_migration"),  # right-to-left override
    ("ajoute moi sur s n a p", "platform_migration"),  # spaced letters
    ("ajoute moi sur s.n.a.p", "platform_migration"),  # dotted letters
    ("ajoute moi sur sn🔥ap", "platform_migration"),  # emoji between letters
    ("ajoute moi sur sn@p", "platform_migration"),  # leetspeak
    ("ＡＤＤ ＭＥ ＯＮ ＳＮＡＰ", "platform_migration"),  # full-width letters
    ("c'est notre ѕесrеt", "secrecy"),  # Cyrillic ѕ, е, с, е
    ("c'est notre s e c r e t", "secrecy"),
    ("c'est notre se😀cr😀et", "secrecy"),
    (f"c'est notre se{ZW}cr{RLM}et", "secrecy"),
    ("c'est notre s̷e̷c̷r̷e̷t̷", "secrecy"),  # combining marks ("Zalgo")
    ("envoie moi une рhоtо de toi", "image_request"),  # Cyrillic р, о
    ("envoie moi une p h o t o de toi", "image_request"),
    ("envoie moi une ph0t0 de toi", "image_request"),
    ("t'as quel a\u0302ge ?", "age_probing"),  # decomposed accent (NFD, as iOS may send)
]


@pytest.fixture(scope="module")
def client(module_db: str) -> Iterator[TestClient]:
    app = create_app(security_settings(module_db))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
    app.state.store.dispose()


@pytest.fixture(scope="module")
def key(client: TestClient) -> str:
    return new_key(client, "hostile")


@pytest.mark.parametrize("text,category", EVASIONS, ids=[repr(t) for t, _ in EVASIONS])
def test_evasive_text_is_still_detected(
    client: TestClient, key: str, text: str, category: str
) -> None:
    event = {
        "type": "message",
        "id": f"ev-{abs(hash(text))}",
        "conversation": "c-evade",
        "sender": "u-adult",
        "recipients": ["u-child"],
        "text": text,
    }
    r = client.post("/v1/events", json={"events": [event]}, headers=bearer(key))
    assert r.status_code == 200, r.text
    found = {s["category"] for s in r.json()["results"][0]["signals"]}
    assert category in found, f"{text!r} evaded detection of {category}"


# -- media ----------------------------------------------------------------------------------


def _post_media(client: TestClient, key: str, data: bytes, name: str = "x.png") -> dict:
    event = {
        "type": "media",
        "id": f"md-{len(data)}-{name}",
        "sender": "u-1",
        "recipients": ["u-2"],
    }
    r = client.post(
        "/v1/media",
        headers=bearer(key),
        data={"event": json.dumps(event)},
        files={"file": (name, data, "application/octet-stream")},
    )
    return {"status": r.status_code, "error": r.json().get("error", "")}


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    body = kind + payload
    return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))


def _declared_giant_png(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels, with a few bytes of data."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + _png_chunk(b"IEND", b"")
    )


def _real_bomb() -> bytes:
    """A genuine 9000 x 9000 PNG (81 Mpx) that compresses to a few kilobytes."""
    buffer = io.BytesIO()
    Image.new("1", (9000, 9000)).save(buffer, "PNG")
    return buffer.getvalue()


def _benign_png() -> bytes:
    image = Image.new("RGB", (64, 64))
    image.putdata([(x * 4 % 256, y * 4 % 256, 128) for y in range(64) for x in range(64)])
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_decompression_bombs_are_refused_before_decoding(client: TestClient, key: str) -> None:
    for data in (_declared_giant_png(60_000, 60_000), _real_bomb()):
        assert len(data) < 200_000
        answer = _post_media(client, key, data)
        assert answer["status"] == 422
        assert "too large" in answer["error"]


def test_truncated_and_corrupt_images_are_refused_clearly(client: TestClient, key: str) -> None:
    good = _benign_png()
    assert _post_media(client, key, good)["status"] == 200
    truncated = _post_media(client, key, good[: len(good) // 2])
    assert truncated["status"] == 422
    assert "truncated" in truncated["error"] or "corrupt" in truncated["error"]
    garbage = _post_media(client, key, b"\x89PNG\r\n\x1a\n" + b"\xff" * 300)
    assert garbage["status"] == 422 and garbage["error"].startswith("file:")
    empty = _post_media(client, key, b"")
    assert empty["status"] == 422


def test_upload_over_the_media_limit_is_413(make_client: MakeClient) -> None:
    client = make_client()
    client.app.state.settings.media.max_upload_bytes = 10_000  # type: ignore[attr-defined]
    answer = _post_media(client, new_key(client, "p"), b"\x00" * 50_000)
    assert answer["status"] == 413


# -- characters the database cannot store -----------------------------------------------------


@pytest.fixture(params=["sqlite", "postgres"])
def any_db_client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/nul.db"
        upgrade(url)
    else:
        url = request.getfixturevalue("postgres_url")
    app = create_app(security_settings(url))
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c
    app.state.store.dispose()


def test_nul_characters_are_refused_on_every_database(any_db_client: TestClient) -> None:
    """PostgreSQL text cannot hold NUL: in a body, a URL or a form field this was a 500."""
    headers = bearer(new_key(any_db_client, "nul"))
    for event in (
        {"type": "message", "id": "m1", "conversation": "c", "sender": "s", "text": "a\u0000b"},
        {"type": "message", "id": "m\u0000", "conversation": "c", "sender": "s", "text": "ok"},
        {"type": "user_report", "id": "r1", "reporter": "a", "subject": "b", "reason": "x\u0000"},
    ):
        r = any_db_client.post("/v1/events", json={"events": [event]}, headers=headers)
        assert r.status_code == 422, r.text
        assert "NUL" in r.json()["error"]
    for url in ("/v1/events/%00", "/v1/events/a%00b", "/v1/cases?limit=5%00"):
        r = any_db_client.get(url, headers=headers)
        assert r.status_code == 422 and "NUL" in r.json()["error"], url
    form_event = json.dumps({"type": "media", "id": "md\u0000", "sender": "s"})
    r = any_db_client.post(
        "/v1/media",
        headers=headers,
        data={"event": form_event},
        files={"file": ("a.png", _benign_png())},
    )
    assert r.status_code == 422 and "event.id" in r.json()["error"]
    literal = {
        "type": "message",
        "id": "m2",
        "conversation": "c",
        "sender": "s",
        "text": "a backslash-u: \\u0000",
    }
    r = any_db_client.post("/v1/events", json={"events": [literal]}, headers=headers)
    assert r.status_code == 200


def test_animated_images_have_a_total_pixel_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many huge frames compress to little: decoding stops at the budget, not at frame 64."""
    from vigie.detect.media import hashing

    frames = [Image.new("P", (1000, 1000), i) for i in range(10)]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
    decoded: list[int] = []
    real_load = hashing._load_frame

    def counting_load(frame: Image.Image) -> object:
        decoded.append(1)
        return real_load(frame)

    monkeypatch.setattr(hashing, "_load_frame", counting_load)
    monkeypatch.setattr(hashing, "MAX_TOTAL_PIXELS", 3_000_000)
    hashing.hash_media(buffer.getvalue())
    assert len(decoded) == 3
