"""What travels on the bus: the validated event, its platform and when the API accepted it."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter

from vigie.events import Event

_EVENT: TypeAdapter[Event] = TypeAdapter(Event)


@dataclass(frozen=True, slots=True)
class Envelope:
    platform_id: str
    event: Event
    accepted_at: float  # unix seconds, for end-to-end latency and lag

    def encode(self) -> bytes:
        return json.dumps(
            {
                "platform": self.platform_id,
                "accepted_at": self.accepted_at,
                "event": self.event.model_dump(mode="json"),
            },
            separators=(",", ":"),
        ).encode()

    @classmethod
    def decode(cls, data: bytes) -> Envelope:
        """Raises ``ValueError`` (pydantic's ValidationError is one) for a malformed body."""
        raw: dict[str, Any] = json.loads(data)
        return cls(
            str(raw["platform"]),
            _EVENT.validate_python(raw["event"]),
            float(raw.get("accepted_at") or time.time()),
        )


def message_id(platform_id: str, event_id: str) -> str:
    """JetStream de-duplication key: a republished event within two minutes is stored once.

    Hashed because event ids are free text and headers must stay plain ASCII.
    """
    return hashlib.blake2b(f"{platform_id}\x00{event_id}".encode(), digest_size=16).hexdigest()
