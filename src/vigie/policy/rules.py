"""One policy rule: a set of conditions on signals and context, and what to do when they hold.

Conditions are all optional and all must hold (AND); a rule with no condition always matches.
Keeping each condition a plain field (not an expression language) makes a policy file easy
to read for safety officers and impossible to turn into code execution.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from vigie.domain import DecisionKind, Participant
from vigie.policy.base import Action, PolicyInput

EVENT_TYPES = ("message", "media", "user_report", "account")

# Names of the SubjectProfile counters a rule may test with ``min_<name>``.
PROFILE_COUNTERS = (
    "distinct_minor_contacts",
    "conversations",
    "open_cases",
    "prior_flags",
    "off_platform_requests",
)


@dataclass(slots=True)
class When:
    """The conditions of a rule. ``None`` (or empty) means 'not tested'."""

    event: list[str] = field(default_factory=list)
    categories_any: list[str] = field(default_factory=list)
    categories_all: list[str] = field(default_factory=list)
    risk_at_least: float | None = None
    risk_below: float | None = None
    hash_label_any: list[str] = field(default_factory=list)
    recipient_minor: bool | None = None
    sender_adult: bool | None = None
    sender_minor: bool | None = None
    sender_age_unknown: bool | None = None
    sender_restricted: bool | None = None
    first_message: bool | None = None
    age_gap_at_least: int | None = None
    sender_account_days_below: float | None = None
    profile_min: dict[str, int] = field(default_factory=dict)

    def holds(self, inp: PolicyInput) -> bool:
        return (
            self._event_ok(inp)
            and self._categories_ok(inp)
            and self._risk_ok(inp)
            and self._hash_ok(inp)
            and self._ages_ok(inp)
            and self._account_ok(inp)
            and self._profile_ok(inp)
            and self._flags_ok(inp)
        )

    def _flags_ok(self, inp: PolicyInput) -> bool:
        if self.sender_restricted is not None and self.sender_restricted != inp.sender_restricted:
            return False
        return self.first_message is None or self.first_message == inp.first_message

    def _event_ok(self, inp: PolicyInput) -> bool:
        return not self.event or inp.event_type in self.event

    def _categories_ok(self, inp: PolicyInput) -> bool:
        present = set(inp.categories)
        if self.categories_any and not present.intersection(self.categories_any):
            return False
        return set(self.categories_all) <= present

    def _risk_ok(self, inp: PolicyInput) -> bool:
        if self.risk_at_least is not None and inp.risk < self.risk_at_least:
            return False
        return self.risk_below is None or inp.risk < self.risk_below

    def _hash_ok(self, inp: PolicyInput) -> bool:
        if not self.hash_label_any:
            return True
        if "*" in self.hash_label_any:
            return bool(inp.hash_labels)
        return bool(set(inp.hash_labels).intersection(self.hash_label_any))

    def _ages_ok(self, inp: PolicyInput) -> bool:
        sender = inp.sender
        if self.recipient_minor is not None and self.recipient_minor != _any_minor(inp):
            return False
        if self.sender_adult is not None and self.sender_adult != _is(sender, "adult"):
            return False
        if self.sender_minor is not None and self.sender_minor != _is(sender, "minor"):
            return False
        unknown = sender is None or sender.age is None
        if self.sender_age_unknown is not None and self.sender_age_unknown != unknown:
            return False
        if self.age_gap_at_least is not None:
            gap = _age_gap(sender, inp.recipients)
            if gap is None or gap < self.age_gap_at_least:
                return False
        return True

    def _account_ok(self, inp: PolicyInput) -> bool:
        if self.sender_account_days_below is None:
            return True
        created = inp.sender.account_created if inp.sender else None
        if created is None:
            return False
        now = inp.at or datetime.now(UTC)
        days = (_aware(now) - _aware(created)).total_seconds() / 86400
        return days < self.sender_account_days_below

    def _profile_ok(self, inp: PolicyInput) -> bool:
        return all(getattr(inp.profile, name) >= n for name, n in self.profile_min.items())


@dataclass(slots=True)
class Then:
    """What a matching rule contributes to the outcome."""

    decision: DecisionKind = DecisionKind.ALLOW
    actions: list[Action] = field(default_factory=list)
    case_priority: int | None = None
    safety_topics: list[str] = field(default_factory=list)
    stop: bool = False


@dataclass(slots=True)
class Rule:
    name: str
    why: str
    when: When
    then: Then
    line: int = 0


def _any_minor(inp: PolicyInput) -> bool:
    return any(p.is_minor for p in inp.recipients)


def _is(person: Participant | None, kind: str) -> bool:
    if person is None:
        return False
    return person.is_adult if kind == "adult" else person.is_minor


def _age_gap(sender: Participant | None, recipients: list[Participant]) -> int | None:
    ages = [p.age for p in recipients if p.age is not None]
    if sender is None or sender.age is None or not ages:
        return None
    return sender.age - min(ages)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
