"""Events sent to Vigie and the answers read back, as typed dataclasses.

Every event gets its id when it is built (a random one unless given): the id is Vigie's
idempotency key, so a batch retried after a timeout is answered from the first processing
instead of being counted twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Decision = Literal["allow", "warn", "hold", "block"]
AgeSource = Literal["declared", "estimated", "verified", "unknown"]


def new_id() -> str:
    return "ev-" + uuid.uuid4().hex


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    """Optional fields left out rather than sent as null."""
    return {k: v for k, v in data.items() if v is not None}


@dataclass(slots=True)
class AccountEvent:
    """An account and its age (``None`` when unknown)."""

    account: str
    age: int | None = None
    age_source: AgeSource = "unknown"
    created_at: datetime | None = None
    id: str = field(default_factory=new_id)

    def to_json(self) -> dict[str, Any]:
        return _clean(
            {
                "type": "account",
                "id": self.id,
                "account": self.account,
                "age": self.age,
                "age_source": self.age_source,
                "created_at": _time(self.created_at),
            }
        )


@dataclass(slots=True)
class MessageEvent:
    conversation: str
    sender: str
    text: str
    recipients: list[str] = field(default_factory=list)
    sent_at: datetime | None = None
    lang: str | None = None
    id: str = field(default_factory=new_id)

    def to_json(self) -> dict[str, Any]:
        return _clean(
            {
                "type": "message",
                "id": self.id,
                "conversation": self.conversation,
                "sender": self.sender,
                "recipients": list(self.recipients),
                "text": self.text,
                "sent_at": _time(self.sent_at),
                "lang": self.lang,
            }
        )


@dataclass(slots=True)
class MediaEvent:
    """A shared image or video; ``hashes`` (``pdq``, ``md5``, ``sha256``) when hashed on the
    platform's side, empty when the file is uploaded with ``upload_media``."""

    sender: str
    conversation: str | None = None
    recipients: list[str] = field(default_factory=list)
    hashes: dict[str, str] = field(default_factory=dict)
    sent_at: datetime | None = None
    id: str = field(default_factory=new_id)

    def to_json(self) -> dict[str, Any]:
        return _clean(
            {
                "type": "media",
                "id": self.id,
                "conversation": self.conversation,
                "sender": self.sender,
                "recipients": list(self.recipients),
                "hashes": dict(self.hashes) or None,
                "sent_at": _time(self.sent_at),
            }
        )


@dataclass(slots=True)
class UserReport:
    reporter: str
    subject: str
    conversation: str | None = None
    reason: str = ""
    sent_at: datetime | None = None
    id: str = field(default_factory=new_id)

    def to_json(self) -> dict[str, Any]:
        return _clean(
            {
                "type": "user_report",
                "id": self.id,
                "reporter": self.reporter,
                "subject": self.subject,
                "conversation": self.conversation,
                "reason": self.reason,
                "sent_at": _time(self.sent_at),
            }
        )


Event = AccountEvent | MessageEvent | MediaEvent | UserReport


@dataclass(frozen=True, slots=True)
class Signal:
    detector: str
    category: str
    score: float
    explanation: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Signal:
        return cls(
            str(data["detector"]),
            str(data["category"]),
            float(data["score"]),
            str(data.get("explanation", "")),
        )


@dataclass(frozen=True, slots=True)
class EventResult:
    """Vigie's answer for one event. ``safety_message``, on ``warn``, is what to show the child."""

    id: str
    decision: Decision
    signals: list[Signal]
    case: str | None
    actions: list[str]
    safety_message: dict[str, Any] | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EventResult:
        return cls(
            id=str(data["id"]),
            decision=data["decision"],
            signals=[Signal.from_json(s) for s in data.get("signals") or []],
            case=data.get("case"),
            actions=list(data.get("actions") or []),
            safety_message=data.get("safety_message"),
        )


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    subject: str | None
    status: str
    priority: int
    categories: list[str]
    opened_at: datetime | None
    risk: float | None
    requires_report: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Case:
        opened = data.get("opened_at")
        return cls(
            id=str(data["id"]),
            subject=data.get("subject"),
            status=str(data["status"]),
            priority=int(data.get("priority", 0)),
            categories=list(data.get("categories") or []),
            opened_at=datetime.fromisoformat(opened.replace("Z", "+00:00")) if opened else None,
            risk=data.get("risk"),
            requires_report=bool(data.get("requires_report", False)),
        )


@dataclass(frozen=True, slots=True)
class SendResult:
    """The answers of ``send_events``: ``results`` in synchronous mode; in asynchronous mode
    (Vigie on a bus) the ``accepted`` ids, whose results ``get_result`` reads later."""

    results: list[EventResult]
    accepted: list[str]

    def by_id(self) -> dict[str, EventResult]:
        return {r.id: r for r in self.results}
