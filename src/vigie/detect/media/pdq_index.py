"""Exact PDQ lookup within Hamming distance 31 by multi-index hashing (MIH) over 16-bit slices.

Why this shape: a 256-bit hash cut into 16 slices of 16 bits; if two hashes differ in at most
31 bits, some slice differs in at most one bit (pigeonhole: 16 slices x 2 bits = 32 > 31).
So probing, for each slice, the query's own value and its 16 one-bit neighbours (17 x 16 =
272 buckets) finds *every* hash within 31, and checking the candidates' full distance
keeps *none* beyond. Each slice is a counting-sorted array of row numbers with a 65,537-entry
offset table, so a probe is two array reads and the whole query is a handful of vectorised
NumPy operations (no Python loop over candidates).

Memory per hash: 32 bytes (hash) + 16 x 4 (row numbers per slice) + 8 (key) + 4 (tag)
+ 1 (alive) = 109 bytes.

Updates never rebuild the whole index nor block lookups: new hashes go to a small buffer
searched by brute force, which is frozen into an immutable segment when full; segments of
similar size are merged (log-structured), and a lookup works on a snapshot of the segment
tuple, swapped atomically. Removal marks rows dead (dropped at the next merge).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from vigie.detect.media.mih_kernel import KERNELS

MAX_DISTANCE = 31  # the largest threshold the 1-bit-neighbour probing is exact for
SLICES = 16
BUCKETS = 1 << 16
DELTA_MAX = 8192  # hashes searched by brute force before being frozen into a segment
_MASKS = np.array([0] + [1 << b for b in range(16)], dtype=np.uint16)  # 17 probes per slice
_PARALLEL_LOCK = threading.Lock()
_SLICE_BASE = (np.arange(SLICES, dtype=np.int64) * (BUCKETS + 1))[:, None]


def hex_to_words(hexes: list[str] | tuple[str, ...]) -> np.ndarray:
    """64-hex-character PDQ hashes to an (n, 4) uint64 array (raises ValueError if malformed)."""
    raw = b"".join(bytes.fromhex(h) if len(h) == 64 else _bad(h) for h in hexes)
    return np.frombuffer(raw, dtype=np.uint64).reshape(-1, 4).copy()


def _bad(value: str) -> bytes:
    raise ValueError(f"a PDQ hash has 64 hex characters, got {len(value)}")


def words_to_hex(words: np.ndarray) -> list[str]:
    return [row.tobytes().hex() for row in np.ascontiguousarray(words, dtype=np.uint64)]


@dataclass(slots=True)
class Match:
    key: int
    tag: int
    distance: int


class _Segment:
    """An immutable MIH block of hashes; only ``alive`` changes (on removal)."""

    def __init__(self, words: np.ndarray, keys: np.ndarray, tags: np.ndarray) -> None:
        # Store rows sorted by their first 64 bits: near-duplicates (which share most slices)
        # then sit next to each other, so verifying a cluster of them reads memory in order.
        by_prefix = np.argsort(np.asarray(words, dtype=np.uint64)[:, 0], kind="stable")
        self.words = np.ascontiguousarray(np.asarray(words, dtype=np.uint64)[by_prefix])
        self.keys = np.ascontiguousarray(np.asarray(keys, dtype=np.int64)[by_prefix])
        self.tags = np.ascontiguousarray(np.asarray(tags, dtype=np.int32)[by_prefix])
        self.alive = np.ones(len(self.keys), dtype=bool)
        n = len(self.keys)
        slices = self.words.view(np.uint16).reshape(n, SLICES)
        self.rows = np.empty((SLICES, n), dtype=np.uint32)
        self.partners = np.empty((SLICES, n), dtype=np.uint8)
        offsets = np.empty((SLICES, BUCKETS + 1), dtype=np.int64)
        for j in range(SLICES):
            column = slices[:, j]
            order = np.argsort(column, kind="stable")
            self.rows[j] = order
            self.partners[j] = _fold8(slices[order, j ^ 1])
            offsets[j, 0] = 0
            np.cumsum(np.bincount(column, minlength=BUCKETS), out=offsets[j, 1:])
            offsets[j] += j * n  # index straight into the flattened ``rows``
        self.offsets = offsets.ravel().astype(np.uint32 if SLICES * n < 2**32 else np.int64)
        self.flat_rows = self.rows.ravel()
        self.flat_partners = self.partners.ravel()

    def __len__(self) -> int:
        return len(self.keys)

    def search(self, queries: np.ndarray, threshold: int) -> tuple[np.ndarray, ...]:
        """(query number, row, distance) of every live row within ``threshold``, each once."""
        if KERNELS is None:  # pragma: no cover - numba missing
            return self.search_numpy(queries, threshold)
        search_one, search_many = KERNELS
        cap = 16_384 if len(queries) == 1 else 1024  # room for big clusters of near-duplicates
        rows = np.empty((len(queries), cap), dtype=np.int64)
        dist = np.empty((len(queries), cap), dtype=np.int64)
        counts = np.empty(len(queries), dtype=np.int64)
        args = (self.offsets, self.flat_rows, self.flat_partners, self.words, self.alive)
        if len(queries) == 1:
            counts[0] = search_one(*args, queries[0], threshold, rows[0], dist[0])
        else:
            # Numba's default (workqueue) threading layer must not be entered by two Python
            # threads at once; the parallel kernel already uses every core, so take turns.
            with _PARALLEL_LOCK:
                search_many(*args, queries, threshold, rows, dist, counts)
        q_of, out_rows, out_dist = [], [], []
        for i in np.flatnonzero(counts).tolist():
            count = int(counts[i])
            if count > cap:  # many near-duplicates in the list: search again with room
                rows_i = np.empty(count, dtype=np.int64)
                dist_i = np.empty(count, dtype=np.int64)
                search_one(*args, queries[i], threshold, rows_i, dist_i)
            else:
                rows_i, dist_i = rows[i, :count], dist[i, :count]
            q_of.append(np.full(count, i, dtype=np.int64))
            out_rows.append(rows_i)
            out_dist.append(dist_i)
        if not q_of:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, empty
        return np.concatenate(q_of), np.concatenate(out_rows), np.concatenate(out_dist)

    def search_numpy(self, queries: np.ndarray, threshold: int) -> tuple[np.ndarray, ...]:
        """The same search in plain NumPy (slower; duplicates are removed by the caller)."""
        slices = queries.view(np.uint16).reshape(-1, SLICES, 1)
        probes = (slices ^ _MASKS).astype(np.int64) + _SLICE_BASE  # (q, 16, 17)
        starts = self.offsets[probes].ravel().astype(np.int64)
        lengths = self.offsets[probes + 1].ravel().astype(np.int64) - starts
        total = int(lengths.sum())
        if total == 0:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, empty
        ends = np.cumsum(lengths)
        positions = np.arange(total, dtype=np.int64) + np.repeat(starts - (ends - lengths), lengths)
        candidates = self.flat_rows[positions]
        per_query = lengths.reshape(len(queries), -1).sum(axis=1)
        query_of = np.repeat(np.arange(len(queries)), per_query)
        distance = _distances(self.words[candidates], queries[query_of])
        keep = (distance <= threshold) & self.alive[candidates]
        return query_of[keep], candidates[keep].astype(np.int64), distance[keep]


def _fold8(values: np.ndarray) -> np.ndarray:
    """XOR-fold 16 bits to 8: the folded distance never exceeds the 16-bit distance."""
    folded: np.ndarray = ((values ^ (values >> 8)) & 0xFF).astype(np.uint8)
    return folded


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    counts: np.ndarray = np.bitwise_count(a ^ b).sum(axis=1, dtype=np.int64)
    return counts


class _Buffer:
    """Recent additions, searched by brute force until frozen into a segment."""

    def __init__(self) -> None:
        self.words = np.empty((DELTA_MAX, 4), dtype=np.uint64)
        self.keys = np.empty(DELTA_MAX, dtype=np.int64)
        self.tags = np.empty(DELTA_MAX, dtype=np.int32)
        self.alive = np.ones(DELTA_MAX, dtype=bool)
        self.size = 0


class PDQIndex:
    """Exact PDQ search (threshold <= 31) with incremental add and remove; thread-safe."""

    def __init__(self) -> None:
        self._segments: tuple[_Segment, ...] = ()
        self._buffer = _Buffer()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        segments, buffer, size = self._snapshot()
        live = sum(int(s.alive.sum()) for s in segments)
        return live + int(buffer.alive[:size].sum())

    def memory_bytes(self) -> int:
        """Bytes held by the index arrays (what ``bytes/hash`` in the benchmark counts)."""
        total = 0
        for seg in self._segments:
            arrays = (seg.words, seg.keys, seg.tags, seg.alive, seg.rows, seg.partners, seg.offsets)
            total += sum(a.nbytes for a in arrays)
        b = self._buffer
        return total + b.words.nbytes + b.keys.nbytes + b.tags.nbytes + b.alive.nbytes

    def add(self, words: np.ndarray, keys: np.ndarray, tags: np.ndarray) -> None:
        """Add hashes (``(n, 4)`` uint64, see :func:`hex_to_words`) with their keys and tags."""
        words = np.asarray(words, dtype=np.uint64).reshape(-1, 4)
        keys = np.asarray(keys, dtype=np.int64).ravel()
        tags = np.asarray(tags, dtype=np.int32).ravel()
        with self._lock:
            if len(keys) >= DELTA_MAX:
                self._push(_Segment(words, keys, tags))
                return
            for start in range(0, len(keys), DELTA_MAX):
                self._append(
                    words[start : start + DELTA_MAX],
                    keys[start : start + DELTA_MAX],
                    tags[start : start + DELTA_MAX],
                )

    def _append(self, words: np.ndarray, keys: np.ndarray, tags: np.ndarray) -> None:
        buffer = self._buffer
        room = DELTA_MAX - buffer.size
        if len(keys) > room:
            self._freeze()
            buffer = self._buffer
        end = buffer.size + len(keys)
        buffer.words[buffer.size : end] = words
        buffer.keys[buffer.size : end] = keys
        buffer.tags[buffer.size : end] = tags
        buffer.alive[buffer.size : end] = True
        buffer.size = end  # published last: readers only look below ``size``

    def _freeze(self) -> None:
        old, size = self._buffer, self._buffer.size
        live = old.alive[:size]
        self._buffer = _Buffer()
        if live.any():
            self._push(
                _Segment(old.words[:size][live], old.keys[:size][live], old.tags[:size][live])
            )

    def _push(self, segment: _Segment) -> None:
        """Append a segment, then merge neighbours of similar size (log-structured)."""
        segments = [*self._segments, segment]
        while len(segments) > 1 and len(segments[-1]) * 2 >= len(segments[-2]):
            newer, older = segments.pop(), segments.pop()
            segments.append(_merge(older, newer))
        self._segments = tuple(segments)

    def remove(self, keys: np.ndarray | list[int]) -> int:
        """Stop matching the hashes with these keys; returns how many rows were removed."""
        wanted = np.asarray(keys, dtype=np.int64)
        removed = 0
        with self._lock:
            for seg in self._segments:
                hit = np.isin(seg.keys, wanted) & seg.alive
                removed += int(hit.sum())
                seg.alive[hit] = False
            b = self._buffer
            hit = np.isin(b.keys[: b.size], wanted) & b.alive[: b.size]
            removed += int(hit.sum())
            b.alive[: b.size][hit] = False
        return removed

    def _snapshot(self) -> tuple[tuple[_Segment, ...], _Buffer, int]:
        with self._lock:
            return self._segments, self._buffer, self._buffer.size

    def search(self, words: np.ndarray, threshold: int = MAX_DISTANCE) -> list[list[Match]]:
        """For each query hash, every live entry within ``threshold`` (<= 31), nearest first."""
        query_of, keys, tags, distances = self.search_arrays(words, threshold)
        results: list[list[Match]] = [[] for _ in range(len(np.asarray(words).reshape(-1, 4)))]
        for q, key, tag, d in zip(
            query_of.tolist(), keys.tolist(), tags.tolist(), distances.tolist(), strict=True
        ):
            results[q].append(Match(key, tag, d))
        for matches in results:
            _dedupe(matches)
        return results

    def search_arrays(
        self, words: np.ndarray, threshold: int = MAX_DISTANCE
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The same as :meth:`search` as flat arrays (query number, key, tag, distance), for
        batches; a key appears once per query unless it was added twice."""
        if not 0 <= threshold <= MAX_DISTANCE:
            raise ValueError(f"PDQ threshold must be within 0..{MAX_DISTANCE}")
        queries = np.ascontiguousarray(np.asarray(words, dtype=np.uint64).reshape(-1, 4))
        segments, buffer, size = self._snapshot()
        parts: list[tuple[np.ndarray, ...]] = []
        for seg in segments:
            for chunk in range(0, len(queries), 1024):
                q_of, rows, dist = seg.search(queries[chunk : chunk + 1024], threshold)
                if KERNELS is None:  # pragma: no cover - the NumPy path may repeat rows
                    q_of, rows, dist = _unique_rows(q_of, rows, dist)
                parts.append((q_of + chunk, seg.keys[rows], seg.tags[rows], dist))
        if size:
            parts.append(self._search_buffer(buffer, size, queries, threshold))
        if not parts:
            empty = np.empty(0, dtype=np.int64)
            return empty, empty, empty.astype(np.int32), empty
        return tuple(np.concatenate([p[i] for p in parts]) for i in range(4))  # type: ignore[return-value]

    @staticmethod
    def _search_buffer(
        buffer: _Buffer, size: int, queries: np.ndarray, threshold: int
    ) -> tuple[np.ndarray, ...]:
        words, alive = buffer.words[:size], buffer.alive[:size]
        found: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        for start in range(0, len(queries), 32):  # bounded temporaries: 32 x 8192 x 32 bytes
            block = queries[start : start + 32]
            distance = np.bitwise_count(block[:, None, :] ^ words[None, :, :]).sum(
                axis=2, dtype=np.int64
            )
            q_of, rows = np.nonzero((distance <= threshold) & alive[None, :])
            found.append((q_of + start, rows, distance[q_of, rows]))
        q_of = np.concatenate([f[0] for f in found])
        rows = np.concatenate([f[1] for f in found])
        return q_of, buffer.keys[rows], buffer.tags[rows], np.concatenate([f[2] for f in found])


