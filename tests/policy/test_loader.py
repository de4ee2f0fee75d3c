"""Policy files are validated with errors that name the line and the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigie.domain import DecisionKind, Participant
from vigie.policy.base import PolicyInput
from vigie.policy.engine import default_policy_text, load_policy
from vigie.policy.loader import PolicyError, parse_policy
from vigie.settings import DetectionSettings

GOOD = """\
version = 1
name = "strict"

[thresholds]
early = 0.3

[[rule]]
name = "early_warn"
why = "warn sooner"
[rule.when]
risk_at_least = "early"
recipient_minor = true
[rule.then]
decision = "warn"
actions = ["warn_child", "open_case"]
case_priority = 3
"""


def error_for(text: str) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        parse_policy(text, "p.toml", {"flag_threshold": 0.5, "hold_threshold": 0.85})
    return info.value


def test_default_policy_is_valid() -> None:
    doc = parse_policy(
        default_policy_text(), thresholds={"flag_threshold": 0.5, "hold_threshold": 0.85}
    )
    assert doc.name == "vigie-default" and len(doc.rules) >= 8
    assert all(rule.why for rule in doc.rules)


def test_custom_policy_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "strict.toml"
    path.write_text(GOOD)
    policy = load_policy(path, DetectionSettings())
    inp = PolicyInput("message", [], 0.35, [], Participant("a", 30), [Participant("b", 12)])
    out = policy.decide(inp)
    assert out.decision == DecisionKind.WARN and out.rules == ["early_warn"]


def test_unknown_action_names_line_and_rule() -> None:
    err = error_for(GOOD.replace('"warn_child", "open_case"', '"warn_kid", "open_case"'))
    assert err.line == 15 and err.rule == "early_warn"
    assert "warn_kid" in str(err) and "line 15" in str(err)


def test_unknown_condition_names_its_line() -> None:
    err = error_for(GOOD.replace("recipient_minor = true", "recipient_minr = true"))
    assert err.line == 12 and "recipient_minr" in str(err)


def test_unknown_category_is_rejected() -> None:
    err = error_for(GOOD.replace("recipient_minor = true", 'categories_any = ["secret"]'))
    assert err.line == 12 and "secret" in str(err)


def test_unknown_threshold_name() -> None:
    err = error_for(GOOD.replace('"early"', '"earli"'))
    assert err.line == 11 and "earli" in str(err)


def test_open_case_needs_priority() -> None:
    err = error_for(GOOD.replace("case_priority = 3\n", ""))
    assert err.line == 15 and "case_priority" in str(err)


def test_bad_decision() -> None:
    err = error_for(GOOD.replace('decision = "warn"', 'decision = "ban"'))
    assert err.line == 14 and "ban" in str(err)


def test_toml_syntax_error_names_line() -> None:
    err = error_for(GOOD.replace('name = "early_warn"', "name = early_warn"))
    assert err.line == 8


def test_duplicate_rule_names() -> None:
    err = error_for(GOOD + GOOD[GOOD.index("[[rule]]") :])
    assert "two rules" in str(err) and err.line == 17


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read"):
        load_policy(tmp_path / "missing.toml", DetectionSettings())
