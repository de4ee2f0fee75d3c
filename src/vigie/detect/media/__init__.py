"""Known imagery: hashing (PDQ, vPDQ, MD5, SHA-256), hash lists and the PDQ index.

Entry points for the rest of Vigie: :func:`hash_media` (uploaded bytes to hashes) and
:class:`MediaMatcher` (the ``known_imagery`` media detector). Imported lazily, so the
command line starts without loading NumPy, Pillow or Numba.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "HashingError": "vigie.detect.media.hashing",
    "hash_bytes": "vigie.detect.media.hashing",
    "hash_media": "vigie.detect.media.hashing",
    "HashMatcher": "vigie.detect.media.matcher",
    "HashListSource": "vigie.detect.media.source",
    "ListInfo": "vigie.detect.media.source",
    "MediaMatch": "vigie.detect.media.matcher",
    "MediaMatcher": "vigie.detect.media.matcher",
    "check_hashes": "vigie.detect.media.matcher",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(name)
