"""The indicator-pattern stage: which warning signs one message shows, with their spans."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from vigie.detect.text.normalize import Normalized, normalize
from vigie.detect.text.patterns import compiled, compiled_suppressors
from vigie.domain import Category


@dataclass(slots=True)
class Hit:
    """One category seen in one message: how strongly, and where in the original text."""

    category: str
    strength: float
    span: tuple[int, int]
    evidence: str
    source: str = "pattern"


class IndicatorMatcher:
    """Runs the compiled patterns of every category over normalised text."""

    def __init__(self) -> None:
        self.patterns = compiled()
        self.suppressors = compiled_suppressors()
        # The pipeline looks at a group's messages twice (a batch warm-up, then each message):
        # the second look at a text is a dictionary lookup.
        self._recent = lru_cache(maxsize=256)(self._scan)

    def suppressed(self, category: str, norm: Normalized) -> bool:
        """Whether the message carries a benign reading of this category (any stage)."""
        sup = self.suppressors.get(Category(category))
        return bool(sup and sup.search(norm.text))

    def match(self, text: str, norm: Normalized | None = None) -> list[Hit]:
        """Warning signs in ``text``, strongest per category, spans in the original text
        (``norm`` is accepted for callers that have it; it is always ``normalize(text)``)."""
        return list(self._recent(text))

    def _scan(self, text: str) -> tuple[Hit, ...]:
        norm = normalize(text)
        low = norm.text
        best: dict[str, Hit] = {}
        suppressed: dict[str, bool] = {}
        for pat in self.patterns:
            cat = pat.category.value
            if cat in best and best[cat].strength >= pat.strength:
                continue
            m = pat.regex.search(low)
            if m is None:
                continue
            if cat not in suppressed:
                sup = self.suppressors.get(pat.category)
                suppressed[cat] = bool(sup and sup.search(low))
            if suppressed[cat]:
                continue
            start, end = norm.span(m.start(), m.end())
            best[cat] = Hit(cat, pat.strength, (start, end), text[start:end])
        return tuple(best.values())
