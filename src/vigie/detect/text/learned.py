"""The learned grooming and sextortion detector (the default text detector).

For each message: undo disguises, read its n-grams and indicator patterns, embed it when
the cheap gate says it may matter, score every warning sign, fold them into the sender's
memory for this conversation, and turn that memory and the context into a calibrated
probability of review. The indicator patterns stay what moderators read: a sign found by
a pattern quotes the words; one found by the model alone quotes the message.

Risk is about the sender of the message, in every language the sentence encoder knows; the
model learned from conversations in French, English, Spanish, German, Italian, Portuguese
and Arabic written in Latin letters (``docs/model-card.md``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from vigie.detect.base import DetectorOutput, MessageContext
from vigie.detect.text import features as ft
from vigie.detect.text.indicators import Hit, IndicatorMatcher
from vigie.detect.text.language import identify
from vigie.detect.text.model import TextModel
from vigie.detect.text.normalize import normalize_many
from vigie.domain import CATEGORIES, Category, Participant, Signal

SIGN_AT = 0.5  # a sign is reported on a message when its head says at least this
RISKY = 0.3  # a conversation where the sender reached this is remembered across conversations
PROFILE_MEMORY = 50
EMBEDDING_SIZE = 512
READING_CACHE = 4096  # readings of prefetched messages, by text
_WARM_TEXTS = ["tu joues à quoi ce soir ?", "where do you live, are you home alone?", "gg"]


class Embedder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...

    def prefetch(self, texts: Sequence[str]) -> None: ...


@dataclass(slots=True)
class MessageReading:
    """What the message heads made of one message."""

    probs: dict[str, float]  # sign -> probability
    any_risk: float
    hits: list[Hit]  # pattern hits (spans for the explanations)
    embedded: bool
    capped: bool


# What the training code swaps in: the message heads' out-of-fold readings, by message.
Reader = Callable[[MessageContext], MessageReading]


class LearnedDetector:
    """Text detector for grooming, sextortion and live-stream commissioning."""

    name = "text.grooming"

    def __init__(self, model: TextModel, embedder: Embedder | None = None) -> None:
        from vigie.detect.text.features import NGrams

        self.model_data = model
        self.embedder = embedder
        self.matcher = IndicatorMatcher()
        self.ngrams = NGrams()
        self.signs = model.signs
        self.version = model.version
        self.model = model.version + (f"+{embedder.name}" if embedder else "")
        self._readings: OrderedDict[str, MessageReading] = OrderedDict()
        self._lock = threading.Lock()  # the PostgreSQL route decides on a thread pool

    def warm(self) -> None:
        """Pay the one-time costs (the encoder's first passes, the language identifier,
        NumPy's first calls) before the first request, whose CPU budget they would eat."""
        self.read(_WARM_TEXTS)
        identify(_WARM_TEXTS[0])

    # --- message level --------------------------------------------------------------

    def _cheap(self, texts: Sequence[str]) -> tuple[Any, np.ndarray, list[list[Hit]]]:
        capped = [ft.scored_text(t) for t in texts]
        normal = normalize_many(capped)  # one NumPy pass; the patterns then read the cache
        hits = [self.matcher.match(t) for t in capped]
        ngrams = self.ngrams.transform(n.text for n in normal)
        pats = np.stack([ft.pattern_vector({h.category: h.strength for h in hs}) for hs in hits])
        return ngrams, pats, hits

    def costly(self, messages: Sequence[tuple[str, Participant, list[Participant]]]) -> list[bool]:
        """Which messages the sentence encoder will embed (the pipeline schedules by it)."""
        if self.embedder is None or not messages:
            return [False] * len(messages)
        ngrams, pats, _ = self._cheap([m[0] for m in messages])
        return [
            bool(g) for g in self.model_data.gate(ngrams, pats) >= self.model_data.gate_threshold
        ]

    def prefetch(self, messages: Sequence[tuple[str, Participant, list[Participant]]]) -> None:
        """Read a batch of messages at once (one n-gram pass, one embedding batch); each
        message is still decided alone, in order, by ``detect``."""
        texts = list(dict.fromkeys(m[0] for m in messages))
        if not texts:
            return
        found = self.read(texts)
        with self._lock:
            for text, reading in zip(texts, found, strict=True):
                self._readings[text] = reading
                self._readings.move_to_end(text)
            while len(self._readings) > READING_CACHE:
                self._readings.popitem(last=False)

    def _reading(self, text: str) -> MessageReading:
        with self._lock:
            found = self._readings.get(text)
        return found if found is not None else self.read([text])[0]

    def read(self, texts: Sequence[str]) -> list[MessageReading]:
        """The message heads on a batch of messages (one row each)."""
        ngrams, pats, hits = self._cheap(texts)
        gate = self.model_data.gate(ngrams, pats)
        embedded = np.zeros(len(texts), dtype=np.float32)
        emb = np.zeros((len(texts), EMBEDDING_SIZE), dtype=np.float32)
        if self.embedder is not None:
            rows = [i for i, g in enumerate(gate) if g >= self.model_data.gate_threshold]
            if rows:
                emb[rows] = self.embedder.encode([ft.embedded_text(texts[i]) for i in rows])
                embedded[rows] = 1.0
        probs = self.model_data.message_probs(ngrams, pats, emb, embedded)
        return [
            MessageReading(
                {s: float(p) for s, p in zip(self.signs, row[:-1], strict=True)},
                float(row[-1]), hits[i], bool(embedded[i]),
                len(texts[i]) > ft.MAX_SCORED_CHARS,
            )
            for i, row in enumerate(probs)
        ]  # fmt: skip

    # --- conversation level ---------------------------------------------------------

    def detect(self, ctx: MessageContext, reading: MessageReading | None = None) -> DetectorOutput:
        reading = reading or self._reading(ctx.text)
        x = conversation_features(ctx, reading, self.model_data.decay)
        p = float(self.model_data.review_probability(x[None, :])[0])
        risk = self.model_data.risk(p)
        state = ctx.state
        state["p"] = round(p, 4)
        self._remember(ctx, reading, risk)
        signals = self._signals(ctx, reading, risk, p)
        _evidence(state, ctx.index, ctx.text, reading)
        active = sorted((c for c, v in state.get("mem", {}).items() if v >= SIGN_AT),
                        key=lambda c: -float(state["mem"][c]))  # fmt: skip
        return DetectorOutput(signals, risk, active, self._summary(ctx, state, risk, p, active))

    def _remember(self, ctx: MessageContext, reading: MessageReading, risk: float) -> None:
        if risk >= RISKY:
            _remember(ctx, "risky")
        if reading.probs.get(Category.PLATFORM_MIGRATION, 0.0) >= SIGN_AT:
            _remember(ctx, "offplat")

    def _signals(
        self, ctx: MessageContext, reading: MessageReading, risk: float, p: float
    ) -> list[Signal]:
        by_cat = {h.category: h for h in reading.hits}
        out: list[Signal] = []
        lang: str | None = None
        for cat, prob in sorted(reading.probs.items(), key=lambda kv: -kv[1]):
            if prob < SIGN_AT:
                continue
            if not out:  # identified only where a sign is reported (0.1-0.3 ms a message)
                lang = identify(ctx.text)
            hit = by_cat.get(cat)
            span = hit.span if hit else (0, min(len(ctx.text), ft.MAX_SCORED_CHARS))
            evidence = hit.evidence if hit else ctx.text[: min(len(ctx.text), 200)]
            out.append(Signal(
                detector=self.name, category=cat, score=round(prob, 4),
                explanation=_explain(cat, evidence, hit is not None, reading.capped),
                span=span, evidence=evidence, model=self.model,
                details=_details(hit is not None, p, risk, reading, lang),
            ))  # fmt: skip
        return out

    def _summary(self, ctx: MessageContext, state: MutableMapping[str, Any], risk: float,
                 p: float, active: list[str]) -> str:  # fmt: skip
        if not active:
            return ""
        ev = state.get("ev", {})
        cites = "; ".join(f"{c} (message {ev[c][0]}: “{ev[c][1]}”)" for c in active if c in ev)
        kind = ft.relation(ctx.sender, ctx.recipients).replace("_", " ")
        return (f"Risk {risk:.2f} (review probability {p:.2f}). Signs: {cites}. "
                f"Context: {kind}; sender age {_age(ctx.sender)}.")  # fmt: skip


def conversation_features(
    ctx: MessageContext, reading: MessageReading, decay: float = ft.DECAY_PER_MESSAGE
) -> np.ndarray:
    """Fold this message into the sender's state and return the conversation head's input.

    Training calls this too, through the same scoring loop as ``vigie scan``.
    """
    state = ctx.state
    ft.note_history(state, ctx)
    ft.fold(state, reading.probs, reading.any_risk, ctx.sent_at, decay)
    return np.concatenate([ft.state_vector(state), ft.context_vector(ctx, state)])


def _details(
    pattern: bool, p: float, risk: float, reading: MessageReading, lang: str | None
) -> dict[str, Any]:
    out: dict[str, Any] = {"source": "pattern" if pattern else "model", "p_review": round(p, 4),
                           "risk": round(risk, 4), "embedded": reading.embedded}  # fmt: skip
    if lang:  # identified from the text; the pipeline falls back on the event's
        out["lang"] = lang
    if reading.capped:
        out["capped_at"] = ft.MAX_SCORED_CHARS
    return out


def _age(p: Participant) -> str:
    return "unknown" if p.age is None else f"{p.age} ({p.age_source.value})"


def _evidence(
    state: MutableMapping[str, Any], index: int, text: str, reading: MessageReading
) -> None:
    """Keep, per sign, where it was strongest (for the summary a moderator reads)."""
    ev: dict[str, list[Any]] = state.setdefault("ev", {})
    quotes = {h.category: h.evidence for h in reading.hits}
    for cat, prob in reading.probs.items():
        if prob >= SIGN_AT and (cat not in ev or prob >= float(ev[cat][2])):
            ev[cat] = [index, quotes.get(cat, text)[:120], round(prob, 3)]


def _remember(ctx: MessageContext, key: str) -> None:
    """Note this conversation in the sender's cross-conversation memory (bounded)."""
    seen: list[str] = list(ctx.profile_state.get(key, []))
    if ctx.conversation_id not in seen:
        ctx.profile_state[key] = [*seen, ctx.conversation_id][-PROFILE_MEMORY:]


def _explain(cat: str, evidence: str, pattern: bool, capped: bool) -> str:
    what = CATEGORIES.get(Category(cat), cat) if cat in Category._value2member_map_ else cat
    how = "" if pattern else " (the model's reading of the message)"
    note = (
        f" [long message: scored on its first {ft.MAX_SCORED_CHARS} characters]" if capped else ""
    )
    return f"{what}{how}: “{evidence[:160]}”{note}"
