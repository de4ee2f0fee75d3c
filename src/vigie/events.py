"""The events platforms send (contract: docs/api.md, "POST /v1/events").

These models validate input for every way in (HTTP, bus, files) so a malformed event is refused
before anything is written. Unknown fields are ignored, as the contract requires.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from vigie.domain import AgeSource

# No NUL: PostgreSQL text cannot hold it (the HTTP guard refuses it earlier; forms reach here).
_ID = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00]+$")]
_HEX = r"^[0-9a-fA-F]+$"


def _examples(example: dict[str, Any]) -> ConfigDict:
    """Input models ignore unknown fields and publish one example each in the OpenAPI schema,
    so a client generated from it has something concrete to start from."""
    return ConfigDict(extra="ignore", json_schema_extra={"examples": [example]})


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)
    id: _ID


class AccountEvent(_Event):
    model_config = _examples(
        {
            "type": "account",
            "id": "ev-1",
            "account": "u-123",
            "age": 34,
            "age_source": "declared",
            "created_at": "2026-11-01T10:00:00Z",
        }
    )
    type: Literal["account"]
    account: _ID
    age: int | None = Field(None, ge=0, le=130)
    age_source: AgeSource = AgeSource.UNKNOWN
    created_at: datetime | None = None


class MessageEvent(_Event):
    model_config = _examples(
        {
            "type": "message",
            "id": "ev-2",
            "conversation": "c-9",
            "sender": "u-123",
            "recipients": ["u-456"],
            "text": "salut",
            "sent_at": "2026-11-28T17:02:11Z",
        }
    )
    type: Literal["message"]
    conversation: _ID
    sender: _ID
    recipients: list[_ID] = Field(default_factory=list, max_length=1000)
    text: str = Field(max_length=20000)
    sent_at: datetime | None = None
    lang: str | None = Field(None, max_length=16)


class MediaHashes(BaseModel):
    model_config = ConfigDict(
        extra="ignore", json_schema_extra={"examples": [{"pdq": "f" * 64, "md5": "0" * 32}]}
    )
    pdq: str | None = Field(None, min_length=64, max_length=64, pattern=_HEX)
    pdq_quality: int | None = Field(None, ge=0, le=100)
    md5: str | None = Field(None, min_length=32, max_length=32, pattern=_HEX)
    sha256: str | None = Field(None, min_length=64, max_length=64, pattern=_HEX)

    def as_dict(self) -> dict[str, str]:
        out = {
            k: v.lower()
            for k, v in (("pdq", self.pdq), ("md5", self.md5), ("sha256", self.sha256))
            if v
        }
        if self.pdq_quality is not None:
            out["pdq_quality"] = str(self.pdq_quality)
        return out


class MediaEvent(_Event):
    model_config = _examples(
        {
            "type": "media",
            "id": "ev-3",
            "conversation": "c-9",
            "sender": "u-123",
            "recipients": ["u-456"],
            "hashes": {"pdq": "f" * 64, "md5": "0" * 32},
        }
    )
    type: Literal["media"]
    conversation: _ID | None = None
    sender: _ID
    recipients: list[_ID] = Field(default_factory=list, max_length=1000)
    hashes: MediaHashes = Field(default_factory=MediaHashes)
    sent_at: datetime | None = None


class UserReportEvent(_Event):
    model_config = _examples(
        {
            "type": "user_report",
            "id": "ev-4",
            "reporter": "u-456",
            "subject": "u-123",
            "conversation": "c-9",
            "reason": "asked me to keep a secret",
        }
    )
    type: Literal["user_report"]
    reporter: _ID
    subject: _ID
    conversation: _ID | None = None
    reason: str = Field("", max_length=5000)
    sent_at: datetime | None = None


Event = Annotated[
    AccountEvent | MessageEvent | MediaEvent | UserReportEvent, Field(discriminator="type")
]


class EventBatch(BaseModel):
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "events": [
                        {"type": "account", "id": "ev-1", "account": "u-123", "age": 34},
                        {
                            "type": "message",
                            "id": "ev-2",
                            "conversation": "c-9",
                            "sender": "u-123",
                            "recipients": ["u-456"],
                            "text": "salut",
                        },
                    ]
                }
            ]
        },
    )
    events: list[Event] = Field(min_length=1)

    @field_validator("events")
    @classmethod
    def _bounded(cls, events: list[Event]) -> list[Event]:
        if len(events) > 1000:
            raise ValueError("at most 1000 events per batch")
        return events
