"""LazyHistory behaves as the list it stands for, and reads no further back than asked."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as hs

from vigie.detect.history import LazyHistory
from vigie.domain import PriorMessage


def _history(length: int) -> tuple[LazyHistory, list[PriorMessage], list[int]]:
    messages = [PriorMessage(f"s{n % 2}", f"message {n}") for n in range(length)]
    reads: list[int] = []

    def load(count: int) -> list[PriorMessage]:
        reads.append(count)
        return messages[len(messages) - count :]

    return LazyHistory(load, length), messages, reads


@given(
    hs.integers(0, 25),
    hs.one_of(hs.none(), hs.integers(-30, 30)),
    hs.one_of(hs.none(), hs.integers(-30, 30)),
    hs.sampled_from([None, 1, 2, -1]),
)
def test_slices_are_the_lists_slices(length: int, start: int | None, stop: int | None,
                                     step: int | None) -> None:  # fmt: skip
    lazy, messages, _ = _history(length)
    assert lazy[start:stop:step] == messages[start:stop:step]
    assert len(lazy) == len(messages) and list(lazy) == messages


@given(hs.integers(1, 25), hs.data())
def test_items_are_the_lists_items(length: int, data: hs.DataObject) -> None:
    lazy, messages, _ = _history(length)
    index = data.draw(hs.integers(-length, length - 1))
    assert lazy[index] == messages[index]


def test_a_tail_reads_only_the_tail() -> None:
    lazy, messages, reads = _history(20)
    assert lazy[19:] == messages[19:]
    assert lazy[18:] == messages[18:]
    assert lazy[19:] == messages[19:]  # already read
    assert reads == [1, 2]
    assert len(lazy) == 20 and reads == [1, 2]  # the length costs no read


def test_an_empty_history_never_reads() -> None:
    lazy, _, reads = _history(0)
    assert lazy[0:] == [] and len(lazy) == 0 and reads == []
