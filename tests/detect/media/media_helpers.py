"""Generated benign test images for the known-imagery tests."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image


def photo_like(seed: int = 0, size: tuple[int, int] = (320, 240), fmt: str = "JPEG") -> bytes:
    """A benign generated image with photo-like structure (smooth random blobs), as bytes."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(9, 12, 3), dtype=np.uint8)
    image = Image.fromarray(small).resize(size, Image.Resampling.BICUBIC)
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()
