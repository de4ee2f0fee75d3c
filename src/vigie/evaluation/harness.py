"""Run Vigie (and the Sentinel baseline) over a labelled conversation file."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from vigie.conversations import ConversationRecord, read_conversations
from vigie.detect.scoring import score_conversation
from vigie.detect.text import build_detector
from vigie.evaluation.metrics import Figures, Outcome, breakdown, figures
from vigie.evaluation.sentinel import SentinelTrace, trace
from vigie.settings import DetectionSettings


@dataclass(slots=True)
class Report:
    vigie: dict[str, Figures]
    sentinel: dict[str, Figures] = field(default_factory=dict)
    sentinel_threshold: float | None = None
    sentinel_tuned: bool = False
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


def _tune(records: list[ConversationRecord], kinds: list[str | None],
          traces: list[SentinelTrace]) -> float:  # fmt: skip
    """The skewness threshold with the best F0.5 on this data (generous to the baseline)."""
    candidates = sorted({round(s, 3) for t in traces for s in t.skews if s > 0})
    best, best_f = 1.0, -1.0
    for threshold in candidates[:: max(1, len(candidates) // 200)]:
        f = figures(_sentinel_outcomes(records, kinds, traces, threshold)).f_beta(0.5) or 0.0
        if f > best_f:
            best, best_f = threshold, f
    return best


def evaluate(path: str | Path, settings: DetectionSettings, sentinel: bool = True,
             sentinel_threshold: float | None = None) -> Report:  # fmt: skip
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
        from vigie.detect.text.semantic import bank_index

        _, index = bank_index(settings.embedder, settings.banks_dir)
        traces = [trace(index, r) for r in records]
        tuned = sentinel_threshold is None
        threshold = _tune(records, kinds, traces) if tuned else float(sentinel_threshold or 0)
        report.sentinel = breakdown(_sentinel_outcomes(records, kinds, traces, threshold))
        report.sentinel_threshold, report.sentinel_tuned = threshold, tuned
    return report
