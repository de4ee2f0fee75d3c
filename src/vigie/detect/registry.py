"""Which detectors run, built once per process from settings (one line per detector)."""

from __future__ import annotations

from vigie.detect.base import TextDetector
from vigie.settings import Settings


def build_text_detectors(settings: Settings) -> list[TextDetector]:
    """The text detectors of this process, in the order they run."""
    from vigie.detect.text import build_detector

    return [build_detector(settings.detection)]
