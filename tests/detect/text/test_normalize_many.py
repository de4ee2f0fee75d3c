"""Normalising texts together gives exactly what normalising each alone gives.

``normalize_many`` joins chat lines with a separator and runs the NumPy steps once; the
detector relies on it for every batch, so the separator must never let a rule reach from
one text into the next (a letter run, a number word, a leet word, a marker between letters).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from vigie.detect.text import normalize as norm_module
from vigie.detect.text.normalize import _normalize, normalize_many
from vigie.training.corpus import split

# Pieces that set off every step, and the separator's own letters next to them.
PIECES = [
    "s", "n", "a", "p", "q", "qq", "x", " ", "  ", ",", ".", "+", "|", "-", "'", "’", "!", "@",
    "$", "0", "1", "3", "13", "4", "ans", "yo", "dix", "sept", "treize", "chui", "g", "c", "tt",
    "ya", "thirteen", "©", "🔥", "\u200b", "\ufe0f", "\u3164", "\u3000", "Ѕ", "ᴀ", "🇸", "ß",
    "eee", "é", "\n", "snap", "t3l3gram", "l'",
]  # fmt: skip
text = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)


def _alone(texts: list[str]) -> list[tuple[str, list[int]]]:
    return [(n.text, list(n.origin)) for n in (_normalize(t) for t in texts)]


def _together(texts: list[str]) -> list[tuple[str, list[int]]]:
    norm_module._recent.clear()  # the cache would answer instead
    return [(n.text, list(n.origin)) for n in normalize_many(texts)]


@settings(max_examples=400, deadline=None)
@given(st.lists(text, min_size=2, max_size=6))
def test_together_is_the_same_as_alone(texts: list[str]) -> None:
    assert _together(texts) == _alone(texts)


def test_corpus_lines_together_are_the_same_as_alone() -> None:
    lines = [m["text"] for c in split("train")[:400] for m in c.raw["messages"]]
    assert len(lines) > 2000
    assert _together(lines) == _alone(lines)


def test_long_and_repeated_texts() -> None:
    long = "s n a p " * 1000  # over the cached length: normalised alone
    texts = ["ok", long, "ok", "sn@p", "", "dix", "sept"]
    assert _together(texts) == _alone(texts)
