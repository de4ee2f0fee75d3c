"""The foundation commands, run as a user would (through Typer's runner)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vigie.cli import app
from vigie.console.queries import audit_for_target
from vigie.platforms import authenticate
from vigie.settings import get_settings
from vigie.store.sql import SqlStore

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
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
    assert "already exists" in again.stderr
    assert "vigie platform rotate-key demo" in again.stderr


def test_rotate_key_replaces_a_lost_key_and_is_audited(env: Path) -> None:
    runner.invoke(app, ["db", "upgrade"])
    old = runner.invoke(app, ["platform", "add", "shop"]).output.strip().splitlines()[-1]
    r = runner.invoke(app, ["platform", "rotate-key", "shop"])
    assert r.exit_code == 0, r.output
    new = r.stdout.strip().splitlines()[-1]
    assert new.startswith("vg_") and new != old
    store = SqlStore(get_settings().database_url)
    try:
        with store.unit() as unit:
            assert authenticate(unit, old) is None
            platform = authenticate(unit, new)
        assert platform is not None and platform.name == "shop"
        with store.read() as unit:
            (entry,) = audit_for_target(unit.session, platform.id, "platform.rotate_key")
        assert entry.actor == "cli" and entry.details["revoked_keys"] == 1
        assert new not in json.dumps(entry.details)  # the key itself never reaches the trail
    finally:
        store.dispose()
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0


def test_rotate_key_of_an_unknown_platform_fails(env: Path) -> None:
    runner.invoke(app, ["db", "upgrade"])
    r = runner.invoke(app, ["platform", "rotate-key", "nowhere"])
    assert r.exit_code == 1
    assert "no platform named 'nowhere'" in r.stderr


def test_demo_seeds_once(env: Path) -> None:
    runner.invoke(app, ["db", "upgrade"])
    first = runner.invoke(app, ["demo"])
    assert first.exit_code == 0 and "API key" in first.output
    assert "console: demo-referent@vigie.local / " in first.output
    second = runner.invoke(app, ["demo"])
    assert second.exit_code == 0 and "already exists" in second.output
    assert "vigie platform rotate-key demo-game" in second.output
    rotated = runner.invoke(app, ["platform", "rotate-key", "demo-game"])
    assert rotated.exit_code == 0 and rotated.stdout.strip().splitlines()[-1].startswith("vg_")


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
