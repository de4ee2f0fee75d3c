"""Which language a message is written in (recorded with its signals and on the dashboard).

``langid`` ships its model inside the package (no download) and takes tens of
microseconds a message. It is limited to the languages Vigie's users write, so that chat
slang is not taken for a rare language; a message too short to tell gets ``None``.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

LANGUAGES = ("fr", "en", "es", "de", "it", "pt", "nl", "ar", "tr", "pl", "ro")
MIN_LETTERS = 8


_loading = threading.Lock()


@lru_cache(maxsize=1)
def _identifier() -> Any:
    # lru_cache does not stop threads that call at once from each building one (about a
    # second of CPU each on a worker's four pipeline threads): the lock does.
    with _loading:
        return _build()


def _build() -> Any:
    from langid.langid import LanguageIdentifier, model

    ident = LanguageIdentifier.from_modelstring(model, norm_probs=True)
    ident.set_languages(list(LANGUAGES))
    return ident


def identify(text: str) -> str | None:
    """ISO 639-1 code of the message's language, or None when it is too short to tell."""
    sample = text[:500]
    if sum(ch.isalpha() for ch in sample) < MIN_LETTERS:
        return None
    lang, confidence = _identifier().classify(sample)
    return str(lang) if confidence >= 0.5 else None
