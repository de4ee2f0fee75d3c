"""vigie policy show / test: the dry run compares two policies on the same traffic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from vigie.conversations import parse_conversation
from vigie.detect.base import DetectorOutput, MessageContext
from vigie.domain import DecisionKind, Signal
from vigie.policy.commands import register
from vigie.policy.engine import Policy, load_policy
from vigie.policy.replay import compare, conversation_inputs
from vigie.settings import DetectionSettings

STRICT = """\
version = 1
name = "strict"

[[rule]]
name = "warn_early"
why = "warn children earlier"
[rule.when]
risk_at_least = 0.3
recipient_minor = true
[rule.then]
decision = "warn"
actions = ["warn_child", "open_case"]
case_priority = 3
"""

CONVERSATION = {
    "id": "c-1", "lang": "en", "label": "grooming",
    "participants": {"a": {"age": 30}, "b": {"age": 12}},
    "messages": [{"from": "a", "text": "hi"}, {"from": "b", "text": "hello"},
                 {"from": "a", "text": "keep it between us"},
                 {"from": "a", "text": "keep it secret ok"}],
}  # fmt: skip


class KeywordDetector:
    """A stand-in detector: risk grows by 0.35 with each message containing 'keep'."""

    name = "fake"
    version = "1"

    def detect(self, ctx: MessageContext) -> DetectorOutput:
        if "keep" not in ctx.text:
            return DetectorOutput(risk=ctx.state.get("risk", 0.0))
        ctx.state["risk"] = ctx.state.get("risk", 0.0) + 0.35
        signal = Signal("fake", "secrecy", 0.9, "asks for secrecy")
        return DetectorOutput([signal], ctx.state["risk"], ["secrecy"])


@pytest.fixture
def strict(tmp_path: Path) -> Path:
    path = tmp_path / "strict.toml"
    path.write_text(STRICT)
    return path


def test_inputs_stream_without_look_ahead() -> None:
    record = parse_conversation(CONVERSATION)
    inputs = list(conversation_inputs(record, [KeywordDetector()]))
    assert [round(i.risk, 2) for _, i in inputs] == [0.0, 0.0, 0.35, 0.7]
    assert inputs[0][1].categories == [] and inputs[3][1].categories == ["secrecy"]
    assert [p.handle for p in inputs[2][1].recipients] == ["b"]


def test_compare_counts_and_examples(strict: Path) -> None:
    before = Policy(0.5, 0.85)
    after = load_policy(strict, DetectionSettings())
    result = compare([parse_conversation(CONVERSATION)], [KeywordDetector()], before, after)
    assert result.messages == 4 and result.differing == 1
    assert result.before.decisions["warn"] == 1 and result.after.decisions["warn"] == 2
    [diff] = result.examples
    assert diff.index == 2 and diff.before.decision == DecisionKind.ALLOW
    assert diff.after.decision == DecisionKind.WARN
    assert result.after.cases_by_label["grooming"] == 1


def app() -> typer.Typer:
    cli = typer.Typer()

    @cli.callback()
    def main() -> None:
        """Test app."""

    register(cli)
    return cli


def test_show_prints_the_default_policy() -> None:
    result = CliRunner().invoke(app(), ["policy", "show"])
    assert result.exit_code == 0
    assert 'name = "vigie-default"' in result.stdout and "[[rule]]" in result.stdout


def test_invalid_policy_exits_non_zero_naming_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(STRICT.replace('"warn_child"', '"warn_kid"'))
    conv = tmp_path / "c.jsonl"
    conv.write_text(json.dumps(CONVERSATION) + "\n")
    result = CliRunner().invoke(app(), ["policy", "test", str(bad), "--on", str(conv)])
    assert result.exit_code == 2
    assert "line 12" in result.output and "warn_kid" in result.output


def test_policy_test_on_file(strict: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "vigie.detect.registry.build_text_detectors", lambda settings: [KeywordDetector()]
    )
    conv = tmp_path / "c.jsonl"
    conv.write_text(json.dumps(CONVERSATION) + "\n")
    result = CliRunner().invoke(app(), ["policy", "test", str(strict), "--on", str(conv)])
    assert result.exit_code == 0, result.output
    assert "Replayed 1 conversations, 4 messages" in result.stdout
    assert "1 messages decided differently" in result.stdout
    assert "keep it between us" in result.stdout
    as_json = CliRunner().invoke(
        app(), ["policy", "test", str(strict), "--on", str(conv), "--json"]
    )
    assert json.loads(as_json.stdout)["differing_messages"] == 1
