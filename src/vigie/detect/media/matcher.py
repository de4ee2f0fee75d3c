"""Match media hashes against the hash lists: the ``known_imagery`` media detector.

The in-memory side (:class:`HashMatcher`) holds the PDQ index, the exact MD5/SHA-256 tables
and the vPDQ frame index; :class:`MediaMatcher` adds loading from a :class:`HashListSource`
(the store's tables, in production) and polling its change log, so an import done by another
process is matchable within a second.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np

from vigie.detect.base import DetectorOutput
from vigie.detect.media.lists import normalise, vpdq_frames
from vigie.detect.media.pdq_index import MAX_DISTANCE, PDQIndex, hex_to_words
from vigie.detect.media.source import EntryView, HashListSource, ListInfo
from vigie.domain import MediaRef, Signal
from vigie.domain.categories import Category

__all__ = ["EntryView", "HashMatcher", "ListInfo", "MediaMatch", "MediaMatcher", "check_hashes"]

MIN_QUALITY = 50  # PDQ/vPDQ hashes below this quality are too flat to match on
VPDQ_MATCH_PERCENT = 80.0  # share of a video's frames that must match (HMA's default)


@dataclass(slots=True, frozen=True)
class MediaMatch:
    list: str
    label: str
    hash_type: str
    distance: int
    threshold: int
    entry_id: int
    action: str
    source: str
    requires_report: bool
    match_percent: float | None = None


class HashMatcher:
    """Lists and their hashes in memory; safe to query while entries are added or removed."""

    def __init__(self, min_quality: int = MIN_QUALITY) -> None:
        self.min_quality = min_quality
        self.lists: dict[int, ListInfo] = {}
        self.pdq = PDQIndex()
        self.vpdq = PDQIndex()
        self._vpdq_sizes: dict[int, int] = {}
        self._exact: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)  # -> entry: list
        self._exact_keys: dict[int, tuple[str, str]] = {}
        self.ignored_low_quality = 0

    def add_list(self, info: ListInfo) -> None:
        self.lists[info.id] = info

    def add_entries(self, entries: Iterable[EntryView]) -> int:
        """Add entries; PDQ ones of quality below ``min_quality`` are ignored. Returns added."""
        pdq_hex: list[str] = []
        pdq_keys: list[int] = []
        pdq_tags: list[int] = []
        added = 0
        for entry in entries:
            if entry.hash_type == "pdq":
                if entry.quality < self.min_quality:
                    self.ignored_low_quality += 1
                    continue
                pdq_hex.append(entry.value)
                pdq_keys.append(entry.id)
                pdq_tags.append(entry.list_id)
            elif entry.hash_type == "vpdq":
                self._add_video(entry)
            else:
                key = (entry.hash_type, entry.value)
                self._exact[key][entry.id] = entry.list_id
                self._exact_keys[entry.id] = key
            added += 1
        if pdq_hex:
            self.pdq.add(hex_to_words(pdq_hex), np.array(pdq_keys), np.array(pdq_tags))
        return added

    def _add_video(self, entry: EntryView) -> None:
        frames = {h for h, q in vpdq_frames(entry.value) if q >= self.min_quality}
        if not frames:
            self.ignored_low_quality += 1
            return
        self._vpdq_sizes[entry.id] = len(frames)
        self.vpdq.add(
            hex_to_words(sorted(frames)),
            np.full(len(frames), entry.id),
            np.full(len(frames), entry.list_id),
        )

    def remove_entries(self, entry_ids: Iterable[int]) -> None:
        ids = list(entry_ids)
        for entry_id in ids:
            key = self._exact_keys.pop(entry_id, None)
            if key is not None:
                self._exact[key].pop(entry_id, None)
            self._vpdq_sizes.pop(entry_id, None)
        self.pdq.remove(ids)
        self.vpdq.remove(ids)

    def match(self, hashes: dict[str, str]) -> list[MediaMatch]:
        """Every list entry these hashes match (exact MD5/SHA-256, PDQ within the list's
        threshold, vPDQ by share of matching frames), strongest first."""
        found: list[MediaMatch] = []
        for kind in ("md5", "sha256"):
            value = str(hashes.get(kind) or "").strip().lower()
            for entry_id, list_id in list(self._exact.get((kind, value), {}).items()):
                found.extend(self._hit(list_id, kind, 0, entry_id))
        for hex_value in self._query_pdq(hashes):
            for hit in self.pdq.search(hex_to_words([hex_value]), MAX_DISTANCE)[0]:
                found.extend(self._hit(hit.tag, "pdq", hit.distance, hit.key))
        if hashes.get("vpdq"):
            found.extend(self._match_video(str(hashes["vpdq"])))
        best: dict[tuple[str, int], MediaMatch] = {}
        for m in found:  # one match per list entry, the closest
            if (m.list, m.entry_id) not in best or m.distance < best[m.list, m.entry_id].distance:
                best[m.list, m.entry_id] = m
        return sorted(best.values(), key=lambda m: (m.distance, m.list, m.entry_id))

    def _query_pdq(self, hashes: dict[str, str]) -> list[str]:
        """The query's PDQ hashes good enough to match on (quality unknown counts as good)."""
        out = []
        pdq = str(hashes.get("pdq") or "").strip().lower()
        if pdq and int(hashes.get("pdq_quality") or 100) >= self.min_quality:
            out.append(pdq)
        if hashes.get("pdq_frames"):
            for frame in json.loads(hashes["pdq_frames"]):
                hex_value, quality = str(frame).split(",")[:2]
                if int(quality) >= self.min_quality:
                    out.append(hex_value.lower())
        return out

    def _match_video(self, value: str) -> list[MediaMatch]:
        frames = sorted({h for h, q in vpdq_frames(value) if q >= self.min_quality})
        if not frames:
            return []
        per_entry: dict[int, list[int]] = defaultdict(list)  # entry -> best distance per frame
        tags: dict[int, int] = {}
        for matches in self.vpdq.search(hex_to_words(frames), MAX_DISTANCE):
            best: dict[int, int] = {}
            for m in matches:
                info = self.lists.get(m.tag)
                if info is not None and m.distance <= info.threshold:
                    best[m.key] = min(best.get(m.key, 99), m.distance)
                    tags[m.key] = m.tag
            for key, distance in best.items():
                per_entry[key].append(distance)
        hits = []
        for entry_id, distances in per_entry.items():
            percent = 100.0 * len(distances) / len(frames)
            if percent >= VPDQ_MATCH_PERCENT:
                hits.extend(self._hit(tags[entry_id], "vpdq", max(distances), entry_id, percent))
        return hits

    def _hit(
        self, list_id: int, kind: str, distance: int, entry_id: int, percent: float | None = None
    ) -> list[MediaMatch]:
        info = self.lists.get(list_id)
        if info is None or (kind == "pdq" and distance > info.threshold):
            return []
        return [
            MediaMatch(
                info.name,
                info.label,
                kind,
                distance,
                info.threshold,
                entry_id,
                info.action,
                info.source,
                info.requires_report,
                percent,
            )
        ]


