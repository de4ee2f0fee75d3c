"""The small interfaces every detector implements, and the context they are given."""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from vigie.domain import MediaRef, Participant, PriorMessage, Signal


@dataclass(slots=True)
class SubjectProfile:
    """What is known of the sender across all of their conversations on this platform.

    The pipeline fills it from storage, so detectors can reason about behaviour (one adult
    contacting many minors) without touching the database.
    """

    distinct_minor_contacts: int = 0
    conversations: int = 0
    open_cases: int = 0
    prior_flags: int = 0
    off_platform_requests: int = 0


@dataclass(slots=True)
class MessageContext:
    """Everything a text detector may look at for one message, with no look-ahead.

    ``state`` is this detector's own memory for the (conversation, sender) pair; the caller
    persists whatever the detector leaves in it (JSON-serialisable values only).
    ``profile_state`` is the detector's memory for the sender across conversations.
    """

    conversation_id: str
    text: str
    sender: Participant
    recipients: list[Participant]
    sent_at: datetime | None
    index: int
    history: Sequence[PriorMessage] = field(default_factory=list)
    profile: SubjectProfile = field(default_factory=SubjectProfile)
    state: MutableMapping[str, Any] = field(default_factory=dict)
    profile_state: MutableMapping[str, Any] = field(default_factory=dict)
    lang: str | None = None


@dataclass(slots=True)
class DetectorOutput:
    """Signals for this message and the detector's current conversation risk for the sender.

    ``risk`` is in [0, 1]: the probability-like level at which a moderator should look at the
    conversation *now*. ``None`` means the detector has no opinion on conversation risk.
    """

    signals: list[Signal] = field(default_factory=list)
    risk: float | None = None
    categories: list[str] = field(default_factory=list)
    summary: str = ""


@runtime_checkable
class TextDetector(Protocol):
    """Looks at one chat message in its context."""

    name: str
    version: str

    def detect(self, ctx: MessageContext) -> DetectorOutput: ...


@runtime_checkable
class MediaDetector(Protocol):
    """Looks at one media reference (its hashes, never its bytes)."""

    name: str
    version: str

    def detect_media(self, media: MediaRef) -> DetectorOutput: ...
