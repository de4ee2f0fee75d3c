"""Vigie's n-gram hasher is scikit-learn's HashingVectorizer, row for row: the shipped
model was trained on the vectorizer's output, and the live path uses the faster copy."""

from __future__ import annotations

import numpy as np

from vigie.detect.text.features import NGrams
from vigie.detect.text.normalize import normalize_many
from vigie.training.corpus import split


def test_same_rows_as_the_vectorizer_on_corpus_lines() -> None:
    raw = [m["text"] for c in split("dev")[:300] for m in c.raw["messages"]]
    texts = [n.text for n in normalize_many(raw)] + ["", " ", "a", "ok ok ok", "ü" * 50]
    grams = NGrams()
    ours = grams.transform(texts)
    theirs = grams.vectorizer.transform(texts)
    assert ours.shape == theirs.shape
    difference = abs(ours - theirs)
    assert difference.max() < 1e-6
    assert np.array_equal(np.diff(ours.indptr), np.diff(theirs.tocsr().indptr))


def test_one_text_at_a_time_is_the_same_as_a_batch() -> None:
    texts = ["salut ca va", "", "ajoute moi sur snap", "gg"]
    grams = NGrams()
    whole = grams.transform(texts).toarray()
    for i, text in enumerate(texts):
        assert np.allclose(grams.transform([text]).toarray()[0], whole[i])
