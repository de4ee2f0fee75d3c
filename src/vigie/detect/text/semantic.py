"""Semantic stage of the cascade (placeholder until the embedding stage lands)."""

from __future__ import annotations

from vigie.detect.text.detector import SemanticStage


def load_stage(embedder: str, banks_dir: str | None) -> SemanticStage | None:
    """The semantic stage for this embedder and banks, or None when unavailable."""
    return None
