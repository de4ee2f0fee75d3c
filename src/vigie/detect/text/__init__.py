"""Grooming, sextortion and live-stream commissioning detection in chat text.

``build_detector(settings)`` returns the process-wide detector: the trained model (shipped
in the package, ``docs/model-card.md``) and the sentence encoder load once per process and
are shared by every caller with the same settings. A missing or corrupt model file raises
``ModelError`` at once: Vigie never scores text without its model.
"""

from __future__ import annotations

from functools import lru_cache

from vigie.detect.base import TextDetector
from vigie.detect.text.learned import LearnedDetector
from vigie.detect.text.model import ModelError, shipped_model
from vigie.settings import DetectionSettings

__all__ = ["LearnedDetector", "ModelError", "build_detector", "model_problem"]


@lru_cache(maxsize=4)
def _cached(semantic: bool, embedder: str, model_path: str | None) -> LearnedDetector:
    encoder = None
    if semantic:
        from vigie.detect.text.semantic import load_embedder

        encoder = load_embedder(embedder)
    return LearnedDetector(shipped_model(model_path), encoder)


def build_detector(settings: DetectionSettings) -> TextDetector:
    """The text detector for these settings, built once per process."""
    return _cached(settings.semantic, settings.embedder, settings.model_path)


def model_problem(settings: DetectionSettings) -> str | None:
    """Why the text model cannot be used (missing, corrupt), or None when it loads.

    ``vigie serve`` refuses to start on it and ``/readyz`` answers 503 with it: a Vigie that
    cannot read chat must not look ready.
    """
    try:
        shipped_model(settings.model_path)
    except ModelError as exc:
        return str(exc)
    return None
