"""Conversation state per (conversation, sender): warning signs accumulated with decay.

Grooming is a progression, not a message: contact and trust, then isolation and secrecy,
then requests, then a meeting or a threat. One sign alone rarely means much (a parent asks
whether homework is done, a coach says "well played"); signs from several stages, from an
adult to a child, do. The state lives in the plain dict the caller persists, so it must stay
JSON-serialisable.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import datetime
from typing import Any

from vigie.detect.text.context import Context
from vigie.domain import Category

# How much one fully-active category contributes to risk on its own.
WEIGHTS: dict[str, float] = {
    Category.AGE_PROBING: 0.18,
    Category.PERSONAL_INFO: 0.22,
    Category.SUPERVISION_PROBING: 0.42,
    Category.SECRECY: 0.48,
    Category.ISOLATION: 0.42,
    Category.FLATTERY: 0.16,
    Category.GIFT_OFFER: 0.22,
    Category.PLATFORM_MIGRATION: 0.4,
    Category.IMAGE_REQUEST: 0.46,
    Category.CAMERA_REQUEST: 0.46,
    Category.MEETING_REQUEST: 0.46,
    Category.SEXTORTION_THREAT: 0.85,
    Category.PAYMENT_DEMAND: 0.5,
    Category.PRESSURE: 0.16,
}
THREATS = frozenset({Category.SEXTORTION_THREAT, Category.PAYMENT_DEMAND})

STAGES: dict[str, int] = {
    Category.AGE_PROBING: 1, Category.PERSONAL_INFO: 1, Category.FLATTERY: 1,
    Category.GIFT_OFFER: 1,
    Category.SUPERVISION_PROBING: 2, Category.SECRECY: 2, Category.ISOLATION: 2,
    Category.PLATFORM_MIGRATION: 2,
    Category.IMAGE_REQUEST: 3, Category.CAMERA_REQUEST: 3,
    Category.MEETING_REQUEST: 4, Category.SEXTORTION_THREAT: 4, Category.PAYMENT_DEMAND: 4,
}  # fmt: skip
STAGE_NAMES = {1: "contact and trust", 2: "isolation and secrecy", 3: "requests",
               4: "meeting or threat"}  # fmt: skip
STAGE_BONUS = {0: 0.0, 1: 0.0, 2: 0.1, 3: 0.18, 4: 0.24}

DECAY_PER_MESSAGE = 0.985
HALF_LIFE_DAYS = 14.0
ACTIVE = 0.3


def _decay(state: MutableMapping[str, Any], at: datetime | None) -> None:
    factor = DECAY_PER_MESSAGE
    last = state.get("last_at")
    if at is not None and last:
        try:
            days = max((at - datetime.fromisoformat(last)).total_seconds() / 86400.0, 0.0)
            factor *= 0.5 ** (days / HALF_LIFE_DAYS)
        except (TypeError, ValueError):
            pass
    act: dict[str, float] = state.setdefault("act", {})
    for cat in list(act):
        act[cat] *= factor
        if act[cat] < 0.02:
            del act[cat]
    if at is not None:
        state["last_at"] = at.isoformat()


def update(
    state: MutableMapping[str, Any],
    hits: dict[str, float],
    evidence: dict[str, str],
    index: int,
    at: datetime | None,
) -> None:
    """Fold one message's category hits (strength in [0, 1]) into the state."""
    _decay(state, at)
    state["n"] = int(state.get("n", 0)) + 1
    act: dict[str, float] = state["act"]
    ev: dict[str, list[Any]] = state.setdefault("ev", {})
    seen: dict[str, int] = state.setdefault("seen", {})
    for cat, strength in hits.items():
        act[cat] = 1.0 - (1.0 - act.get(cat, 0.0)) * (1.0 - strength)
        seen[cat] = seen.get(cat, 0) + 1
        if cat in evidence:
            ev[cat] = [index, evidence[cat][:120]]


def stages(state: MutableMapping[str, Any]) -> list[int]:
    act: dict[str, float] = state.get("act", {})
    return sorted({STAGES[c] for c, a in act.items() if a >= ACTIVE and c in STAGES})


def risk(state: MutableMapping[str, Any], ctx: Context) -> tuple[float, dict[str, float]]:
    """Conversation risk for this sender now, and each category's share of it."""
    act: dict[str, float] = state.get("act", {})
    keep_all = 1.0
    keep_threat = 1.0
    shares: dict[str, float] = {}
    for cat, a in act.items():
        part = WEIGHTS.get(cat, 0.2) * a
        shares[cat] = part
        keep_all *= 1.0 - part
        if cat in THREATS:
            keep_threat *= 1.0 - part
    reached = stages(state)
    distinct = len([c for c, a in act.items() if a >= ACTIVE])
    # Several stages count only with several distinct signs: a parent's one compliment and
    # one logistics question must not add up to a progression.
    progression = STAGE_BONUS[min(len(reached), 4)] if distinct >= 3 else 0.0
    if distinct >= 4:
        progression += 0.06
    base = min(1.0, 1.0 - keep_all + progression)
    total = max(base * ctx.factor, (1.0 - keep_threat) * ctx.threat_factor)
    if total > 0.2:
        total += ctx.bonus
    return max(0.0, min(1.0, total)), shares
