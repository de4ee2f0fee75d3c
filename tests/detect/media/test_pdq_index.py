"""The PDQ index is exact within distance 31: compared with brute force, and at the edges."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigie.detect.media import pdq_index
from vigie.detect.media.pdq_index import PDQIndex, hex_to_words, words_to_hex


def _flip(words: np.ndarray, bits: list[int]) -> np.ndarray:
    out = words.copy().reshape(-1, 4)
    view = out.view(np.uint8).reshape(-1)
    for bit in bits:
        view[bit // 8] ^= np.uint8(1 << (bit % 8))
    return out


def _random(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 2**64 - 1, size=(n, 4), dtype=np.uint64, endpoint=True)


def _brute(stored: np.ndarray, query: np.ndarray, threshold: int) -> dict[int, int]:
    distance = np.bitwise_count(stored ^ query).sum(axis=1)
    return {int(i): int(distance[i]) for i in np.flatnonzero(distance <= threshold)}


def _found(index: PDQIndex, query: np.ndarray, threshold: int = 31) -> dict[int, int]:
    return {m.key: m.distance for m in index.search(query, threshold)[0]}


@pytest.mark.parametrize("size", [1, 5, 20_000])  # buffer only, and frozen segments
def test_distance_31_matches_and_32_does_not(size: int) -> None:
    rng = np.random.default_rng(size)
    stored = _random(rng, size)
    index = PDQIndex()
    index.add(stored, np.arange(size), np.zeros(size))
    # Worst case for the slicing: the differing bits spread two per slice (one slice gets 1).
    spread = [j * 16 + b for j in range(16) for b in (0, 9)][:31]
    assert _found(index, _flip(stored[0], spread)).get(0) == 31
    assert 0 not in _found(index, _flip(stored[0], [*spread, 15 * 16 + 3]))
    assert 0 not in _found(index, _flip(stored[0], list(range(32))))
    assert _found(index, _flip(stored[0], list(range(31)))).get(0) == 31


def test_a_list_of_one_hash_matches() -> None:
    index = PDQIndex()
    (word,) = hex_to_words(["f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"])
    index.add(word[None, :], np.array([7]), np.array([1]))
    assert _found(index, word) == {7: 0}
    assert _found(index, _flip(word, [3, 100])) == {7: 2}


def test_hex_round_trip_and_malformed() -> None:
    value = "6227401f601ff4ccafcc9fad4b0d95d371a2eb7265a3285234d228ca94deeb2d"
    assert words_to_hex(hex_to_words([value])) == [value]
    with pytest.raises(ValueError):
        hex_to_words(["abc"])


def test_remove_and_incremental_add_without_rebuild() -> None:
    rng = np.random.default_rng(3)
    index = PDQIndex()
    big = _random(rng, 20_000)
    index.add(big, np.arange(20_000), np.zeros(20_000))
    segments_before = index._segments
    late = _random(rng, 3)
    index.add(late, np.array([100_001, 100_002, 100_003]), np.zeros(3))
    assert index._segments is segments_before  # no rebuild for a small addition
    assert _found(index, late[1], 0) == {100_002: 0}
    assert index.remove([100_002, 5]) == 2
    assert _found(index, late[1]) == {}
    assert 5 not in _found(index, big[5])
    assert len(index) == 20_001


def test_buffer_freezes_into_segments_and_merges() -> None:
    rng = np.random.default_rng(4)
    index = PDQIndex()
    stored = _random(rng, 3 * pdq_index.DELTA_MAX + 17)
    for start in range(0, len(stored), 1000):  # many small imports
        chunk = stored[start : start + 1000]
        index.add(chunk, np.arange(start, start + len(chunk)), np.ones(len(chunk)))
    assert 1 <= len(index._segments) <= 3
    for i in (0, 9000, len(stored) - 1):
        assert _found(index, stored[i], 0) == {i: 0}


def test_threshold_above_31_is_refused() -> None:
    with pytest.raises(ValueError):
        PDQIndex().search(np.zeros((1, 4), dtype=np.uint64), 32)


@st.composite
def _near(draw: st.DrawFn) -> tuple[int, list[int], int]:
    seed = draw(st.integers(0, 2**32 - 1))
    flips = draw(st.lists(st.integers(0, 255), max_size=40, unique=True))
    threshold = draw(st.integers(0, 31))
    return seed, flips, threshold


def _clustered(rng: np.random.Generator, bases: int, variants: int) -> np.ndarray:
    """Many near-variants of a few base hashes, as real lists are (up to 40 bits apart)."""
    base = _random(rng, bases)
    out = np.repeat(base, variants, axis=0)
    view = out.view(np.uint8).reshape(len(out), 32)
    for row in range(len(out)):
        for bit in rng.choice(256, int(rng.integers(0, 40)), replace=False):
            view[row, bit // 8] ^= np.uint8(1 << (bit % 8))
    return out


_RNG = np.random.default_rng(12345)
_RANDOM = _random(_RNG, 30_000)
_CLUSTERED = _clustered(_RNG, 60, 400)
_INDEXES = {}
for _name, _stored in (("random", _RANDOM), ("clustered", _CLUSTERED)):
    _INDEXES[_name] = PDQIndex()
    _INDEXES[_name].add(_stored, np.arange(len(_stored)), np.zeros(len(_stored)))


@settings(max_examples=60, deadline=None)
@given(kind=st.sampled_from(["random", "clustered"]), near=_near())
def test_exact_against_brute_force(kind: str, near: tuple[int, list[int], int]) -> None:
    seed, flips, threshold = near
    stored = _RANDOM if kind == "random" else _CLUSTERED
    query = _flip(stored[seed % len(stored)], flips)
    assert _found(_INDEXES[kind], query, threshold) == _brute(stored, query, threshold)


def test_batched_search_equals_single() -> None:
    rng = np.random.default_rng(8)
    queries = _flip(_CLUSTERED[rng.integers(0, len(_CLUSTERED), 50)], [1, 77, 200])
    batched = _INDEXES["clustered"].search(queries, 31)
    for i, query in enumerate(queries):
        assert {m.key: m.distance for m in batched[i]} == _brute(_CLUSTERED, query, 31)


def test_numpy_fallback_agrees_with_kernel() -> None:
    segment = _INDEXES["clustered"]._segments[0]
    query = _flip(_CLUSTERED[10], [5, 6, 7])
    q_of, rows, dist = segment.search_numpy(query, 31)
    assert {int(segment.keys[r]): int(d) for r, d in zip(rows, dist, strict=True)} == _brute(
        _CLUSTERED, query, 31
    )
    assert set(q_of.tolist()) <= {0}


def test_concurrent_batched_searches_from_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    index = _INDEXES["random"]
    queries = _RANDOM[:64]

    def run(_: int) -> int:
        return sum(len(m) for m in index.search(queries, 0))

    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(run, range(8))) == [64] * 8