def check_hashes(hashes: dict[str, Any]) -> dict[str, str]:
    """Validate hashes sent by a platform; raises ValueError naming the bad field.

    Known keys: ``pdq`` (64 hex), ``pdq_quality`` (0..100), ``md5`` (32 hex), ``sha256``
    (64 hex), ``vpdq`` (HMA compact JSON), ``pdq_frames``; unknown keys are dropped.
    """
    out: dict[str, str] = {}
    for key in ("pdq", "md5", "sha256", "vpdq"):
        if hashes.get(key) in (None, ""):
            continue
        try:
            out[key] = normalise(key, str(hashes[key]))[1]
        except ValueError as exc:
            raise ValueError(f"hashes.{key}: {exc}") from exc
    if hashes.get("pdq_quality") not in (None, ""):
        try:
            quality = int(str(hashes["pdq_quality"]))
        except ValueError:
            quality = -1
        if not 0 <= quality <= 100:
            raise ValueError("hashes.pdq_quality: a whole number within 0..100")
        out["pdq_quality"] = str(quality)
    if hashes.get("pdq_frames"):
        try:
            frames = json.loads(str(hashes["pdq_frames"]))
            for frame in frames:
                normalise("pdq", str(frame).split(",")[0])
                int(str(frame).split(",")[1])
        except (ValueError, IndexError, TypeError) as exc:
            raise ValueError("hashes.pdq_frames: a JSON list of 'hex,quality'") from exc
        out["pdq_frames"] = str(hashes["pdq_frames"])
    return out


