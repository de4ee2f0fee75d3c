"""What the learned text model reads: one message's features, and a sender's running state.

Training (``vigie.training``), ``vigie scan``, ``vigie eval`` and the live pipeline all go
through this module, so the model sees at run time exactly what it saw when it learned.

Two levels, as a moderator reads a chat:

- **the message**: its character n-grams (any language or script, after the normaliser
  undid disguises), the indicator patterns it matches (kept as features *and* as the spans
  a moderator reads) and, when the cheap reading says it may matter, its multilingual
  sentence embedding;
- **the sender in this conversation**: a decaying memory of the warning signs the
  message heads saw, and the context of who writes to whom (ages, the ages people claim in
  the chat, account age, how many minors the sender contacts).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from vigie.detect.base import MessageContext
from vigie.detect.text.normalize import normalize
from vigie.domain import Category, Participant

# Longer messages are scored on their first MAX_SCORED_CHARS characters (docs/detection.md):
# warning signs sit in chat-sized messages, and the cost of a message must stay bounded.
MAX_SCORED_CHARS = 2000
# The sentence encoder reads at most the first MAX_EMBEDDED_CHARS (its cost grows faster
# than the length: 2,000 symbols took 0.15-0.3 s, a chat line takes 1-3 ms). Every corpus
# message is shorter; the n-grams and patterns still read the whole scored text.
MAX_EMBEDDED_CHARS = 512

SIGNS: tuple[str, ...] = (
    Category.AGE_PROBING, Category.PERSONAL_INFO, Category.SUPERVISION_PROBING,
    Category.SECRECY, Category.ISOLATION, Category.FLATTERY, Category.GIFT_OFFER,
    Category.PLATFORM_MIGRATION, Category.IMAGE_REQUEST, Category.CAMERA_REQUEST,
    Category.MEETING_REQUEST, Category.SEXTORTION_THREAT, Category.PAYMENT_DEMAND,
    Category.PRESSURE, Category.DEEPFAKE_THREAT, Category.LIVESTREAM_COMMISSIONING,
)  # fmt: skip
SIGN_INDEX = {s: i for i, s in enumerate(SIGNS)}
# Grooming stages (contact and trust, isolation and secrecy, requests, meeting or threat):
# the state counts how many a sender has reached.
STAGE: dict[str, int] = {
    Category.AGE_PROBING: 0, Category.PERSONAL_INFO: 0, Category.FLATTERY: 0,
    Category.GIFT_OFFER: 0, Category.PRESSURE: 0,
    Category.SUPERVISION_PROBING: 1, Category.SECRECY: 1, Category.ISOLATION: 1,
    Category.PLATFORM_MIGRATION: 1,
    Category.IMAGE_REQUEST: 2, Category.CAMERA_REQUEST: 2,
    Category.MEETING_REQUEST: 3, Category.SEXTORTION_THREAT: 3, Category.PAYMENT_DEMAND: 3,
    Category.DEEPFAKE_THREAT: 3, Category.LIVESTREAM_COMMISSIONING: 3,
}  # fmt: skip

N_GRAM_FEATURES = 2**17
DECAY_PER_MESSAGE = 0.97  # the default; each model carries the one chosen on dev (make train)
HALF_LIFE_DAYS = 14.0

# "I'm 13", "j'ai 12 ans", "tengo 14 años", "ich bin 15", "ho 13 anni", "tenho 12 anos".
_CLAIMED_AGE = re.compile(
    r"(?:\b(?:j'? ?ai|jai|i'?m|im|i am|moi|me|tengo|ich bin|bin|ho|tenho|eu tenho|sono|soy)"
    r" (?:only |just |juste |seulement |que |solo |nur |appena |so )?)"
    r"([1-9]\d?) ?(?:ans?|yo|y/o|years?(?: old)?|yrs?|anos?|años?|anni|jahre?)?\b"
    r"|\b([1-9]\d?) ?(?:ans|yo|y/o|years old|anos|años|anni|jahre)\b"
)

RELATIONS = (
    "adult_to_minor", "adult_to_unknown", "unknown_to_minor", "older_minor", "peers",
    "minor_to_adult", "adults", "unknown", "group",
)  # fmt: skip


def scored_text(text: str) -> str:
    """The part of a message the model scores (the cap keeps every message's cost bounded)."""
    return text[:MAX_SCORED_CHARS]


def embedded_text(text: str) -> str:
    """The part of a message the sentence encoder reads."""
    return text[:MAX_EMBEDDED_CHARS]


def normalized_text(text: str) -> str:
    """The normalised (disguises undone, lowercased) capped text, as the n-grams read it."""
    return normalize(scored_text(text)).text


def claimed_age(text: str) -> int | None:
    """An age the writer states about themselves in this message ("j'ai 13 ans"), if any."""
    m = _CLAIMED_AGE.search(normalized_text(text))
    if m is None:
        return None
    age = int(m.group(1) or m.group(2))
    return age if 8 <= age <= 80 else None


def relation(sender: Participant, recipients: Sequence[Participant]) -> str:
    """Who writes to whom, from the ages the platform knows."""
    if len(recipients) > 1:
        return "group"
    other = recipients[0] if recipients else Participant("?")
    if sender.age is None:
        return "unknown_to_minor" if other.is_minor else "unknown"
    if sender.is_adult:
        if other.age is None:
            return "adult_to_unknown"
        return "adult_to_minor" if other.is_minor else "adults"
    if other.age is None or other.is_adult:
        return "minor_to_adult"
    return "older_minor" if sender.age - other.age > 3 else "peers"


@dataclass(slots=True)
class MessageInput:
    """One message as the message heads see it."""

    text: str
    patterns: dict[str, float]  # category -> strength of the strongest pattern hit


def pattern_vector(patterns: dict[str, float]) -> np.ndarray:
    """Pattern strengths in ``SIGNS`` order (zeros where no pattern matched)."""
    out = np.zeros(len(SIGNS), dtype=np.float32)
    for cat, strength in patterns.items():
        if cat in SIGN_INDEX:
            out[SIGN_INDEX[cat]] = strength
    return out


class NGrams:
    """Hashed character n-grams of normalised text: cheap, script-agnostic, no vocabulary
    file to ship. Exactly scikit-learn's ``HashingVectorizer`` with the parameters below
    (the model was trained on it; a test compares the two on the corpus), computed with its
    own analyzer and MurmurHash3: the vectorizer's input checks and sparse-matrix
    normalisation cost 0.3-0.7 ms a call, ten times the hashing of a chat line, and the
    live path calls it for one message at a time."""

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer
        from sklearn.utils import murmurhash3_32

        self.vectorizer = HashingVectorizer(
            analyzer="char_wb", ngram_range=(2, 4), n_features=N_GRAM_FEATURES,
            alternate_sign=False, norm="l2", lowercase=False, dtype=np.float32,
        )  # fmt: skip
        self._grams = self.vectorizer.build_analyzer()
        self._hash = murmurhash3_32

    def transform(self, texts: Iterable[str]) -> Any:
        """A sparse matrix, one row per text (texts already normalised), L2-normalised."""
        from scipy.sparse import csr_matrix

        indices: list[int] = []
        indptr = [0]
        for text in texts:
            # abs() % size as scikit-learn: also right for -2**31, since size is a power of 2
            indices.extend(abs(self._hash(g)) % N_GRAM_FEATURES for g in self._grams(text))
            indptr.append(len(indices))
        rows = len(indptr) - 1
        ones = np.ones(len(indices), dtype=np.float32)
        matrix = csr_matrix((ones, indices, indptr), shape=(rows, N_GRAM_FEATURES))
        matrix.sum_duplicates()  # a repeated n-gram counts twice, in one entry
        lengths = np.diff(matrix.indptr)
        filled = lengths > 0
        scale = np.ones(rows, dtype=np.float32)
        if filled.any():  # each row's sum of squares, from where each non-empty row starts
            squares = np.add.reduceat(matrix.data**2, matrix.indptr[:-1][filled])
            scale[filled] = 1.0 / np.sqrt(squares)
        matrix.data *= np.repeat(scale, lengths)
        return matrix


# --- The sender's running state in one conversation (JSON-serialisable) -----------------


def _decay(state: MutableMapping[str, Any], at: datetime | None, per_message: float) -> None:
    factor = per_message
    last = state.get("last_at")
    if at is not None and last:
        try:
            days = max((at - datetime.fromisoformat(last)).total_seconds() / 86400.0, 0.0)
            factor *= 0.5 ** (days / HALF_LIFE_DAYS)
        except (TypeError, ValueError):
            pass
    mem: dict[str, float] = state.setdefault("mem", {})
    for cat in list(mem):
        mem[cat] *= factor
        if mem[cat] < 0.01:
            del mem[cat]
    if at is not None:
        state["last_at"] = at.isoformat()


def fold(
    state: MutableMapping[str, Any],
    probs: dict[str, float],
    any_risk: float,
    at: datetime | None,
    decay: float = DECAY_PER_MESSAGE,
) -> None:
    """Fold one message of the sender (its sign probabilities) into the state; every
    earlier reading fades by ``decay`` per message of the sender."""
    _decay(state, at, decay)
    mem: dict[str, float] = state["mem"]
    for cat, p in probs.items():
        if p >= 0.05:
            mem[cat] = round(max(mem.get(cat, 0.0), p), 4)
    state["n"] = int(state.get("n", 0)) + 1
    state["peak"] = round(max(float(state.get("peak", 0.0)) * decay, any_risk), 4)
    state["last"] = round(any_risk, 4)
    if any_risk >= 0.5:
        state["hits"] = int(state.get("hits", 0)) + 1


def note_history(state: MutableMapping[str, Any], ctx: MessageContext) -> None:
    """Ages claimed in the messages since the sender last spoke (scanned once each).

    A child who says "j'ai 12 ans" tells the model the other side is a minor even when the
    platform knows no age; a sender who says "I'm 16" is remembered too, as evidence, not
    truth: a declared 16-year-old who threatens is still scored on the threat.
    """
    window_start = ctx.index - len(ctx.history)
    start = max(0, int(state.get("hist", 0)) - window_start)
    for prior in ctx.history[start:]:
        age = claimed_age(prior.text)
        if age is None:
            continue
        key = "self_age" if prior.sender == ctx.sender.handle else "other_age"
        state[key] = min(int(state.get(key, 99)), age)
    own = claimed_age(ctx.text)
    if own is not None:
        state["self_age"] = min(int(state.get("self_age", 99)), own)
    state["hist"] = ctx.index + 1


def _others(ctx: MessageContext, key: str) -> int:
    """Other conversations of this sender noted under ``key`` in the detector's memory."""
    return len([c for c in ctx.profile_state.get(key, []) if c != ctx.conversation_id])


def _age_or(value: int | None) -> float:
    return -1.0 if value is None else value / 20.0


def context_vector(ctx: MessageContext, state: MutableMapping[str, Any]) -> np.ndarray:
    """Who writes to whom, as numbers: the model learns how much each context weighs."""
    kind = relation(ctx.sender, ctx.recipients)
    youngest = min((r.age for r in ctx.recipients if r.age is not None), default=None)
    other_claim = state.get("other_age")
    self_claim = state.get("self_age")
    gap = (ctx.sender.age - youngest) if ctx.sender.age is not None and youngest is not None else 0
    created = ctx.sender.account_created
    new_account = 0.0
    if created is not None and ctx.sent_at is not None:
        if (created.tzinfo is None) != (ctx.sent_at.tzinfo is None):
            created = created.replace(tzinfo=ctx.sent_at.tzinfo)
        new_account = float((ctx.sent_at - created).days < 30)
    # Behaviour elsewhere: other minors this sender contacts, other conversations where
    # the detector saw risk or a request to move off-platform. Never this conversation's
    # own counts, so a conversation scores the same replayed alone (``vigie scan``) or live.
    other_minors = max(0, ctx.profile.distinct_minor_contacts - 1)
    others_risky = _others(ctx, "risky")
    others_offplat = _others(ctx, "offplat")
    values = [1.0 if kind == r else 0.0 for r in RELATIONS] + [
        _age_or(ctx.sender.age),
        _age_or(youngest),
        gap / 20.0,
        float(ctx.sender.age_source.value == "verified") if ctx.sender.age is not None else 0.0,
        1.0 if other_claim is not None and other_claim < 18 else 0.0,
        1.0 if self_claim is not None and self_claim < 18 else 0.0,
        1.0 if self_claim is not None and self_claim >= 18 else 0.0,
        new_account,
        math.log1p(other_minors) / 3.0,
        math.log1p(others_risky) / 3.0,
        math.log1p(others_offplat) / 3.0,
    ]
    return np.asarray(values, dtype=np.float32)


CONTEXT_SIZE = len(RELATIONS) + 11


def state_vector(state: MutableMapping[str, Any]) -> np.ndarray:
    """The sender's remembered signs in this conversation, as numbers."""
    mem: dict[str, float] = state.get("mem", {})
    signs = np.zeros(len(SIGNS), dtype=np.float32)
    for cat, p in mem.items():
        if cat in SIGN_INDEX:
            signs[SIGN_INDEX[cat]] = p
    stages = np.zeros(4, dtype=np.float32)
    for cat, p in mem.items():
        if cat in STAGE:
            stages[STAGE[cat]] = max(stages[STAGE[cat]], p)
    top = np.sort(signs)[::-1]
    n = int(state.get("n", 0))
    extra = [
        float(top[:3].sum()) / 3.0,
        float((signs >= 0.5).sum()) / 4.0,
        float((stages >= 0.5).sum()) / 4.0,
        float(state.get("peak", 0.0)),
        float(state.get("last", 0.0)),
        math.log1p(int(state.get("hits", 0))) / 2.0,
        math.log1p(n) / 3.0,
    ]
    return np.concatenate([signs, stages, np.asarray(extra, dtype=np.float32)])


STATE_SIZE = len(SIGNS) + 4 + 7
