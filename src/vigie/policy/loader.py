"""Reads a policy file (TOML) into rules, with errors that name the line and the rule.

Policy files are edited by safety officers, not programmers: every mistake (a typo in an
action, a category that does not exist, a missing priority) must be reported with the line
to fix, and an invalid file must never be half-loaded.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vigie.domain import CATEGORIES, DecisionKind
from vigie.policy.base import Action
from vigie.policy.rules import EVENT_TYPES, PROFILE_COUNTERS, Rule, Then, When

SAFETY_TOPICS = ("secrecy", "off_platform", "image_request", "meeting", "threat", "general")
THRESHOLD_NAMES = ("flag_threshold", "hold_threshold")
_TOP_KEYS = {"version", "name", "description", "thresholds", "safety_topics", "rule"}
_RULE_KEYS = {"name", "why", "when", "then"}
_THEN_KEYS = {"decision", "actions", "case_priority", "safety_topics", "stop"}
_LIST_CONDITIONS = {"event", "categories_any", "categories_all", "hash_label_any"}
_BOOL_CONDITIONS = {
    "recipient_minor",
    "sender_adult",
    "sender_minor",
    "sender_age_unknown",
    "sender_restricted",
    "first_message",
}
_NUMBER_CONDITIONS = {"age_gap_at_least", "sender_account_days_below"}
_RISK_CONDITIONS = {"risk_at_least", "risk_below"}
_PROFILE_CONDITIONS = {f"min_{name}" for name in PROFILE_COUNTERS}
_WHEN_KEYS = (
    _LIST_CONDITIONS
    | _BOOL_CONDITIONS
    | _NUMBER_CONDITIONS
    | _RISK_CONDITIONS
    | _PROFILE_CONDITIONS
)


class PolicyError(ValueError):
    """An invalid policy file: says which line (and rule) to fix, and why."""

    def __init__(
        self, message: str, line: int | None = None, rule: str | None = None, source: str = "policy"
    ) -> None:
        where = f"{source}, line {line}" if line else source
        who = f" (rule '{rule}')" if rule else ""
        super().__init__(f"{where}{who}: {message}")
        self.line = line
        self.rule = rule


@dataclass(slots=True)
class PolicyDocument:
    """A validated policy file, before thresholds from settings are folded in."""

    name: str
    description: str
    rules: list[Rule]
    thresholds: dict[str, float] = field(default_factory=dict)
    safety_topics: dict[str, str] = field(default_factory=dict)
    text: str = ""


class _Lines:
    """Finds the line of a key in the file, so semantic errors point where to look."""

    _HEADER = re.compile(r"^\s*\[\[?\s*([A-Za-z0-9_.\- ]+?)\s*\]\]?\s*(#.*)?$")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")

    def __init__(self, text: str) -> None:
        self.rule_lines: list[int] = []
        self.keys: dict[tuple[int, str, str], int] = {}
        self.top: dict[tuple[str, str], int] = {}
        rule, table = -1, ""
        for number, raw in enumerate(text.splitlines(), start=1):
            head = self._HEADER.match(raw)
            if head:
                table = head.group(1).replace(" ", "")
                if raw.strip().startswith("[[") and table == "rule":
                    rule += 1
                    self.rule_lines.append(number)
                continue
            key = self._KEY.match(raw)
            if not key:
                continue
            if table.startswith("rule") and rule >= 0:
                self.keys.setdefault((rule, table, key.group(1)), number)
            else:
                self.top.setdefault((table, key.group(1)), number)

    def rule(self, index: int) -> int | None:
        return self.rule_lines[index] if index < len(self.rule_lines) else None

    def key(self, index: int, table: str, key: str) -> int | None:
        return self.keys.get((index, table, key)) or self.rule(index)


def parse_policy(
    text: str, source: str = "policy", thresholds: dict[str, float] | None = None
) -> PolicyDocument:
    """Validate a policy file's text; raise PolicyError naming the line on any mistake.

    ``thresholds`` are the named risk levels rules may refer to (``flag_threshold`` and
    ``hold_threshold`` from the detection settings); the file's ``[thresholds]`` table adds
    to them and, being more specific, wins.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise PolicyError(
            f"not valid TOML: {exc}", int(match.group(1)) if match else None, source=source
        ) from exc
    lines = _Lines(text)
    for key in data:
        if key not in _TOP_KEYS:
            raise PolicyError(
                f"unknown key '{key}' (expected one of {_sorted(_TOP_KEYS)})",
                lines.top.get(("", key)),
                source=source,
            )
    if data.get("version", 1) != 1:
        raise PolicyError(
            "only version = 1 is understood", lines.top.get(("", "version")), source=source
        )
    named = dict(thresholds or {})
    named.update(_thresholds(data.get("thresholds", {}), lines, source))
    topics = _topic_map(data.get("safety_topics", {}), lines, source)
    raw_rules = data.get("rule", [])
    if not isinstance(raw_rules, list) or not raw_rules:
        raise PolicyError("a policy needs at least one [[rule]]", None, source=source)
    rules = [_rule(i, raw, lines, named, source) for i, raw in enumerate(raw_rules)]
    names = [r.name for r in rules]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise PolicyError("two rules have this name", rules[i].line, name, source)
    return PolicyDocument(
        str(data.get("name", "policy")),
        str(data.get("description", "")),
        rules,
        named,
        topics,
        text,
    )


