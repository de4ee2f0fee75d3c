"""The grooming and sextortion text detector: patterns, optional semantics, state, context.

For each message: normalise, find indicator categories (patterns first; the semantic stage
only where it may matter), fold them into the (conversation, sender) state, and turn that
state into a risk with the context of who is writing to whom. Every signal carries its span
and a sentence a moderator reads in seconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, MutableMapping, Sequence
from typing import Any, Protocol

from vigie.detect.base import DetectorOutput, MessageContext
from vigie.detect.text import state as st
from vigie.detect.text.context import Context, assess
from vigie.detect.text.indicators import Hit, IndicatorMatcher
from vigie.detect.text.normalize import Normalized, normalize
from vigie.domain import CATEGORIES, Category, Participant, Signal

PATTERNS_VERSION = "patterns-2026.11.5"
# Words that, in a message showing a warning sign, say the recipient is probably a child.
_MINOR_CUE = re.compile(
    r"\b(?:parents?|mom|mum|mommy|dad|daddy|folks|mere|pere|daron|daronne|darons|school|"
    r"ecole|college|grade|classe|homework|devoirs|how old|quel age|age|ans|birthday|anniv)\b"
)
# A conversation where the sender's risk reached this is remembered across conversations.
RISKY = 0.3
PROFILE_MEMORY = 50
_DECLARED_MINOR = re.compile(
    r"\b(?:j'? ?ai|jai|i'?m|im|i am|moi|me) (?:only |just |juste |seulement |que )?"
    r"(1[0-7]|[89]) ?(?:ans|an|yo|y/o|years?(?: old)?|yrs?)\b"
)


class SemanticStage(Protocol):
    """Second stage of the cascade: category hits by similarity to example banks."""

    model: str

    def wanted(self, text: str, pattern_hits: list[Hit]) -> bool: ...

    def prefetch(self, texts: Iterable[str]) -> None: ...

    def hits(
        self, text: str, norm: Normalized, ctx: MessageContext, pattern_hits: list[Hit]
    ) -> list[Hit]: ...


def _declared_minor(ctx: MessageContext, state: MutableMapping[str, Any]) -> bool:
    """Whether someone else in the conversation said they are under 18 (scanned once each)."""
    if state.get("declared_minor"):
        return True
    # ``history`` may be a sliding window (the pipeline keeps the last few messages), so
    # "scanned up to" is kept as a message index in the conversation, not a list position.
    window_start = ctx.index - len(ctx.history)
    start = max(0, int(state.get("hist", 0)) - window_start)
    for prior in ctx.history[start:]:
        if prior.sender != ctx.sender.handle and _DECLARED_MINOR.search(normalize(prior.text).text):
            state["declared_minor"] = True
            break
    state["hist"] = ctx.index
    return bool(state.get("declared_minor"))


def _remember(ctx: MessageContext, key: str) -> None:
    """Note this conversation in the sender's cross-conversation memory (bounded)."""
    seen: list[str] = list(ctx.profile_state.get(key, []))
    if ctx.conversation_id not in seen:
        ctx.profile_state[key] = [*seen, ctx.conversation_id][-PROFILE_MEMORY:]


def _minor_cue(state: MutableMapping[str, Any]) -> bool:
    """Whether the sender's own questions (parents, age, school) suggest a child recipient."""
    return bool(state.get("minor_cue"))


def _explain(hit: Hit) -> str:
    what = CATEGORIES.get(Category(hit.category), hit.category)
    how = "" if hit.source == "pattern" else " (similar to known examples)"
    return f"{what}{how}: “{hit.evidence}”"


class GroomingDetector:
    """Text detector for grooming and sextortion indicators (French and English)."""

    name = "text.grooming"

    def __init__(self, semantic: SemanticStage | None = None) -> None:
        self.matcher = IndicatorMatcher()
        self.semantic = semantic
        self.version = PATTERNS_VERSION
        self.model = PATTERNS_VERSION + (f"+{semantic.model}" if semantic else "")

    def find(self, ctx: MessageContext, context: Context) -> list[Hit]:
        norm = normalize(ctx.text)
        found = self.matcher.match(ctx.text, norm)
        if self.semantic is not None and context.semantic:
            have = {h.category for h in found}
            found += [
                h
                for h in self.semantic.hits(ctx.text, norm, ctx, found)
                if h.category not in have and not self.matcher.suppressed(h.category, norm)
            ]
        return found

    def prefetch(self, messages: Sequence[tuple[str, Participant, list[Participant]]]) -> None:
        """Embed, in one batch, the messages the semantic stage will want (batch scoring)."""
        if self.semantic is None:
            return
        wanted = self.costly(messages)
        self.semantic.prefetch(m[0] for m, w in zip(messages, wanted, strict=True) if w)

    def costly(self, messages: Sequence[tuple[str, Participant, list[Participant]]]) -> list[bool]:
        """Which messages the semantic stage will embed: milliseconds each, where the
        patterns take tens of microseconds. A forecast from who writes to whom (the
        conversation's memory can still change it); the pipeline schedules by it."""
        if self.semantic is None:
            return [False] * len(messages)
        out = []
        for text, sender, recipients in messages:
            ctx = MessageContext("", text, sender, recipients, None, 0)
            wanted = assess(ctx).semantic
            out.append(wanted and self.semantic.wanted(text, self.matcher.match(text)))
        return out

    def detect(self, ctx: MessageContext) -> DetectorOutput:
        state = ctx.state
        context = assess(ctx, _declared_minor(ctx, state), _minor_cue(state))
        found = self.find(ctx, context)
        if found and not state.get("minor_cue") and _MINOR_CUE.search(normalize(ctx.text).text):
            state["minor_cue"] = True
        hits = {h.category: h.strength for h in found}
        evidence = {h.category: h.evidence for h in found}
        st.update(state, hits, evidence, ctx.index, ctx.sent_at)
        if any(h.category == Category.PLATFORM_MIGRATION for h in found):
            _remember(ctx, "offplat_convs")
        risk, shares = st.risk(state, context)
        if risk >= RISKY:
            _remember(ctx, "risky_convs")
        signals = [self._signal(h, shares, context) for h in found]
        active = sorted((c for c, a in state.get("act", {}).items() if a >= st.ACTIVE),
                        key=lambda c: -shares.get(c, 0.0))  # fmt: skip
        return DetectorOutput(signals, risk, active, self._summary(state, context, risk, active))

    def _signal(self, hit: Hit, shares: dict[str, float], context: Context) -> Signal:
        return Signal(
            detector=self.name,
            category=hit.category,
            score=round(min(1.0, shares.get(hit.category, 0.0) * context.factor * 2.5), 4),
            explanation=_explain(hit),
            span=hit.span,
            evidence=hit.evidence,
            model=self.model,
            details={"source": hit.source, "strength": round(hit.strength, 3)},
        )

    def _summary(self, state: MutableMapping[str, Any], context: Context, risk: float,
                 active: list[str]) -> str:  # fmt: skip
        if not active:
            return ""
        reached = [st.STAGE_NAMES[s] for s in st.stages(state)]
        ev = state.get("ev", {})
        cites = "; ".join(f"{c} (message {ev[c][0]}: “{ev[c][1]}”)" for c in active if c in ev)
        parts = [f"Risk {risk:.2f}.", f"Signs: {cites}."]
        if reached:
            parts.append(f"Stages reached: {', '.join(reached)}.")
        parts.append("Context: " + "; ".join(context.reasons) + ".")
        return " ".join(parts)
