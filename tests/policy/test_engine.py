"""The shipped default policy decides as docs/policy.md says, rule by rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from vigie.detect.base import SubjectProfile
from vigie.domain import DecisionKind, Participant
from vigie.policy.base import Action, PolicyInput
from vigie.policy.engine import Policy, load_policy
from vigie.settings import DetectionSettings

NOW = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)
ADULT = Participant("a", 34, account_created=NOW - timedelta(days=300))
CHILD = Participant("b", 13)


@pytest.fixture(scope="module")
def policy() -> Policy:
    return load_policy(None, DetectionSettings(flag_threshold=0.5, hold_threshold=0.85))


def message(risk: float, categories: list[str], **kw: object) -> PolicyInput:
    base: dict[str, object] = {"sender": ADULT, "recipients": [CHILD], "at": NOW}
    base.update(kw)
    return PolicyInput("message", [], risk, categories, **base)  # type: ignore[arg-type]


def test_low_risk_is_allowed_with_no_action(policy: Policy) -> None:
    out = policy.decide(message(0.1, ["age_probing"]))
    assert out.decision == DecisionKind.ALLOW
    assert out.actions == [] and out.case_priority is None and not out.opens_case


def test_review_level_with_child_warns_and_opens_case(policy: Policy) -> None:
    out = policy.decide(message(0.6, ["secrecy"]))
    assert out.decision == DecisionKind.WARN
    assert out.actions == [Action.WARN_CHILD, Action.OPEN_CASE]
    assert out.case_priority == 3
    assert out.safety_topics == ["secrecy"]
    assert "risk_review_minor" in out.rules


def test_review_level_between_adults_only_opens_case(policy: Policy) -> None:
    out = policy.decide(message(0.6, ["secrecy"], recipients=[Participant("c", 40)]))
    assert out.decision == DecisionKind.ALLOW
    assert out.actions == [Action.OPEN_CASE]
    assert out.safety_topics == []


def test_high_risk_to_child_is_held(policy: Policy) -> None:
    out = policy.decide(message(0.9, ["platform_migration"]))
    assert out.decision == DecisionKind.HOLD
    assert Action.HOLD_MESSAGE in out.actions and Action.WARN_CHILD in out.actions
    assert out.case_priority == 2
    assert out.safety_topics == ["off_platform"]


def test_image_request_to_child_raises_priority(policy: Policy) -> None:
    out = policy.decide(message(0.55, ["camera_request"]))
    assert out.decision == DecisionKind.WARN
    assert out.case_priority == 2
    assert out.safety_topics == ["image_request"]


def test_sextortion_to_child_blocks_restricts_and_requires_report(policy: Policy) -> None:
    out = policy.decide(message(0.7, ["sextortion_threat", "payment_demand"]))
    assert out.decision == DecisionKind.BLOCK
    assert set(out.actions) >= {
        Action.BLOCK,
        Action.WARN_CHILD,
        Action.RESTRICT_CONTACT,
        Action.OPEN_CASE,
        Action.REQUIRE_REPORT,
    }
    assert out.require_report and out.case_priority == 1
    assert out.safety_topics == ["threat"]


def test_known_imagery_stops_everything_else(policy: Policy) -> None:
    inp = PolicyInput("media", [], 0.0, [], ADULT, [CHILD], hash_labels=["test-list"])
    out = policy.decide(inp)
    assert out.decision == DecisionKind.BLOCK
    assert out.rules == ["known_imagery"]
    assert out.require_report and out.case_priority == 1


def test_user_report_opens_case_only(policy: Policy) -> None:
    out = policy.decide(PolicyInput("user_report", [], 0.0, ["user_report"], ADULT))
    assert out.decision == DecisionKind.ALLOW
    assert out.actions == [Action.OPEN_CASE] and out.case_priority == 2


def test_new_account_raises_priority(policy: Policy) -> None:
    young = Participant("a", 30, account_created=NOW - timedelta(days=2))
    assert policy.decide(message(0.6, ["gift_offer"], sender=young)).case_priority == 2
    assert policy.decide(message(0.6, ["gift_offer"])).case_priority == 3


def test_adult_contacting_many_minors_is_restricted(policy: Policy) -> None:
    profile = SubjectProfile(distinct_minor_contacts=8)
    out = policy.decide(message(0.6, ["flattery"], profile=profile))
    assert Action.RESTRICT_CONTACT in out.actions
    out = policy.decide(
        message(0.6, ["flattery"], profile=SubjectProfile(distinct_minor_contacts=2))
    )
    assert Action.RESTRICT_CONTACT not in out.actions


def test_repeat_behaviour_raises_priority(policy: Policy) -> None:
    inp = message(0.6, [], recipients=[], profile=SubjectProfile(prior_flags=3))
    out = policy.decide(inp)
    assert out.case_priority == 2 and "repeat_behaviour" in out.rules


def test_warn_without_topic_category_uses_general(policy: Policy) -> None:
    assert policy.decide(message(0.6, ["flattery"])).safety_topics == ["general"]


def test_thresholds_come_from_settings() -> None:
    strict = load_policy(None, DetectionSettings(flag_threshold=0.3, hold_threshold=0.5))
    assert strict.decide(message(0.55, [])).decision == DecisionKind.HOLD


def test_legacy_constructor_still_builds_the_default_policy() -> None:
    assert Policy(0.6, 0.85).decide(message(0.65, [])).decision == DecisionKind.WARN


def test_restricted_sender_cannot_start_a_conversation_with_a_minor(policy: Policy) -> None:
    out = policy.decide(message(0.0, [], sender_restricted=True, first_message=True))
    assert out.decision == DecisionKind.BLOCK
    assert out.rules == ["restricted_sender_new_minor_contact"]
    ongoing = policy.decide(message(0.0, [], sender_restricted=True, first_message=False))
    assert ongoing.decision == DecisionKind.ALLOW
    adults = message(
        0.0, [], sender_restricted=True, first_message=True, recipients=[Participant("c", 40)]
    )
    assert policy.decide(adults).decision == DecisionKind.ALLOW
