"""Group commit: requests that arrive together share one transaction and one commit.

On SQLite the pipeline runs on the event loop, one transaction at a time. Under load, several
requests are parsed and waiting while one is processed; committing each alone costs a WAL
write of the same table pages over and over, and a connection checkout. Instead, every request
that is waiting when the loop gets to the store goes in one transaction. At low load a group
is one request, so nothing waits for company: a group is never delayed to grow.

Each group runs in one write turn of the store (``Store.write_turn``). With one process the
turn is free at once. With several ``vigie serve`` workers on one SQLite file, a worker whose
turn has not come keeps reading requests on its loop while it waits, and they join its next
group; only the pipeline's work takes turns, never the HTTP work around it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from vigie.domain import Platform
from vigie.events import Event
from vigie.pipeline import Pipeline, Turn
from vigie.scheduling import in_order

log = logging.getLogger(__name__)

# A group's answers all leave when its commit is done, and the loop answers nothing else
# meanwhile, so a cap (about 20 ms of work) bounds the wait a group adds.
MAX_EVENTS_PER_GROUP = 16

Waiting = tuple[Platform, Sequence[Event], "asyncio.Future[list[dict[str, Any]]]"]


class GroupCommitter:
    """Collects ``(platform, events)`` batches and processes them together on the loop."""

    def __init__(self, pipeline: Pipeline, max_events: int = MAX_EVENTS_PER_GROUP) -> None:
        self.pipeline = pipeline
        self.max_events = max_events
        self._waiting: list[Waiting] = []
        self._drainer: asyncio.Task[None] | None = None

    async def process(
        self, platform: Platform, events: Sequence[Event], timeout: float | None = None
    ) -> list[dict[str, Any]]:
        """The batch's answers; ``TimeoutError`` after ``timeout`` seconds without them (the
        batch is still processed: events are idempotent, a retry gets the first answer)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[dict[str, Any]]] = loop.create_future()
        self._waiting.append((platform, events, future))
        if self._drainer is None:
            self._drainer = loop.create_task(self._drain())
        timer = loop.call_later(timeout, expire, future) if timeout else None
        try:
            return await future
        finally:
            if timer is not None:
                timer.cancel()

    async def _drain(self) -> None:
        """Run groups while batches wait, each in one write turn."""
        try:
            while self._waiting:
                try:
                    async with self.pipeline.store.write_turn():
                        self._run_group(self._take())  # taken now: late comers join
                except Exception as exc:  # the turn itself failed (the lock file, say)
                    log.exception("no write turn; failing the waiting batches")
                    for _, _, future in self._waiting:
                        _settle(future, exception=exc)
                    self._waiting = []
                # Let this group's answers leave before the next group takes the loop.
                await asyncio.sleep(0)
        finally:
            self._drainer = None

    def _run_group(self, group: list[Waiting]) -> None:
        if not group:
            return
        answers = answer_group(self.pipeline, [(p, events) for p, events, _ in group])
        for (_, _, future), answer in zip(group, answers, strict=True):
            if isinstance(answer, Exception):
                _settle(future, exception=answer)
            else:
                _settle(future, answer)

    def _take(self) -> list[Waiting]:
        """The waiting batches up to the cap (always at least one)."""
        count = 0
        for n, (_, events, _) in enumerate(self._waiting):
            count += len(events)
            if count > self.max_events and n > 0:
                group, self._waiting = self._waiting[:n], self._waiting[n:]
                return group
        group, self._waiting = self._waiting, []
        return group


Answer = list[dict[str, Any]] | Exception


def answer_group(
    pipeline: Pipeline,
    batches: Sequence[tuple[Platform, Sequence[Event]]],
    turn: Turn | None = None,
) -> list[Answer]:
    """Each batch's answers, all in one transaction; when that fails, each batch alone, so one
    bad batch never takes the others' answers with it (an exception stands for its answer).
    With a ``turn``, answers may be a prefix of the batch (:class:`vigie.pipeline.Turn`)."""
    try:
        if turn is None:
            return list(pipeline.process_many(batches))
        turn.started = False  # a group tried again after a failure starts afresh
        return list(pipeline.process_many(batches, turn))
    except Exception as exc:
        if len(batches) == 1:
            return [exc]
        log.warning("group of %d batches failed; processing each alone", len(batches))
    answers: list[Answer] = []
    for platform, events in batches:
        try:
            answers.append(_alone(pipeline, (platform, events), turn))
        except Exception as exc:
            answers.append(exc)
    return answers


def _alone(
    pipeline: Pipeline, batch: tuple[Platform, Sequence[Event]], turn: Turn | None
) -> list[dict[str, Any]]:
    """One batch in its own transaction; in a turn, still cut when it says so and within the
    budget its request has left (a failed group must not give a request a fresh budget)."""
    if turn is None:
        return pipeline.process_batch(*batch)
    turn.started = False
    return pipeline.process_many([batch], turn)[0]


def answer_light_first(
    pipeline: Pipeline,
    batches: Sequence[tuple[Platform, Sequence[Event]]],
    cap: int,
    turn: Turn | None = None,
) -> list[Answer | None]:
    """Answers for the batches decided now, light ones first (``None``: held for later; see
    :meth:`Pipeline.process_light_first`). When that fails, the first batches in arrival
    order go through :func:`answer_group`, which isolates a bad one."""
    try:
        return list(pipeline.process_light_first(batches, cap, turn))
    except Exception:
        log.warning("light-first group of %d batches failed; in arrival order", len(batches))
    return answer_in_order(pipeline, batches, cap, turn)


def answer_in_order(
    pipeline: Pipeline,
    batches: Sequence[tuple[Platform, Sequence[Event]]],
    cap: int,
    turn: Turn | None = None,
) -> list[Answer | None]:
    """Answers for the first batches, up to ``cap`` events (``None`` for the others)."""
    going = in_order([len(events) for _, events in batches], cap)
    answers: list[Answer | None] = [None] * len(batches)
    decided = answer_group(pipeline, [batches[i] for i in going], turn)
    for at, answer in zip(going, decided, strict=True):
        answers[at] = answer
    return answers


def expire(future: asyncio.Future[list[dict[str, Any]]]) -> None:
    """A request's answer is late: it stops waiting (``TimeoutError``)."""
    if not future.done():
        future.set_exception(TimeoutError())


def _settle(
    future: asyncio.Future[list[dict[str, Any]]],
    answer: list[dict[str, Any]] | None = None,
    exception: BaseException | None = None,
) -> None:
    """Hand over the answer unless the request gave up waiting (a timeout cancelled it)."""
    if future.done():
        return
    if exception is not None:
        future.set_exception(exception)
    else:
        future.set_result(answer if answer is not None else [])