def _unique_rows(q_of: np.ndarray, rows: np.ndarray, dist: np.ndarray) -> tuple[np.ndarray, ...]:
    pairs = np.unique(np.stack([q_of, rows, dist], axis=1), axis=0)
    return pairs[:, 0], pairs[:, 1], pairs[:, 2]


def warm_up() -> None:
    """Compile the Numba kernels now (or load them from the on-disk cache) rather than on
    the first real lookup."""
    rng = np.random.default_rng(0)
    words = rng.integers(0, 2**63, size=(64, 4), dtype=np.uint64)
    segment = _Segment(words, np.arange(64), np.zeros(64))
    segment.search(words[:1], MAX_DISTANCE)
    segment.search(words[:2], MAX_DISTANCE)


def _dedupe(matches: list[Match]) -> None:
    """One match per key, the nearest; then nearest first."""
    unique: dict[int, Match] = {}
    for m in matches:  # a key may own several rows (a video's frames): keep its nearest
        if m.key not in unique or m.distance < unique[m.key].distance:
            unique[m.key] = m
    matches[:] = sorted(unique.values(), key=lambda m: (m.distance, m.key))


def _merge(older: _Segment, newer: _Segment) -> _Segment:
    parts = [(s.words[s.alive], s.keys[s.alive], s.tags[s.alive]) for s in (older, newer)]
    return _Segment(*(np.concatenate([p[i] for p in parts]) for i in range(3)))
