"""The policy engine: runs the rules of a policy file, in order, over one event's signals.

Every matching rule contributes: the decision is the strongest one asked for, actions are the
union, the case priority the most urgent. ``stop = true`` ends the evaluation, which lets a
rule such as known imagery settle the outcome on its own.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from vigie.domain import DecisionKind
from vigie.policy.base import Action, PolicyInput, PolicyOutcome
from vigie.policy.loader import PolicyDocument, parse_policy, read_policy
from vigie.settings import DetectionSettings

DEFAULT_POLICY = "default_policy.toml"

# Which safety message a category calls for, unless the policy file says otherwise.
DEFAULT_TOPICS = {
    "secrecy": "secrecy",
    "isolation": "secrecy",
    "platform_migration": "off_platform",
    "image_request": "image_request",
    "camera_request": "image_request",
    "meeting_request": "meeting",
    "sextortion_threat": "threat",
    "payment_demand": "threat",
}

_ACTION_ORDER = list(Action)


def default_policy_text() -> str:
    """The shipped default policy, as written (comments included)."""
    return resources.files("vigie.policy").joinpath(DEFAULT_POLICY).read_text(encoding="utf-8")


def _thresholds(case_threshold: float, hold_threshold: float) -> dict[str, float]:
    return {"flag_threshold": case_threshold, "hold_threshold": hold_threshold}


class Policy:
    """Maps signals and context to a decision and actions, following a policy document.

    ``Policy(case_threshold, hold_threshold)`` builds the shipped default policy with those
    thresholds; ``load_policy`` is the usual way in.
    """

    def __init__(
        self,
        case_threshold: float = 0.5,
        hold_threshold: float = 0.85,
        document: PolicyDocument | None = None,
    ) -> None:
        self.case_threshold = case_threshold
        self.hold_threshold = hold_threshold
        self.document = document or parse_policy(
            default_policy_text(), DEFAULT_POLICY, _thresholds(case_threshold, hold_threshold)
        )
        self.topics = {**DEFAULT_TOPICS, **self.document.safety_topics}

    @property
    def name(self) -> str:
        return self.document.name

    def decide(self, inp: PolicyInput) -> PolicyOutcome:
        out = PolicyOutcome()
        kinds = [DecisionKind.ALLOW]
        actions: set[Action] = set()
        topics: list[str] = []
        for rule in self.document.rules:
            if not rule.when.holds(inp):
                continue
            then = rule.then
            out.rules.append(rule.name)
            kinds.append(then.decision)
            actions.update(then.actions)
            for action in then.actions:
                out.because.setdefault(action.value, []).append(rule.name)
            topics.extend(then.safety_topics)
            if then.case_priority is not None:
                current = out.case_priority
                out.case_priority = min(then.case_priority, current or then.case_priority)
            if then.stop:
                break
        out.decision = DecisionKind.strongest(kinds)
        actions.discard(Action.ALLOW)
        out.actions = [a for a in _ACTION_ORDER if a in actions]
        out.require_report = Action.REQUIRE_REPORT in actions
        if Action.WARN_CHILD in actions:
            out.safety_topics = self._topics(inp, topics)
        return out

    def _topics(self, inp: PolicyInput, chosen: list[str]) -> list[str]:
        found = chosen or [self.topics[c] for c in inp.categories if c in self.topics]
        return sorted(set(found)) or ["general"]


def load_policy(path: str | Path | None, detection: DetectionSettings) -> Policy:
    """The policy to run: the file at ``path``, or the shipped default when ``None``.

    Raises ``PolicyError`` (naming the line) when the file is invalid, so a bad policy stops
    the process at start rather than deciding wrongly.
    """
    thresholds = _thresholds(detection.flag_threshold, detection.hold_threshold)
    document = None if path is None else read_policy(path, thresholds)
    return Policy(detection.flag_threshold, detection.hold_threshold, document)
