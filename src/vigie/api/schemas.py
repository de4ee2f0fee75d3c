"""Answer shapes of the events API (contract: shared/formats/README.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class SignalOut(BaseModel):
    detector: str
    category: str
    score: float
    explanation: str


class EventResult(BaseModel):
    id: str
    decision: Literal["allow", "warn", "hold", "block"]
    signals: list[SignalOut] = Field(default_factory=list)
    case: str | None = None
    actions: list[str] = Field(default_factory=list)
    safety_topics: list[str] | None = None
    safety_message: dict[str, Any] | None = None


class EventsAnswer(BaseModel):
    results: list[EventResult]


class CaseOut(BaseModel):
    id: str
    subject: str | None
    status: str
    priority: int
    categories: list[str]
    opened_at: datetime | None
    risk: float
    requires_report: bool


class CasesAnswer(BaseModel):
    cases: list[CaseOut]


class ErrorAnswer(BaseModel):
    error: str
