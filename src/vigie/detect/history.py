"""A conversation's recent messages, read from the store only as far back as a detector looks.

Detectors get the last few messages of the conversation as context, but on most messages the
text detector only needs the one or two sent since the sender last spoke (it remembers what it
has already scanned). Reading twenty rows for every message, to use one, was a tenth of the
storage time per event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import overload

from vigie.domain import PriorMessage

Loader = Callable[[int], list[PriorMessage]]  # the last ``n`` messages, oldest first


class LazyHistory(Sequence[PriorMessage]):
    """The last ``length`` messages (oldest first); ``loader(n)`` reads the last ``n``."""

    def __init__(self, loader: Loader, length: int) -> None:
        self._loader = loader
        self._length = max(0, length)
        self._tail: list[PriorMessage] = []  # the last len(_tail) messages, once read

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> PriorMessage: ...

    @overload
    def __getitem__(self, index: slice) -> list[PriorMessage]: ...

    def __getitem__(self, index: int | slice) -> PriorMessage | list[PriorMessage]:
        if isinstance(index, slice):
            start, stop, step = index.indices(self._length)
            if step == 1 and stop == self._length:  # a tail: read only that far back
                return self._last(max(0, stop - start))
            return self._last(self._length)[index]
        position = index + self._length if index < 0 else index
        if not 0 <= position < self._length:
            raise IndexError("history index out of range")
        return self._last(self._length - position)[0]

    def _last(self, count: int) -> list[PriorMessage]:
        if count == 0:
            return []
        if count > len(self._tail):
            self._tail = self._loader(count)
        return self._tail[max(0, len(self._tail) - count) :]
