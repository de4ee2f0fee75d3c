"""Grooming and sextortion detection in chat text (French and English).

``build_detector(settings)`` returns the process-wide detector: the model and banks load
once per process and are shared by every caller with the same settings.
"""

from __future__ import annotations

from functools import lru_cache

from vigie.detect.base import TextDetector
from vigie.detect.text.detector import GroomingDetector
from vigie.settings import DetectionSettings

__all__ = ["GroomingDetector", "build_detector"]


@lru_cache(maxsize=4)
def _cached(semantic: bool, embedder: str, banks_dir: str | None) -> GroomingDetector:
    stage = None
    if semantic:
        from vigie.detect.text.semantic import load_stage

        stage = load_stage(embedder, banks_dir)
    return GroomingDetector(stage)


def build_detector(settings: DetectionSettings) -> TextDetector:
    """The text detector for these settings, built once per process."""
    return _cached(settings.semantic, settings.embedder, settings.banks_dir)
