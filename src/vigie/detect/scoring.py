"""Streaming scoring of one conversation, message by message, with no look-ahead.

Used by ``vigie scan`` and ``vigie eval``. It builds each ``MessageContext`` the way the live
pipeline does from stored state, so batch figures describe what the service would do.
"""

from __future__ import annotations

import json
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vigie.conversations import ConversationRecord
from vigie.detect.base import MessageContext, SubjectProfile, TextDetector
from vigie.domain import Participant, PriorMessage, Signal


@dataclass(slots=True)
class ScanResult:
    """The scan-output fields of the contract, plus what evaluation needs."""

    id: str
    flagged: bool
    first_flag_index: int | None
    risk: float
    categories: list[str]
    subject: str | None
    message_risks: list[float] = field(default_factory=list)
    signals: list[list[Signal]] = field(default_factory=list)
    summary: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "flagged": self.flagged,
            "first_flag_index": self.first_flag_index,
            "risk": round(self.risk, 4),
            "categories": self.categories,
            "subject": self.subject,
        }

    def to_json(self) -> str:
        """One line of the scan output (docs/api.md)."""
        return json.dumps(self.to_dict(), ensure_ascii=False)


def _recipients(record: ConversationRecord, sender: str) -> list[Participant]:
    return [p for h, p in record.participants.items() if h != sender]


def _prefetch(record: ConversationRecord, detectors: Sequence[TextDetector]) -> None:
    """Let detectors that batch (embeddings) prepare the whole conversation at once.

    This computes features ahead, never decisions: each message is still scored seeing only
    the messages before it.
    """
    items = [
        (text, record.participants.get(sender) or Participant(sender), _recipients(record, sender))
        for sender, text, _ in record.messages
    ]
    for det in detectors:
        prefetch = getattr(det, "prefetch", None)
        if callable(prefetch):
            prefetch(items)


def score_conversation(
    record: ConversationRecord,
    detectors: Sequence[TextDetector],
    threshold: float,
    profile_states: MutableMapping[tuple[str, str], MutableMapping[str, Any]] | None = None,
    profiles: MutableMapping[str, SubjectProfile] | None = None,
) -> ScanResult:
    """Score messages one at a time in order; the risk at a message is about its sender.

    ``profile_states`` (keyed by (detector, sender)) and ``profiles`` (keyed by sender) carry
    what is known of senders across conversations when the caller scans many of them.
    """
    profile_states = {} if profile_states is None else profile_states
    states: dict[tuple[str, str], dict[str, Any]] = {}
    history: list[PriorMessage] = []
    peak: dict[str, float] = {}
    cats: dict[str, list[str]] = {}
    summaries: dict[str, str] = {}
    risks: list[float] = []
    all_signals: list[list[Signal]] = []
    first_flag: int | None = None
    _prefetch(record, detectors)
    for index, (sender, text, at) in enumerate(record.messages):
        participant = record.participants.get(sender) or Participant(sender)
        recipients = _recipients(record, sender)
        risk = 0.0
        signals: list[Signal] = []
        for det in detectors:
            ctx = MessageContext(
                conversation_id=record.id, text=text, sender=participant, recipients=recipients,
                sent_at=at, index=index, history=history,
                profile=(profiles or {}).get(sender, SubjectProfile()),
                state=states.setdefault((det.name, sender), {}),
                profile_state=profile_states.setdefault((det.name, sender), {}),
                lang=record.lang,
            )  # fmt: skip
            out = det.detect(ctx)
            signals.extend(out.signals)
            if out.risk is not None and out.risk >= risk:
                risk = out.risk
                if out.categories:
                    cats[sender] = list(out.categories)
                if out.summary:
                    summaries[sender] = out.summary
        risks.append(risk)
        all_signals.append(signals)
        peak[sender] = max(peak.get(sender, 0.0), risk)
        if first_flag is None and risk >= threshold:
            first_flag = index
        history.append(PriorMessage(sender, text, at))
    subject = max(peak, key=lambda s: peak[s]) if peak and max(peak.values()) > 0 else None
    return ScanResult(
        id=record.id,
        flagged=first_flag is not None,
        first_flag_index=first_flag,
        risk=peak.get(subject, 0.0) if subject else 0.0,
        categories=cats.get(subject, []) if subject else [],
        subject=subject,
        message_risks=risks,
        signals=all_signals,
        summary=summaries.get(subject, "") if subject else "",
    )
