"""End to end: a hash list imported from the command line blocks a near-variant at once.

The "known" image is a benign reference photograph from tests/data; the list is ours.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from services import DATA
from vigie.cli import app as cli
from vigie.detect.media.hashing import hash_media
from vigie.settings import Settings, get_settings

IMAGES = DATA / "pdq" / "images"


def _pdq(name: str) -> str:
    return hash_media((IMAGES / name).read_bytes())["pdq"]


@pytest.fixture
def imported_list(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "list.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["hash_type", "hash_value", "list", "label"])
        w.writerow(["pdq", _pdq("bridge-mods__aaa-orig.jpg"), "test-hotline", "known_csam"])
    monkeypatch.setenv("VIGIE_DATABASE_URL", settings.database_url)
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["lists", "import", str(path)])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output


def test_platform_side_hash_of_an_edit_is_blocked_and_marked_for_report(
    client: TestClient, auth: dict[str, str], imported_list: None
) -> None:
    time.sleep(0.6)  # the matcher picks up list changes within a second
    event = {
        "type": "media",
        "id": "md-1",
        "conversation": "c-1",
        "sender": "u-1",
        "recipients": ["u-2"],
        "hashes": {"pdq": _pdq("bridge-mods__blur-a-lot.jpg")},
    }
    r = client.post("/v1/events", json={"events": [event]}, headers=auth).json()["results"][0]
    assert r["decision"] == "block"
    assert r["signals"][0]["category"] == "known_imagery"
    assert "test-hotline" in r["signals"][0]["explanation"]
    cases = client.get("/v1/cases", headers=auth).json()["cases"]
    assert cases[0]["id"] == r["case"] and cases[0]["requires_report"] is True


def test_unrelated_image_is_allowed(
    client: TestClient, auth: dict[str, str], imported_list: None
) -> None:
    event = {"type": "media", "id": "md-2", "sender": "u-1", "hashes": {"pdq": _pdq("wee.jpg")}}
    r = client.post("/v1/events", json={"events": [event]}, headers=auth).json()["results"][0]
    assert r["decision"] == "allow" and r["case"] is None
