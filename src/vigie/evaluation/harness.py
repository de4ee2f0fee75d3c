"""Run Vigie (and the Sentinel baseline) over a labelled conversation file."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from vigie.conversations import ConversationRecord, read_conversations
from vigie.detect.scoring import score_conversation
from vigie.detect.text import build_detector
from vigie.evaluation.metrics import Figures, Outcome, breakdown
from vigie.evaluation.sentinel import (
    DEFAULT_THRESHOLD,
    SentinelTrace,
    account_sender,
    local_sender,
    sentinel_index,
    traces,
)
from vigie.settings import DetectionSettings


@dataclass(slots=True)
class Report:
    vigie: dict[str, Figures]
    sentinel: dict[str, Figures] = field(default_factory=dict)
    sentinel_threshold: float | None = None
    sentinel_model: str = ""
    messages: int = 0
    model: str = ""


def _kinds(path: Path) -> list[str | None]:
    """The optional ``kind`` field of each line (hard-negative type in the dev set)."""
    kinds: list[str | None] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                kind = json.loads(line).get("kind")
                kinds.append(kind if isinstance(kind, str) else None)
    return kinds


def _outcome(rec: ConversationRecord, kind: str | None, flag: int | None) -> Outcome:
    return Outcome(rec.id, rec.lang or "?", rec.label or "?", bool(rec.risky), flag is not None,
                   rec.first_risk_index, flag, kind)  # fmt: skip


def _sentinel_outcomes(
    records: list[ConversationRecord], kinds: list[str | None], traces: list[SentinelTrace],
    threshold: float,
) -> list[Outcome]:  # fmt: skip
    return [
        _outcome(r, k, t.first_at(threshold))
        for r, k, t in zip(records, kinds, traces, strict=True)
    ]


def evaluate(path: str | Path, settings: DetectionSettings, sentinel: bool = True,
             sentinel_threshold: float | None = None, *,
             handles_are_accounts: bool = False) -> Report:  # fmt: skip
    """Vigie's figures on a labelled file and, unless turned off, Sentinel's beside them.

    Sentinel flags at its default (positive skewness) unless ``sentinel_threshold`` is
    given; nothing is tuned on the file. Handles are local to a conversation (the file
    format's contract) unless ``handles_are_accounts`` says they name the same account in
    every conversation, in which case a sender's skewness spans conversations.
    """
    path = Path(path)
    records = list(read_conversations(path))
    kinds = _kinds(path)
    detector = build_detector(settings)
    outcomes = []
    for rec, kind in zip(records, kinds, strict=True):
        res = score_conversation(rec, [detector], settings.flag_threshold)
        outcomes.append(_outcome(rec, kind, res.first_flag_index))
    report = Report(breakdown(outcomes), messages=sum(len(r.messages) for r in records),
                    model=str(getattr(detector, "model", detector.version)))  # fmt: skip
    if sentinel:
        index = sentinel_index(settings.embedder, settings.banks_dir)
        key = account_sender if handles_are_accounts else local_sender
        threshold = DEFAULT_THRESHOLD if sentinel_threshold is None else sentinel_threshold
        found = traces(index, records, key)
        report.sentinel = breakdown(_sentinel_outcomes(records, kinds, found, threshold))
        report.sentinel_threshold = threshold
        report.sentinel_model = index.embedder.name
    return report
