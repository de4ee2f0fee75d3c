"""Figures for a labelled conversation set: detection quality and how early it comes.

Early detection follows Vogt et al. (2021), who score early sexual-predator detection with the
latency-weighted F of Sadeque et al. (2018): ``F_latency = F1 × speed``, where
``speed = 1 − median(penalty(k))`` over true positives and
``penalty(k) = −1 + 2 / (1 + exp(−p·(k − 1)))``. Here ``k`` counts the messages from the first
risky message to the flag (k = 1: flagged on the first risky message or before) and
``p = ln 3 / 9``, so a flag ten messages late costs half the credit.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

LATENCY_P = math.log(3) / 9


@dataclass(slots=True)
class Outcome:
    """One conversation: its truth and what the system did with it."""

    id: str
    lang: str
    label: str
    risky: bool
    flagged: bool
    first_risk_index: int | None
    first_flag_index: int | None
    kind: str | None = None

    @property
    def delay(self) -> int | None:
        """Messages between the first risky message and the flag (negative: earlier)."""
        if not (self.risky and self.flagged) or self.first_flag_index is None:
            return None
        return self.first_flag_index - (self.first_risk_index or 0)


def penalty(k: int) -> float:
    return -1.0 + 2.0 / (1.0 + math.exp(-LATENCY_P * (k - 1)))


@dataclass(slots=True)
class Figures:
    n: int = 0
    positives: int = 0
    negatives: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    delays: list[int] = field(default_factory=list)

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / self.positives if self.positives else None

    @property
    def fpr(self) -> float | None:
        return self.fp / self.negatives if self.negatives else None

    def f_beta(self, beta: float) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None or p + r == 0:
            return None if p is None or r is None else 0.0
        b2 = beta * beta
        return (1 + b2) * p * r / (b2 * p + r)

    @property
    def median_delay(self) -> float | None:
        return statistics.median(max(d, 0) for d in self.delays) if self.delays else None

    @property
    def early(self) -> int:
        """Flags raised before the labelled first risky message."""
        return sum(1 for d in self.delays if d < 0)

    @property
    def speed(self) -> float | None:
        if not self.delays:
            return None
        return 1.0 - statistics.median(penalty(max(d, 0) + 1) for d in self.delays)

    @property
    def f_latency(self) -> float | None:
        f1, speed = self.f_beta(1.0), self.speed
        return None if f1 is None or speed is None else f1 * speed


def figures(outcomes: Iterable[Outcome]) -> Figures:
    fig = Figures()
    for o in outcomes:
        fig.n += 1
        if o.risky:
            fig.positives += 1
            if o.flagged:
                fig.tp += 1
                if o.delay is not None:
                    fig.delays.append(o.delay)
            else:
                fig.fn += 1
        else:
            fig.negatives += 1
            if o.flagged:
                fig.fp += 1
            else:
                fig.tn += 1
    return fig


def breakdown(outcomes: list[Outcome]) -> dict[str, Figures]:
    """Figures overall, per language, per label and (when known) per kind of conversation."""
    groups: dict[str, list[Outcome]] = {"all": outcomes}
    for o in outcomes:
        groups.setdefault(f"lang={o.lang}", []).append(o)
        groups.setdefault(f"label={o.label}", []).append(o)
        if o.kind:
            groups.setdefault(f"kind={o.kind}", []).append(o)
    order = sorted(groups, key=lambda n: (n != "all", n.split("=")[0] != "lang",
                                          n.split("=")[0] != "label", n))  # fmt: skip
    return {name: figures(groups[name]) for name in order}
