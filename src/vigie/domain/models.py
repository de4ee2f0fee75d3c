"""Plain dataclasses for the things Vigie keeps. No I/O, no framework."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class AgeSource(StrEnum):
    DECLARED = "declared"
    ESTIMATED = "estimated"
    VERIFIED = "verified"
    UNKNOWN = "unknown"


class DecisionKind(StrEnum):
    """What the platform must do with the event, from least to most restrictive."""

    ALLOW = "allow"
    WARN = "warn"
    HOLD = "hold"
    BLOCK = "block"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    @classmethod
    def strongest(cls, kinds: list[DecisionKind]) -> DecisionKind:
        return max(kinds, key=lambda k: k.severity, default=cls.ALLOW)


_SEVERITY = {
    DecisionKind.ALLOW: 0,
    DecisionKind.WARN: 1,
    DecisionKind.HOLD: 2,
    DecisionKind.BLOCK: 3,
}


class CaseStatus(StrEnum):
    OPEN = "open"
    IN_REVIEW = "in_review"
    ESCALATED = "escalated"
    REPORT_PENDING = "report_pending"
    REPORTED = "reported"
    ACTIONED = "actioned"
    DISMISSED = "dismissed"


@dataclass(slots=True)
class Platform:
    id: str
    name: str
    pseudonym_secret: str
    webhook_url: str | None = None
    webhook_secret: str | None = None
    created_at: datetime | None = None


@dataclass(slots=True)
class Participant:
    """What the detectors may know of a person: never their real identifier."""

    handle: str
    age: int | None = None
    age_source: AgeSource = AgeSource.UNKNOWN
    account_created: datetime | None = None

    @property
    def is_minor(self) -> bool:
        return self.age is not None and self.age < 18

    @property
    def is_adult(self) -> bool:
        return self.age is not None and self.age >= 18


@dataclass(slots=True)
class Account:
    platform_id: str
    pseudo_id: str
    age: int | None = None
    age_source: AgeSource = AgeSource.UNKNOWN
    created_at: datetime | None = None
    first_seen: datetime | None = None
    restricted: bool = False

    def as_participant(self) -> Participant:
        return Participant(self.pseudo_id, self.age, self.age_source, self.created_at)


@dataclass(slots=True)
class PriorMessage:
    """A message already seen in this conversation (oldest first in the history).

    Here rather than in ``detect/`` because the store reads it back and detectors read it:
    both sides know the domain, neither has to know the other.
    """

    sender: str
    text: str
    sent_at: datetime | None = None


@dataclass(slots=True)
class Message:
    platform_id: str
    conversation_id: str
    sender: str
    text: str
    sent_at: datetime
    recipients: list[str] = field(default_factory=list)
    event_id: str | None = None
    id: int | None = None


@dataclass(slots=True)
class MediaRef:
    """A reference to media by its hashes; the bytes themselves are never kept by default."""

    platform_id: str
    conversation_id: str | None
    sender: str
    hashes: dict[str, str]
    sent_at: datetime
    recipients: list[str] = field(default_factory=list)
    event_id: str | None = None
    id: int | None = None


@dataclass(slots=True)
class Signal:
    """One detector's observation: which category, how strong, and why, in words."""

    detector: str
    category: str
    score: float
    explanation: str
    span: tuple[int, int] | None = None
    evidence: str | None = None
    model: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def public(self) -> dict[str, Any]:
        """The fields promised to platforms in the events API."""
        return {
            "detector": self.detector,
            "category": self.category,
            "score": round(self.score, 4),
            "explanation": self.explanation,
        }


@dataclass(slots=True)
class Case:
    platform_id: str
    subject: str
    id: str
    status: CaseStatus = CaseStatus.OPEN
    priority: int = 3
    risk: float = 0.0
    categories: list[str] = field(default_factory=list)
    conversation_id: str | None = None
    assignee: str | None = None
    requires_report: bool = False
    opened_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(slots=True)
class Decision:
    platform_id: str
    event_id: str
    kind: DecisionKind
    actions: list[str] = field(default_factory=list)
    case_id: str | None = None
    policy_rule: str | None = None
    at: datetime | None = None


@dataclass(slots=True)
class AuditEvent:
    actor: str
    action: str
    target: str
    at: datetime
    details: dict[str, Any] = field(default_factory=dict)
    platform_id: str | None = None
    id: int | None = None
    prev_hash: str = ""
    hash: str = ""
