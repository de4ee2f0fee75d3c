"""Practice for référents: realistic, non-explicit cases with the decision a trained reviewer
would take, why, the warning signs and the right channel (3018, 119, PHAROS, NCMEC).

Why a file and not the cases table: practice cases must never reach real queues, statistics,
reports or transparency figures. They are read from ``practice_cases.json`` only; an attempt
is stored in its own table (``practice_attempts``), which nothing else reads.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
DECISIONS = ("warn", "restrict_contact", "suspend", "escalate", "prepare_report", "dismiss")
CHANNELS = ("3018", "119", "pharos", "ncmec", "none")
KINDS = ("grooming", "sextortion", "livestream", "negative")


@dataclass(frozen=True, slots=True)
class PracticeCase:
    key: str
    kind: str
    stage: str
    expected: str
    acceptable: tuple[str, ...]
    channel: str
    signs: frozenset[str]
    people: tuple[tuple[str, int | None], ...]
    text: dict[str, dict[str, Any]]  # lang → {"title", "messages": [{"from", "text"}], "why"}

    def in_lang(self, lang: str) -> dict[str, Any]:
        return self.text.get(lang) or self.text["en"]


@dataclass(frozen=True, slots=True)
class Feedback:
    """How an answer compares with a trained reviewer's."""

    decision: str  # "right", "acceptable" or "wrong"
    channel_ok: bool
    found: frozenset[str]
    missed: frozenset[str]
    extra: frozenset[str] = field(default_factory=frozenset)

    @property
    def passed(self) -> bool:
        return self.decision != "wrong" and self.channel_ok


def _case(raw: dict[str, Any]) -> PracticeCase:
    return PracticeCase(
        raw["key"],
        raw["kind"],
        raw["stage"],
        raw["expected"],
        tuple(raw.get("acceptable", [])),
        raw["channel"],
        frozenset(raw["signs"]),
        tuple((p["role"], p["age"]) for p in raw["people"]),
        {lang: raw[lang] for lang in ("en", "fr")},
    )


@lru_cache(maxsize=1)
def practice_cases() -> tuple[PracticeCase, ...]:
    data = json.loads((HERE / "practice_cases.json").read_text(encoding="utf-8"))
    return tuple(_case(raw) for raw in data["cases"])


def by_key(key: str) -> PracticeCase | None:
    return next((c for c in practice_cases() if c.key == key), None)


def assess(case: PracticeCase, decision: str, channel: str, signs: set[str]) -> Feedback:
    if decision == case.expected:
        verdict = "right"
    elif decision in case.acceptable:
        verdict = "acceptable"
    else:
        verdict = "wrong"
    return Feedback(
        verdict,
        channel == case.channel,
        frozenset(signs & case.signs),
        frozenset(case.signs - signs),
        frozenset(signs - case.signs),
    )
