"""What a policy is given and what it answers. Knows nothing of HTTP or SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from vigie.detect.base import SubjectProfile
from vigie.domain import DecisionKind, Participant, Signal


class Action(StrEnum):
    """What Vigie asks the platform to do; every action but ``allow`` is sent as a webhook."""

    ALLOW = "allow"
    WARN_CHILD = "warn_child"
    HOLD_MESSAGE = "hold_message"
    BLOCK = "block"
    RESTRICT_CONTACT = "restrict_contact"
    OPEN_CASE = "open_case"
    REQUIRE_REPORT = "require_report"


@dataclass(slots=True)
class PolicyInput:
    event_type: str
    signals: list[Signal]
    risk: float
    categories: list[str]
    sender: Participant | None
    recipients: list[Participant] = field(default_factory=list)
    profile: SubjectProfile = field(default_factory=SubjectProfile)
    hash_labels: list[str] = field(default_factory=list)
    # When the event happened; account age is measured from it (now when unknown).
    at: datetime | None = None
    # The sender is under a restrict_contact action not yet lifted by a moderator.
    sender_restricted: bool = False
    # This message starts the conversation (the first one the platform sent us for it).
    first_message: bool = False


@dataclass(slots=True)
class PolicyOutcome:
    decision: DecisionKind = DecisionKind.ALLOW
    actions: list[Action] = field(default_factory=list)
    case_priority: int | None = None
    require_report: bool = False
    rules: list[str] = field(default_factory=list)
    safety_topics: list[str] = field(default_factory=list)
    # Action → the rules that asked for it: every webhook tells the platform why.
    because: dict[str, list[str]] = field(default_factory=dict)

    @property
    def opens_case(self) -> bool:
        return self.case_priority is not None
