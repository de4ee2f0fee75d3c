"""Hash media with the maintained libraries: PDQ (``pdqhash``), vPDQ (``vpdq``), MD5, SHA-256.

Why not re-implement PDQ: conformance with the lists hotlines share depends on bit-exact
hashes, and the reference implementations are what those lists were made with. Decoding is
the risky part (untrusted bytes), so it is guarded: a pixel budget against decompression
bombs, truncated and corrupt files refused with a clear :class:`HashingError`.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import warnings
from dataclasses import dataclass, field

import numpy as np
import pdqhash
from PIL import Image, ImageSequence, UnidentifiedImageError

# Pillow refuses (with an error, not a warning) anything above this many pixels.
MAX_PIXELS = 64_000_000
# Animated images: hash at most this many frames (distinct hashes only are kept).
MAX_FRAMES = 64
# ...and decode at most this many pixels over all frames: 64 huge frames compress to a few
# hundred kB of GIF but cost minutes of CPU to decode and hash.
MAX_TOTAL_PIXELS = 2 * MAX_PIXELS
# vPDQ: one hash per second of video, as HMA / python-threatexchange do.
SECONDS_PER_HASH = 1.0

_IMAGE_BRANDS = {b"avif", b"avis", b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1"}
VIDEO_EXTENSIONS = {".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".mpg", ".mpeg", ".3gp"}


class HashingError(ValueError):
    """The media could not be hashed (corrupt, truncated, too large, unsupported)."""


@dataclass(slots=True)
class PdqHash:
    hex: str
    quality: int


@dataclass(slots=True)
class VpdqFrame:
    frame: int
    hex: str
    quality: int
    seconds: float


@dataclass(slots=True)
class MediaHashes:
    """Every hash of one file; ``frames`` holds extra PDQ hashes of animated images."""

    md5: str
    sha256: str
    pdq: PdqHash | None = None
    frames: list[PdqHash] = field(default_factory=list)
    vpdq: list[VpdqFrame] | None = None

    def as_dict(self) -> dict[str, str]:
        """The flat form used by the events API (``hashes`` of a ``media`` event)."""
        out = {"md5": self.md5, "sha256": self.sha256}
        if self.pdq is not None:
            out["pdq"] = self.pdq.hex
            out["pdq_quality"] = str(self.pdq.quality)
        if self.frames:
            out["pdq_frames"] = json.dumps([f"{f.hex},{f.quality}" for f in self.frames])
        if self.vpdq is not None:
            out["vpdq"] = vpdq_to_json(self.vpdq)
        return out


def vpdq_to_json(frames: list[VpdqFrame]) -> str:
    """vPDQ in python-threatexchange's compact form: a JSON list of "hex,quality,seconds"."""
    return json.dumps([f"{f.hex},{f.quality},{f.seconds:.3f}" for f in frames])


def pdq_of_array(rgb: np.ndarray) -> PdqHash:
    """PDQ of an H x W x 3 uint8 array."""
    bits, quality = pdqhash.compute(rgb)
    return PdqHash(np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality))


def _to_array(image: Image.Image) -> np.ndarray:
    # Same conversions as python-threatexchange's hasher, so hashes agree with HMA's:
    # greyscale is replicated to three channels, everything else goes through RGB.
    if image.mode == "L":
        grey = np.asarray(image)
        return np.repeat(grey[..., np.newaxis], 3, axis=2)
    if image.mode != "RGB":
        image = image.convert("RGB")
    return np.asarray(image)


def _open_image(data: bytes) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise HashingError(f"image too large (decompression bomb?): {exc}") from exc
    except UnidentifiedImageError as exc:
        raise HashingError("not a recognised image or video format") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise HashingError(f"corrupt image: {exc}") from exc
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise HashingError(f"image too large: {width}x{height} pixels exceeds {MAX_PIXELS}")
    return image


def _load_frame(frame: Image.Image) -> np.ndarray:
    try:
        frame.load()
        return _to_array(frame)
    except OSError as exc:
        reason = "truncated image" if "truncated" in str(exc) else f"corrupt image: {exc}"
        raise HashingError(reason) from exc
    except (SyntaxError, ValueError, EOFError) as exc:
        raise HashingError(f"corrupt image: {exc}") from exc


def hash_image(data: bytes) -> tuple[PdqHash, list[PdqHash]]:
    """PDQ of the first frame, and of the further distinct frames of an animated image."""
    image = _open_image(data)
    first = pdq_of_array(_load_frame(image))
    frame_pixels = max(image.size[0] * image.size[1], 1)
    extra: list[PdqHash] = []
    if getattr(image, "n_frames", 1) > 1:
        seen = {first.hex}
        for index, frame in enumerate(ImageSequence.Iterator(image)):
            if index == 0:
                continue
            if index >= min(MAX_FRAMES, MAX_TOTAL_PIXELS // frame_pixels):
                break
            pdq = pdq_of_array(_load_frame(frame))
            if pdq.hex not in seen:
                seen.add(pdq.hex)
                extra.append(pdq)
    return first, extra


def looks_like_video(data: bytes, filename: str | None) -> bool:
    """Sniff the container (MP4/MOV ``ftyp``, Matroska/WebM, AVI), or trust the extension."""
    head = data[:16]
    if head[4:8] == b"ftyp":  # ISO media: a video unless the brand is a still-image one
        return head[8:12] not in _IMAGE_BRANDS
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return True
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return True
    if filename:
        return os.path.splitext(filename)[1].lower() in VIDEO_EXTENSIONS
    return False


def hash_video(data: bytes, seconds_per_hash: float = SECONDS_PER_HASH) -> list[VpdqFrame]:
    """vPDQ frames of a video (vpdq decodes with FFmpeg, from a temporary file)."""
    try:
        import vpdq
    except ImportError as exc:  # pragma: no cover - depends on the FFmpeg build
        raise HashingError("video hashing unavailable: the vpdq package is not installed") from exc
    with tempfile.NamedTemporaryFile(suffix=".video") as tmp:
        tmp.write(data)
        tmp.flush()
        try:
            features = vpdq.computeHash(tmp.name, seconds_per_hash=seconds_per_hash)
        except Exception as exc:  # vpdq raises plain exceptions on undecodable input
            raise HashingError(f"corrupt video: {exc}") from exc
    if not features:
        raise HashingError("corrupt video: no frame could be decoded")
    return [
        VpdqFrame(int(f.frame_number), str(f.hex), int(f.quality), float(f.timestamp))
        for f in features
    ]


def hash_bytes(data: bytes, filename: str | None = None) -> MediaHashes:
    """All hashes of one media file given as bytes."""
    if not data:
        raise HashingError("empty file")
    hashes = MediaHashes(hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest())
    if looks_like_video(data, filename):
        hashes.vpdq = hash_video(data)
    else:
        hashes.pdq, hashes.frames = hash_image(data)
    return hashes


def hash_media(data: bytes, filename: str | None = None) -> dict[str, str]:
    """Hashes of uploaded bytes, as the events API stores them; raises :class:`HashingError`.

    Images give ``pdq``, ``pdq_quality``, ``md5``, ``sha256`` (and ``pdq_frames`` for
    animated images); videos give ``vpdq``, ``md5``, ``sha256``.
    """
    return hash_bytes(data, filename).as_dict()
