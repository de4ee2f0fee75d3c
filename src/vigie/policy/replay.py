"""Dry run: replay conversations through the detectors and two policies, and compare.

Detectors run once per message; both policies then decide on the same input, so every
difference comes from the policy change alone. The input is built the way the live pipeline
builds it (risk = the highest detector risk about the sender, categories = everything seen
from that sender so far in the conversation, no look-ahead).
Handles in a conversation file are local to one conversation, so the behaviour profile is
per conversation (minors contacted there), not across the file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from vigie.conversations import ConversationRecord
from vigie.detect.base import MessageContext, SubjectProfile, TextDetector
from vigie.domain import Participant, PriorMessage
from vigie.policy.base import PolicyInput, PolicyOutcome
from vigie.policy.engine import Policy


@dataclass(slots=True)
class Difference:
    """One message on which the two policies disagree."""

    conversation: str
    index: int
    sender: str
    text: str
    risk: float
    categories: list[str]
    label: str | None
    before: PolicyOutcome
    after: PolicyOutcome

    def to_dict(self) -> dict[str, Any]:
        return {
            "conversation": self.conversation, "index": self.index, "sender": self.sender,
            "text": self.text, "risk": round(self.risk, 4), "categories": self.categories,
            "label": self.label, "before": _brief(self.before), "after": _brief(self.after),
        }  # fmt: skip


@dataclass(slots=True)
class Tally:
    """What one policy did over the replay."""

    decisions: Counter[str] = field(default_factory=Counter)
    actions: Counter[str] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)
    # label (or "unlabelled") → conversations with at least one case / one non-allow decision
    cases_by_label: Counter[str] = field(default_factory=Counter)
    acted_by_label: Counter[str] = field(default_factory=Counter)

    def to_dict(self) -> dict[str, Any]:
        return {
            "decisions": dict(self.decisions), "actions": dict(self.actions),
            "rules": dict(self.rules), "conversations_with_case": dict(self.cases_by_label),
            "conversations_with_intervention": dict(self.acted_by_label),
        }  # fmt: skip


@dataclass(slots=True)
class Comparison:
    conversations: int = 0
    messages: int = 0
    labels: Counter[str] = field(default_factory=Counter)
    before: Tally = field(default_factory=Tally)
    after: Tally = field(default_factory=Tally)
    differing: int = 0
    examples: list[Difference] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "conversations": self.conversations, "messages": self.messages,
            "labels": dict(self.labels), "differing_messages": self.differing,
            "before": self.before.to_dict(), "after": self.after.to_dict(),
            "examples": [d.to_dict() for d in self.examples],
        }  # fmt: skip


def _brief(out: PolicyOutcome) -> dict[str, Any]:
    return {
        "decision": out.decision.value,
        "actions": [a.value for a in out.actions],
        "case_priority": out.case_priority,
        "rules": out.rules,
    }


def _same(a: PolicyOutcome, b: PolicyOutcome) -> bool:
    return (a.decision, a.actions, a.case_priority) == (b.decision, b.actions, b.case_priority)


def conversation_inputs(
    record: ConversationRecord, detectors: Sequence[TextDetector]
) -> Iterable[tuple[int, PolicyInput]]:
    """The policy input of each message of a conversation, in order, with no look-ahead."""
    states: dict[tuple[str, str], dict[str, Any]] = {}
    profile_states: dict[tuple[str, str], dict[str, Any]] = {}
    known: dict[str, set[str]] = {}
    history: list[PriorMessage] = []
    for index, (sender, text, at) in enumerate(record.messages):
        participant = record.participants.get(sender) or Participant(sender)
        recipients = [p for h, p in record.participants.items() if h != sender]
        profile = SubjectProfile(
            distinct_minor_contacts=sum(p.is_minor for p in recipients), conversations=1
        )
        signals, risk = [], 0.0
        found = known.setdefault(sender, set())
        for det in detectors:
            ctx = MessageContext(
                conversation_id=record.id, text=text, sender=participant, recipients=recipients,
                sent_at=at, index=index, history=list(history), profile=profile,
                state=states.setdefault((det.name, sender), {}),
                profile_state=profile_states.setdefault((det.name, sender), {}),
                lang=record.lang,
            )  # fmt: skip
            out = det.detect(ctx)
            signals.extend(out.signals)
            risk = max(risk, out.risk or 0.0)
            found.update(out.categories)
            found.update(s.category for s in out.signals)
        history.append(PriorMessage(sender, text, at))
        yield index, PolicyInput(
            event_type="message", signals=signals, risk=risk, categories=sorted(found),
            sender=participant, recipients=recipients, profile=profile, at=at,
            first_message=index == 0,
        )  # fmt: skip


def _count(tally: Tally, out: PolicyOutcome) -> None:
    tally.decisions[out.decision.value] += 1
    tally.actions.update(a.value for a in out.actions)
    tally.rules.update(out.rules)


def compare(
    records: Iterable[ConversationRecord],
    detectors: Sequence[TextDetector],
    before: Policy,
    after: Policy,
    max_examples: int = 10,
) -> Comparison:
    """Replay every conversation through both policies and count what each would do."""
    result = Comparison()
    for record in records:
        label = record.label or "unlabelled"
        result.conversations += 1
        result.labels[label] += 1
        seen: dict[str, set[str]] = {
            "before_case": set(),
            "after_case": set(),
            "before_act": set(),
            "after_act": set(),
        }
        for index, inp in conversation_inputs(record, detectors):
            result.messages += 1
            old, new = before.decide(inp), after.decide(inp)
            for name, out, tally in (("before", old, result.before), ("after", new, result.after)):
                _count(tally, out)
                if out.opens_case:
                    seen[f"{name}_case"].add(record.id)
                if out.actions:
                    seen[f"{name}_act"].add(record.id)
            if not _same(old, new):
                result.differing += 1
                if len(result.examples) < max_examples:
                    sender = inp.sender.handle if inp.sender else "?"
                    result.examples.append(Difference(
                        record.id, index, sender, record.messages[index].text, inp.risk,
                        inp.categories, record.label, old, new))  # fmt: skip
        for name, tally in (("before", result.before), ("after", result.after)):
            tally.cases_by_label[label] += len(seen[f"{name}_case"])
            tally.acted_by_label[label] += len(seen[f"{name}_act"])
    return result
