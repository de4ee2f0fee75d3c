"""Conformance of PDQ / vPDQ hashing with the published references, and refusal of bad input."""

from __future__ import annotations

import csv
import io
import struct
import zlib
from pathlib import Path

import pytest
from media_helpers import photo_like
from PIL import Image

from vigie.detect.media import HashingError, hash_media
from vigie.detect.media.hashing import hash_bytes, hash_video


def _expected(data_dir: Path) -> list[dict[str, str]]:
    with (data_dir / "pdq" / "expected.csv").open() as fh:
        return list(csv.DictReader(fh))


def _distance(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def test_reference_images_hash_exactly(data_dir: Path) -> None:
    rows = _expected(data_dir)
    assert len(rows) == 19
    for row in rows:
        data = (data_dir / "pdq" / "images" / row["file"]).read_bytes()
        hashes = hash_media(data, row["file"])
        assert hashes["pdq"] == row["pdq_hex"], row["file"]
        if row["quality"]:
            assert hashes["pdq_quality"] == row["quality"], row["file"]


def test_bridge_edits_match_the_original(data_dir: Path) -> None:
    rows = [r for r in _expected(data_dir) if r["file"].startswith("bridge-mods__")]
    original = next(r for r in rows if r["file"] == "bridge-mods__aaa-orig.jpg")
    for row in rows:
        data = (data_dir / "pdq" / "images" / row["file"]).read_bytes()
        assert _distance(hash_media(data)["pdq"], original["pdq_hex"]) <= 31, row["file"]


@pytest.mark.parametrize(
    "name", ["chair-22-sd-grey-bar", "pattern-sd-grey-bar", "pattern-sd-with-small-logo-bar"]
)
def test_videos_match_their_reference_frames(data_dir: Path, name: str) -> None:
    from threatexchange.extensions.vpdq.vpdq_brute_matcher import match_VPDQ_hash_brute
    from threatexchange.extensions.vpdq.vpdq_util import VpdqCompactFeature

    data = (data_dir / "vpdq" / "videos" / f"{name}.mp4").read_bytes()
    ours = [VpdqCompactFeature(f.hex, f.quality, f.seconds) for f in hash_video(data, 0)]
    reference = []
    for line in (data_dir / "vpdq" / "expected" / f"{name}.txt").read_text().splitlines():
        _, quality, pdq_hex, seconds = line.split(",")
        reference.append(VpdqCompactFeature(pdq_hex, int(quality), float(seconds)))
    result = match_VPDQ_hash_brute(ours, reference, quality_tolerance=50, distance_tolerance=31)
    # vPDQ's own rule (python-threatexchange): query frames matching >= 80 %; we ask both ways.
    assert result.query_match_percent >= 80
    assert result.compared_match_percent >= 80


def test_video_hash_media_keys(data_dir: Path) -> None:
    data = (data_dir / "vpdq" / "videos" / "pattern-sd-grey-bar.mp4").read_bytes()
    hashes = hash_media(data, "clip.mp4")
    assert set(hashes) == {"vpdq", "md5", "sha256"}
    assert hashes["vpdq"].startswith('["')


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "GIF"])
def test_common_formats_hash(fmt: str) -> None:
    hashes = hash_media(photo_like(1, fmt=fmt), f"x.{fmt.lower()}")
    assert len(hashes["pdq"]) == 64
    assert int(hashes["pdq_quality"]) >= 50
    assert len(hashes["md5"]) == 32 and len(hashes["sha256"]) == 64


def test_animated_gif_frames_are_hashed() -> None:
    frames = [Image.open(io.BytesIO(photo_like(seed, fmt="PNG"))).convert("P") for seed in (1, 2)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100)
    result = hash_bytes(out.getvalue(), "anim.gif")
    assert result.pdq is not None
    assert len(result.frames) == 1
    assert result.frames[0].hex != result.pdq.hex
    assert "pdq_frames" in result.as_dict()


def test_corrupt_image_is_refused() -> None:
    with pytest.raises(HashingError, match="not a recognised"):
        hash_media(b"this is not an image at all", "x.jpg")


def test_truncated_image_is_refused() -> None:
    data = photo_like(3)
    with pytest.raises(HashingError, match=r"truncated|corrupt"):
        hash_media(data[: len(data) // 2], "x.jpg")


def test_empty_file_is_refused() -> None:
    with pytest.raises(HashingError, match="empty"):
        hash_media(b"", None)


def _png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims huge dimensions (a decompression bomb's shape)."""
    out = io.BytesIO()
    Image.new("L", (1, 1)).save(out, "PNG")
    data = bytearray(out.getvalue())
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


def test_decompression_bomb_is_refused() -> None:
    with pytest.raises(HashingError, match="too large"):
        hash_media(_png_claiming(50_000, 50_000), "bomb.png")
    # A size between our budget and Pillow's own limit is refused too.
    with pytest.raises(HashingError, match="too large"):
        hash_media(_png_claiming(9_000, 8_000), "big.png")


def test_corrupt_video_is_refused() -> None:
    with pytest.raises(HashingError, match="corrupt video"):
        hash_media(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200, "x.mp4")


def test_one_bad_file_does_not_break_the_next() -> None:
    with pytest.raises(HashingError):
        hash_media(b"garbage", "x.png")
    assert len(hash_media(photo_like(4), "ok.jpg")["pdq"]) == 64


def test_still_image_iso_brands_are_not_taken_for_video() -> None:
    from vigie.detect.media.hashing import looks_like_video

    assert looks_like_video(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 8, None)
    assert not looks_like_video(b"\x00\x00\x00\x18ftypavif" + b"\x00" * 8, None)
    assert not looks_like_video(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 8, "x.heic")
    assert looks_like_video(b"anything", "clip.webm")
