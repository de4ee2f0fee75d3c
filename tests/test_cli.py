"""The foundation commands, run as a user would (through Typer's runner)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vigie.cli import app
from vigie.settings import get_settings

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VIGIE_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_db_upgrade_then_platform_add_prints_key_last(env: Path) -> None:
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    r = runner.invoke(app, ["platform", "add", "demo", "--webhook", "https://example.org/h"])
    assert r.exit_code == 0, r.output
    lines = r.output.strip().splitlines()
    assert any(line.startswith("webhook-secret: ") for line in lines)
    assert lines[-1].startswith("vg_")
    again = runner.invoke(app, ["platform", "add", "demo"])
    assert again.exit_code != 0


def test_demo_seeds_once(env: Path) -> None:
    runner.invoke(app, ["db", "upgrade"])
    first = runner.invoke(app, ["demo"])
    assert first.exit_code == 0 and "API key" in first.output
    assert "console: demo-referent@vigie.local / " in first.output
    second = runner.invoke(app, ["demo"])
    assert second.exit_code == 0 and "already exists" in second.output


def test_scan_writes_one_line_per_conversation(env: Path) -> None:
    src = Path(__file__).parent / "fixtures" / "conversations_small.jsonl"
    out = env / "out.jsonl"
    r = runner.invoke(app, ["scan", str(src), "--out", str(out)])
    assert r.exit_code == 0, r.output
    inputs = [json.loads(line) for line in src.read_text(encoding="utf-8").splitlines()]
    outputs = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [o["id"] for o in outputs] == [i["id"] for i in inputs]
    for i, o in zip(inputs, outputs, strict=True):
        assert set(o) >= {"id", "flagged", "first_flag_index", "risk", "categories", "subject"}
        assert 0.0 <= o["risk"] <= 1.0
        if i["label"] == "benign":
            assert not o["flagged"], i["id"]
        else:
            assert o["flagged"] and o["subject"] == "a", i["id"]
            assert o["first_flag_index"] >= i["first_risk_index"] - 1