def explain(match: MediaMatch) -> str:
    if match.hash_type in ("md5", "sha256"):
        how = f"identical file ({match.hash_type})"
    elif match.hash_type == "vpdq":
        how = f"{match.match_percent:.0f}% of video frames within PDQ distance {match.threshold}"
    else:
        how = f"PDQ distance {match.distance} (threshold {match.threshold})"
    return f"media matches hash list '{match.list}' ({match.label}): {how}"


def to_output(matches: list[MediaMatch], detector: str, version: str) -> DetectorOutput:
    """Signals for the pipeline: one per matching list entry, risk 1.0 on any match."""
    signals = [
        Signal(
            detector=detector,
            category=Category.KNOWN_IMAGERY.value,
            score=1.0,
            explanation=explain(m),
            model=f"{detector}/{version}",
            details=asdict(m),
        )
        for m in matches
    ]
    if not signals:
        return DetectorOutput(signals=[], risk=0.0, categories=[], summary="no hash-list match")
    lists = sorted({m.list for m in matches})
    return DetectorOutput(
        signals=signals,
        risk=1.0,
        categories=[Category.KNOWN_IMAGERY.value],
        summary=f"known imagery: matches {', '.join(lists)}",
    )


class MediaMatcher(HashMatcher):
    """The ``MediaDetector`` for known imagery, kept in step with a source's lists."""

    name = "known_imagery"
    version = "1"

    def __init__(
        self,
        source: HashListSource | None = None,
        *,
        min_quality: int = MIN_QUALITY,
        refresh_interval: float = 0.5,
    ) -> None:
        super().__init__(min_quality)
        self.source = source
        self.refresh_interval = refresh_interval
        self._change_id = 0
        self._checked_at = 0.0
        self._refresh_lock = threading.Lock()
        if source is not None:
            self.load()

    def load(self) -> None:
        """Read every list and live entry (at start)."""
        from vigie.detect.media.pdq_index import warm_up

        warm_up()
        if self.source is None or not self.source.ready():
            return
        self._change_id = self.source.last_change_id()
        self._load_lists(self.source)
        self.add_entries(self.source.live_entries())
        self._checked_at = time.monotonic()

    def _load_lists(self, source: HashListSource) -> None:
        for info in source.lists():
            self.add_list(replace(info, threshold=min(info.threshold, MAX_DISTANCE)))

    def refresh(self) -> int:
        """Apply the changes logged since the last look; returns how many were applied."""
        source = self.source
        if source is None or not source.ready():
            return 0
        with self._refresh_lock:
            changes = source.changes_since(self._change_id)
            if changes:
                self._load_lists(source)
            pending: list[EntryView] = []
            for _, op, entry in changes:  # in order; consecutive additions go in one batch
                if op == "add":
                    pending.append(entry)
                    continue
                self.add_entries(pending)
                pending = []
                self.remove_entries([entry.id])
            self.add_entries(pending)
            if changes:
                self._change_id = changes[-1][0]
            self._checked_at = time.monotonic()
            return len(changes)

    def detect_media(self, media: MediaRef) -> DetectorOutput:
        if self.source is not None and time.monotonic() - self._checked_at >= self.refresh_interval:
            self.refresh()
        try:
            hashes = check_hashes(media.hashes)
        except ValueError as exc:
            return DetectorOutput(summary=f"hashes not usable: {exc}")
        return to_output(self.match(hashes), self.name, self.version)
