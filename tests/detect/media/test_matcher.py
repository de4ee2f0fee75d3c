"""MediaMatcher: lists in the database, signals on a match, updates seen within a second."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from vigie.detect.base import MediaDetector
from vigie.detect.media import MediaMatcher, check_hashes, hash_media
from vigie.detect.media.matcher import HashMatcher, ListInfo
from vigie.domain import MediaRef
from vigie.store import hashlists as repo
from vigie.store.hashlists import EntryView, SqlHashLists
from vigie.store.tables import Base

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
MD5 = "8bbbaa9540800e378beadc8bbef7bb32"


def _flip(hex_value: str, bits: int) -> str:
    return f"{int(hex_value, 16) ^ ((1 << bits) - 1):064x}"


def _media(hashes: dict[str, str]) -> MediaRef:
    return MediaRef("p1", "c1", "u1", hashes, datetime.now(UTC))


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = create_engine(f"sqlite:///{tmp_path / 'lists.db'}")
    Base.metadata.create_all(engine, tables=repo.HASHLIST_TABLES)
    return engine


def _add(engine, name: str, label: str, items: list[tuple[str, str, int]]) -> None:  # type: ignore[no-untyped-def]
    with Session(engine) as session, session.begin():
        hash_list = repo.get_or_create_list(session, name, source="test", label=label)
        repo.add_entries(session, hash_list, items)


def test_pdq_match_gives_signal_with_list_label_distance(engine) -> None:  # type: ignore[no-untyped-def]
    _add(engine, "hotline", "known_csam", [("pdq", PDQ, 100)])
    matcher = MediaMatcher(SqlHashLists(engine))
    assert isinstance(matcher, MediaDetector)
    out = matcher.detect_media(_media({"pdq": _flip(PDQ, 31), "pdq_quality": "100"}))
    assert out.risk == 1.0 and out.categories == ["known_imagery"]
    (signal,) = out.signals
    assert signal.category == "known_imagery" and signal.score == 1.0
    assert signal.details["list"] == "hotline"
    assert signal.details["label"] == "known_csam"
    assert signal.details["distance"] == 31
    assert "hotline" in signal.explanation and "31" in signal.explanation
    assert matcher.detect_media(_media({"pdq": _flip(PDQ, 32)})).signals == []


def test_exact_md5_and_low_quality_rules(engine) -> None:  # type: ignore[no-untyped-def]
    _add(engine, "ncii", "ncii_self_reported", [("md5", MD5, 100), ("pdq", PDQ, 30)])
    matcher = MediaMatcher(SqlHashLists(engine))
    assert matcher.ignored_low_quality == 1  # a list hash of quality < 50 is not indexed
    assert matcher.detect_media(_media({"pdq": PDQ})).signals == []
    hit = matcher.detect_media(_media({"md5": MD5.upper()}))
    assert hit.signals[0].details["hash_type"] == "md5"
    _add(engine, "hotline", "known_csam", [("pdq", PDQ, 100)])
    matcher.refresh()
    # a query hash of quality < 50 is not used either
    assert matcher.detect_media(_media({"pdq": PDQ, "pdq_quality": "49"})).signals == []
    assert len(matcher.detect_media(_media({"pdq": PDQ, "pdq_quality": "50"})).signals) == 1


def test_new_hashes_matchable_within_a_second_and_removal(engine) -> None:  # type: ignore[no-untyped-def]
    matcher = MediaMatcher(SqlHashLists(engine), refresh_interval=0.2)
    assert matcher.detect_media(_media({"pdq": PDQ})).signals == []
    _add(engine, "hotline", "known_csam", [("pdq", PDQ, 100)])
    started = time.monotonic()
    while not matcher.detect_media(_media({"pdq": PDQ})).signals:
        assert time.monotonic() - started < 1.0
        time.sleep(0.05)
    with Session(engine) as session, session.begin():
        hash_list = repo.get_or_create_list(session, "hotline")
        assert repo.remove_entry(session, hash_list, "pdq", PDQ) is not None
    matcher.refresh()
    assert matcher.detect_media(_media({"pdq": PDQ})).signals == []


def test_uploaded_bytes_flow(engine) -> None:  # type: ignore[no-untyped-def]
    from media_helpers import photo_like

    image = photo_like(11)
    hashes = hash_media(image, "upload.jpg")
    _add(engine, "hotline", "known_csam", [("pdq", hashes["pdq"], 100)])
    matcher = MediaMatcher(SqlHashLists(engine))
    assert matcher.detect_media(_media(hash_media(photo_like(11, fmt="PNG")))).risk == 1.0
    assert matcher.detect_media(_media(hash_media(photo_like(99)))).signals == []


def test_per_list_threshold() -> None:
    matcher = HashMatcher()
    matcher.add_list(ListInfo(1, "strict", "known_csam", threshold=10))
    matcher.add_entries([EntryView(1, 1, "pdq", PDQ, 100)])
    assert [m.distance for m in matcher.match({"pdq": _flip(PDQ, 10)})] == [10]
    assert matcher.match({"pdq": _flip(PDQ, 11)}) == []


def test_video_matching_by_share_of_frames() -> None:
    rng = np.random.default_rng(0)
    frames = [f"{int(x):064x}" for x in rng.integers(1, 2**62, 10)]
    import json

    value = json.dumps([f"{f},100,{i}.000" for i, f in enumerate(frames)])
    matcher = HashMatcher()
    matcher.add_list(ListInfo(1, "videos", "known_csam"))
    matcher.add_entries([EntryView(5, 1, "vpdq", value, 100)])
    most = json.dumps([f"{f},100,0.000" for f in frames[:9]] + [f"{'ab' * 32},100,9.000"])
    (hit,) = matcher.match({"vpdq": most})
    assert hit.hash_type == "vpdq" and hit.match_percent == 90.0
    few = json.dumps([f"{frames[0]},100,0.000"] + [f"{'cd' * 32},100,{i}.000" for i in range(4)])
    assert matcher.match({"vpdq": few}) == []


def test_check_hashes_names_the_bad_field() -> None:
    assert check_hashes({"pdq": PDQ.upper(), "other": "x"}) == {"pdq": PDQ}
    with pytest.raises(ValueError, match=r"hashes\.md5"):
        check_hashes({"md5": "xyz"})
    with pytest.raises(ValueError, match=r"hashes\.pdq_quality"):
        check_hashes({"pdq": PDQ, "pdq_quality": "high"})
    out = MediaMatcher().detect_media(_media({"pdq": "nothex"}))
    assert out.signals == [] and "hashes.pdq" in out.summary


def test_from_settings_before_any_list_exists(tmp_path: Path) -> None:
    from vigie.runtime import media_matcher
    from vigie.settings import Settings

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}")
    engine = create_engine(settings.database_url)
    matcher = media_matcher(settings, engine)
    assert matcher.detect_media(_media({"pdq": PDQ})).signals == []
    Base.metadata.create_all(engine, tables=repo.HASHLIST_TABLES)
    _add(engine, "hotline", "known_csam", [("pdq", PDQ, 100)])
    assert matcher.refresh() == 1
    assert matcher.detect_media(_media({"pdq": PDQ})).risk == 1.0


def test_reference_video_matches_itself_not_another(data_dir: Path) -> None:
    videos = data_dir / "vpdq" / "videos"
    grey = hash_media((videos / "pattern-sd-grey-bar.mp4").read_bytes(), "a.mp4")
    chair = hash_media((videos / "chair-22-sd-grey-bar.mp4").read_bytes(), "b.mp4")
    matcher = HashMatcher()
    matcher.add_list(ListInfo(1, "videos", "known_csam"))
    matcher.add_entries([EntryView(1, 1, "vpdq", grey["vpdq"], 100)])
    (hit,) = matcher.match({"vpdq": grey["vpdq"]})
    assert hit.match_percent == 100.0 and hit.distance == 0
    assert matcher.match({"vpdq": chair["vpdq"]}) == []
