"""The Roblox Sentinel scoring (2025), as a baseline on the same data.

Sentinel embeds each message, compares it with the top-k nearest positive and negative
examples, scores ``log(mean(exp(sim+)) / mean(exp(sim−)))`` clipped at 0, and, per user,
tracks the median-based skewness ``(mean − median) / std`` of recent scores, silent below
10 messages. Scores are kept per distinct text (repeated messages collapse) and message order
plays no part, as in the original. The original uses all-MiniLM-L6-v2, which is not shipped
in any offline package here; the baseline runs on the same embedder and banks as Vigie so the
comparison is about the method, not the model.

The flag threshold on the skewness is chosen on the evaluated data itself (best F0.5), which
flatters the baseline; a fixed threshold can be given instead.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vigie.conversations import ConversationRecord
from vigie.detect.text.semantic import BankIndex

TOP_K = 5
MIN_MESSAGES = 10
WINDOW = 100


def message_scores(index: BankIndex, texts: Sequence[str]) -> list[float]:
    """Sentinel's per-message score for each text."""
    if not texts:
        return []
    vecs = index.embedder.encode(list(texts))
    pos, neg = index.similarities(vecs)
    k_pos, k_neg = min(TOP_K, pos.shape[1]), min(TOP_K, neg.shape[1])
    top_pos = np.sort(pos, axis=1)[:, -k_pos:]
    top_neg = np.sort(neg, axis=1)[:, -k_neg:]
    ratio = np.exp(top_pos).mean(axis=1) / np.exp(top_neg).mean(axis=1)
    return [max(0.0, math.log(float(r))) for r in ratio]


def skewness(scores: list[float]) -> float:
    """Median-based skewness of a user's recent scores; 0 below the cold-start size."""
    if len(scores) < MIN_MESSAGES:
        return 0.0
    recent = scores[-WINDOW:]
    std = statistics.pstdev(recent)
    if std == 0:
        return 0.0
    return (statistics.fmean(recent) - statistics.median(recent)) / std


@dataclass(slots=True)
class SentinelTrace:
    """The highest per-user skewness after each message of one conversation."""

    id: str
    skews: list[float]

    def first_at(self, threshold: float) -> int | None:
        return next((i for i, s in enumerate(self.skews) if s >= threshold), None)


def trace(index: BankIndex, record: ConversationRecord) -> SentinelTrace:
    """Replay a conversation through Sentinel's per-user scoring, in order."""
    scores = message_scores(index, [text for _, text, _ in record.messages])
    per_user: dict[str, dict[str, float]] = {}
    skews: list[float] = []
    current: dict[str, float] = {}
    for (sender, text, _), score in zip(record.messages, scores, strict=True):
        seen = per_user.setdefault(sender, {})
        seen[text] = score  # keyed by text: repeated messages collapse, as in Sentinel
        current[sender] = skewness(list(seen.values()))
        skews.append(max(current.values()))
    return SentinelTrace(record.id, skews)
