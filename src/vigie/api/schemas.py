"""Answer shapes of the events API (contract: docs/api.md).

Each model carries an example: the OpenAPI schema is what clients in other languages are
generated from, and a generated client is far easier to start with when every body shows one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


def _example(example: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [example]})


_SIGNAL = {
    "detector": "text",
    "category": "secrecy",
    "score": 0.82,
    "explanation": "asks the child to keep the conversation secret",
}
_RESULT = {
    "id": "ev-2",
    "decision": "hold",
    "signals": [_SIGNAL],
    "case": "case_3f2a9c1d",
    "actions": ["hold_message"],
}


class SignalOut(BaseModel):
    model_config = _example(_SIGNAL)
    detector: str
    category: str
    score: float
    explanation: str


class EventResult(BaseModel):
    model_config = _example(_RESULT)
    id: str
    decision: Literal["allow", "warn", "hold", "block"]
    signals: list[SignalOut] = Field(default_factory=list)
    case: str | None = None
    actions: list[str] = Field(default_factory=list)
    safety_topics: list[str] | None = None
    safety_message: dict[str, Any] | None = None


class EventsAnswer(BaseModel):
    model_config = _example(
        {"results": [{"id": "ev-1", "decision": "allow", "signals": [], "case": None}, _RESULT]}
    )
    results: list[EventResult]


class AcceptedAnswer(BaseModel):
    model_config = _example({"accepted": ["ev-1", "ev-2"]})
    accepted: list[str]


_CASE = {
    "id": "case_3f2a9c1d",
    "subject": "u-123",
    "status": "open",
    "priority": 2,
    "categories": ["secrecy", "platform_migration"],
    "opened_at": "2026-11-28T17:02:40Z",
    "risk": 0.91,
    "requires_report": False,
}


class CaseOut(BaseModel):
    model_config = _example(_CASE)
    id: str
    subject: str | None
    status: str
    priority: int
    categories: list[str]
    opened_at: datetime | None
    risk: float
    requires_report: bool


class CasesAnswer(BaseModel):
    model_config = _example({"cases": [_CASE]})
    cases: list[CaseOut]


class ErrorAnswer(BaseModel):
    model_config = _example({"error": "invalid API key"})
    error: str


class FieldProblem(BaseModel):
    model_config = _example({"field": "events.0.text", "message": "Field required"})
    field: str = Field(description="dotted path of the offending field in the body")
    message: str


class ValidationErrorAnswer(BaseModel):
    """The 422 answer: ``error`` names the first field, ``fields`` lists every problem."""

    model_config = _example(
        {
            "error": "events.0.text: Field required",
            "fields": [{"field": "events.0.text", "message": "Field required"}],
        }
    )
    error: str
    fields: list[FieldProblem] = Field(default_factory=list)


class HealthAnswer(BaseModel):
    model_config = _example({"status": "ok"})
    status: str
    reason: str | None = None
