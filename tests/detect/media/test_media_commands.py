"""``vigie hash`` and ``vigie lists import``: output lines exactly as the contract says."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from media_helpers import photo_like
from typer.testing import CliRunner

from vigie.media_commands import register


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Test root."""

    register(app)
    return app


def test_hash_lines_and_error_exit(app: typer.Typer, tmp_path: Path, data_dir: Path) -> None:
    good = tmp_path / "a.jpg"
    good.write_bytes(photo_like(1))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    wee = data_dir / "pdq" / "images" / "wee.jpg"
    result = CliRunner().invoke(app, ["hash", str(bad), str(good), str(wee)])
    assert result.exit_code != 0
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{bad} error ")
    assert re.fullmatch(rf"{re.escape(str(good))} pdq [0-9a-f]{{64}} \d+", lines[1])
    assert re.fullmatch(rf"{re.escape(str(good))} md5 [0-9a-f]{{32}}", lines[2])
    assert re.fullmatch(rf"{re.escape(str(good))} sha256 [0-9a-f]{{64}}", lines[3])
    assert lines[4] == (
        f"{wee} pdq 6227401f601ff4ccafcc9fad4b0d95d371a2eb7265a3285234d228ca94deeb2d 100"
    )


def test_hash_video_lines(app: typer.Typer, data_dir: Path) -> None:
    video = data_dir / "vpdq" / "videos" / "pattern-sd-grey-bar.mp4"
    result = CliRunner().invoke(app, ["hash", str(video)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert re.fullmatch(rf"{re.escape(str(video))} vpdq 0 [0-9a-f]{{64}} \d+ 0\.000", lines[0])
    assert all(" vpdq " in line for line in lines[:-2])
    assert lines[-2].split()[1] == "md5" and lines[-1].split()[1] == "sha256"


def test_lists_import(app: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vigie.settings import get_settings

    monkeypatch.setenv("VIGIE_DATABASE_URL", f"sqlite:///{tmp_path / 'v.db'}")
    get_settings.cache_clear()
    pdq = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
    csv_file = tmp_path / "list.csv"
    csv_file.write_text(
        "hash_type,hash_value,list,label\n"
        f"pdq,{pdq},hotline,known_csam\n"
        "pdq,123,hotline,known_csam\n"
        "md5,8bbbaa9540800e378beadc8bbef7bb32,ncii,ncii_self_reported\n"
    )
    try:
        first = CliRunner().invoke(app, ["lists", "import", str(csv_file)])
        assert first.exit_code == 0, first.output
        assert first.output.splitlines() == [
            "added 2",
            "rejected line 3: malformed pdq hash: expected 64 hex characters",
        ]
        again = CliRunner().invoke(app, ["lists", "import", str(csv_file)])
        assert again.output.splitlines()[0] == "added 0"
        te_file = tmp_path / "collab.te"
        te_file.write_text(f"pdq {pdq[::-1]}\n")
        te = CliRunner().invoke(app, ["lists", "import", str(te_file), "--label", "known_csam"])
        assert te.output.splitlines() == ["added 1"]
        missing = CliRunner().invoke(app, ["lists", "import", str(tmp_path / "nope.csv")])
        assert missing.exit_code != 0
    finally:
        get_settings.cache_clear()
