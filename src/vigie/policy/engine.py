"""A first policy, written in code until the policy-file issue replaces it with rules on disk."""

from __future__ import annotations

from vigie.domain import DecisionKind
from vigie.policy.base import Action, PolicyInput, PolicyOutcome

# Categories that call for a safety message to the child the moment they appear.
_WARN_TOPICS = {
    "secrecy": "secrecy",
    "platform_migration": "off_platform",
    "image_request": "image_request",
    "camera_request": "image_request",
    "meeting_request": "meeting",
    "sextortion_threat": "threat",
    "payment_demand": "threat",
}


class Policy:
    """Maps a risk level and categories to a decision; thresholds are settings, not code."""

    def __init__(self, case_threshold: float = 0.6, hold_threshold: float = 0.85) -> None:
        self.case_threshold = case_threshold
        self.hold_threshold = hold_threshold

    def decide(self, inp: PolicyInput) -> PolicyOutcome:
        out = PolicyOutcome()
        if inp.hash_labels:
            out.decision = DecisionKind.BLOCK
            out.actions = [Action.BLOCK, Action.OPEN_CASE, Action.REQUIRE_REPORT]
            out.case_priority = 1
            out.require_report = True
            out.rules.append("known_imagery_block")
            return out
        if inp.event_type == "user_report":
            out.actions = [Action.OPEN_CASE]
            out.case_priority = 2
            out.rules.append("user_report_review")
            return out
        minor_involved = any(p.is_minor for p in inp.recipients)
        topics = sorted({_WARN_TOPICS[c] for c in inp.categories if c in _WARN_TOPICS})
        if "sextortion_threat" in inp.categories and inp.risk >= self.case_threshold:
            out.decision = DecisionKind.BLOCK
            out.actions = [Action.BLOCK, Action.WARN_CHILD, Action.OPEN_CASE]
            out.case_priority = 1
            out.rules.append("sextortion_block")
        elif inp.risk >= self.hold_threshold and minor_involved:
            out.decision = DecisionKind.HOLD
            out.actions = [Action.HOLD_MESSAGE, Action.WARN_CHILD, Action.OPEN_CASE]
            out.case_priority = 2
            out.rules.append("high_risk_hold")
        elif inp.risk >= self.case_threshold:
            out.decision = DecisionKind.WARN if minor_involved else DecisionKind.ALLOW
            out.actions = [Action.WARN_CHILD, Action.OPEN_CASE] if minor_involved else [
                Action.OPEN_CASE
            ]
            out.case_priority = 3
            out.rules.append("risk_review")
        if out.decision == DecisionKind.WARN or Action.WARN_CHILD in out.actions:
            out.safety_topics = topics or ["general"]
        return out
