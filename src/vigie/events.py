"""The events platforms send (contract: shared/formats/README.md, "Events API").

These models validate input for every way in (HTTP, bus, files) so a malformed event is refused
before anything is written. Unknown fields are ignored, as the contract requires.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from vigie.domain import AgeSource

# No NUL: PostgreSQL text cannot hold it (the HTTP guard refuses it earlier; forms reach here).
_ID = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\x00]+$")]
_HEX = r"^[0-9a-fA-F]+$"


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=False)
    id: _ID


class AccountEvent(_Event):
    type: Literal["account"]
    account: _ID
    age: int | None = Field(None, ge=0, le=130)
    age_source: AgeSource = AgeSource.UNKNOWN
    created_at: datetime | None = None


class MessageEvent(_Event):
    type: Literal["message"]
    conversation: _ID
    sender: _ID
    recipients: list[_ID] = Field(default_factory=list, max_length=1000)
    text: str = Field(max_length=20000)
    sent_at: datetime | None = None
    lang: str | None = Field(None, max_length=16)


class MediaHashes(BaseModel):
    model_config = ConfigDict(extra="ignore")
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
    type: Literal["media"]
    conversation: _ID | None = None
    sender: _ID
    recipients: list[_ID] = Field(default_factory=list, max_length=1000)
    hashes: MediaHashes = Field(default_factory=MediaHashes)
    sent_at: datetime | None = None


class UserReportEvent(_Event):
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
    model_config = ConfigDict(extra="ignore")
    events: list[Event] = Field(min_length=1)

    @field_validator("events")
    @classmethod
    def _bounded(cls, events: list[Event]) -> list[Event]:
        if len(events) > 1000:
            raise ValueError("at most 1000 events per batch")
        return events