def read_policy(path: str | Path, thresholds: dict[str, float] | None = None) -> PolicyDocument:
    """Read and validate a policy file from disk."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read the file: {exc.strerror}", source=str(p)) from exc
    return parse_policy(text, source=str(p), thresholds=thresholds)


def _thresholds(raw: Any, lines: _Lines, source: str) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise PolicyError(
            "[thresholds] must be a table", lines.top.get(("", "thresholds")), source=source
        )
    out: dict[str, float] = {}
    for key, value in raw.items():
        line = lines.top.get(("thresholds", key))
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise PolicyError(f"threshold '{key}' must be a number in [0, 1]", line, source=source)
        out[key] = float(value)
    return out


def _topic_map(raw: Any, lines: _Lines, source: str) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise PolicyError("[safety_topics] must be a table", None, source=source)
    for category, topic in raw.items():
        line = lines.top.get(("safety_topics", category))
        _check_category(category, line, None, source)
        if topic not in SAFETY_TOPICS:
            raise PolicyError(
                f"unknown safety topic '{topic}' (one of {', '.join(SAFETY_TOPICS)})",
                line,
                source=source,
            )
    return {str(k): str(v) for k, v in raw.items()}


def _rule(index: int, raw: Any, lines: _Lines, thresholds: dict[str, float], source: str) -> Rule:
    line = lines.rule(index)
    if not isinstance(raw, dict):
        raise PolicyError("a [[rule]] must be a table", line, source=source)
    name = raw.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_\-]+", name):
        raise PolicyError(
            'every rule needs name = "lower_case_name"',
            lines.key(index, "rule", "name"),
            source=source,
        )
    for key in raw:
        if key not in _RULE_KEYS:
            raise PolicyError(
                f"unknown key '{key}' (expected one of {_sorted(_RULE_KEYS)})",
                lines.key(index, "rule", key),
                name,
                source,
            )
    if "then" not in raw:
        raise PolicyError("a rule needs a [rule.then] table", line, name, source)
    ctx = _Ctx(index, name, lines, source)
    when = _when(raw.get("when", {}), ctx, thresholds)
    then = _then(raw["then"], ctx)
    return Rule(name, str(raw.get("why", "")), when, then, line or 0)


@dataclass(slots=True)
class _Ctx:
    index: int
    rule: str
    lines: _Lines
    source: str

    def error(self, table: str, key: str, message: str) -> PolicyError:
        line = self.lines.key(self.index, table, key)
        return PolicyError(message, line, self.rule, self.source)


def _when(raw: Any, ctx: _Ctx, thresholds: dict[str, float]) -> When:
    if not isinstance(raw, dict):
        raise ctx.error("rule", "when", "[rule.when] must be a table")
    when = When()
    for key, value in raw.items():
        if key not in _WHEN_KEYS:
            raise ctx.error(
                "rule.when", key, f"unknown condition '{key}' (one of {_sorted(_WHEN_KEYS)})"
            )
        if key in _LIST_CONDITIONS:
            setattr(when, key, _str_list(value, ctx, "rule.when", key))
        elif key in _BOOL_CONDITIONS:
            if not isinstance(value, bool):
                raise ctx.error("rule.when", key, f"'{key}' must be true or false")
            setattr(when, key, value)
        elif key in _RISK_CONDITIONS:
            setattr(when, key, _risk(value, ctx, key, thresholds))
        else:
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ctx.error("rule.when", key, f"'{key}' must be a number >= 0")
            if key in _PROFILE_CONDITIONS:
                when.profile_min[key[len("min_") :]] = int(value)
            else:
                setattr(when, key, value)
    _check_values(when, ctx)
    return when


def _check_values(when: When, ctx: _Ctx) -> None:
    for event in when.event:
        if event not in EVENT_TYPES:
            raise ctx.error(
                "rule.when",
                "event",
                f"unknown event type '{event}' (one of {', '.join(EVENT_TYPES)})",
            )
    for key in ("categories_any", "categories_all"):
        for category in getattr(when, key):
            _check_category(
                category, ctx.lines.key(ctx.index, "rule.when", key), ctx.rule, ctx.source
            )


def _risk(value: Any, ctx: _Ctx, key: str, thresholds: dict[str, float]) -> float:
    if isinstance(value, str):
        if value in thresholds:
            return thresholds[value]
        known = sorted(set(THRESHOLD_NAMES) | set(thresholds))
        raise ctx.error(
            "rule.when",
            key,
            f"unknown threshold '{value}' (one of {', '.join(known)}, or a number)",
        )
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ctx.error("rule.when", key, f"'{key}' must be a number in [0, 1] or a threshold")
    return float(value)


def _then(raw: Any, ctx: _Ctx) -> Then:
    if not isinstance(raw, dict):
        raise ctx.error("rule", "then", "[rule.then] must be a table")
    for key in raw:
        if key not in _THEN_KEYS:
            raise ctx.error("rule.then", key, f"unknown key '{key}' (one of {_sorted(_THEN_KEYS)})")
    then = Then()
    decision = raw.get("decision", "allow")
    try:
        then.decision = DecisionKind(decision)
    except ValueError:
        choices = ", ".join(d.value for d in DecisionKind)
        raise ctx.error(
            "rule.then", "decision", f"unknown decision '{decision}' (one of {choices})"
        ) from None
    for name in _str_list(raw.get("actions", []), ctx, "rule.then", "actions"):
        try:
            then.actions.append(Action(name))
        except ValueError:
            choices = ", ".join(a.value for a in Action)
            raise ctx.error(
                "rule.then", "actions", f"unknown action '{name}' (one of {choices})"
            ) from None
    then.case_priority = _priority(raw.get("case_priority"), then, ctx)
    then.safety_topics = _str_list(raw.get("safety_topics", []), ctx, "rule.then", "safety_topics")
    for topic in then.safety_topics:
        if topic not in SAFETY_TOPICS:
            raise ctx.error("rule.then", "safety_topics", f"unknown safety topic '{topic}'")
    stop = raw.get("stop", False)
    if not isinstance(stop, bool):
        raise ctx.error("rule.then", "stop", "'stop' must be true or false")
    then.stop = stop
    return then


def _priority(value: Any, then: Then, ctx: _Ctx) -> int | None:
    opens = Action.OPEN_CASE in then.actions
    if value is None:
        if opens:
            raise ctx.error(
                "rule.then", "actions", "open_case needs case_priority = 1 (most urgent) to 4"
            )
        return None
    if not opens:
        raise ctx.error(
            "rule.then",
            "case_priority",
            "case_priority is only meaningful with the open_case action",
        )
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 4:
        raise ctx.error("rule.then", "case_priority", "case_priority must be 1, 2, 3 or 4")
    return value


def _str_list(value: Any, ctx: _Ctx, table: str, key: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ctx.error(table, key, f"'{key}' must be a list of strings")
    return list(value)


def _check_category(category: str, line: int | None, rule: str | None, source: str) -> None:
    known = {c.value for c in CATEGORIES}
    if category not in known:
        raise PolicyError(
            f"unknown category '{category}' (one of {', '.join(sorted(known))})", line, rule, source
        )


def _sorted(keys: set[str]) -> str:
    return ", ".join(sorted(keys))
