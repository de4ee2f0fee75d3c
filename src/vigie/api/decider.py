"""The decider: ``POST /v1/events``'s pipeline in a process of its own, on the second core.

On SQLite, the pipeline and the HTTP work of the events API share one event loop, so one core
does both: at a few hundred events a second that core is busy most of the time, and every
stall of the machine leaves a queue behind it. The decider process runs the pipeline (group
commit included, ``group_commit``; light work first when requests queue, ``_decide`` and
``vigie.scheduling``) while the serve process's loop only reads requests, checks them and
writes answers. Requests reach it as the body the events lane has
already checked, over a pipe; answers come back as JSON.

It is one more writer of the same SQLite file, taking turns with the serve process through
the store's write lock; the serve process still writes what the decider does not do (the
console, media, requests the lane leaves to the route). While the decider starts (it loads
its own detectors), and if it ever stops, the serve process decides itself, as without it.
A decider that stopped is started again after a pause (one second, doubling up to a minute
while it keeps failing before it is ready).

``vigie serve`` starts it when one process serves SQLite in synchronous mode
(``api.decider = "auto"``); ``"loop"`` keeps everything in the serve process.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import logging
import select
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any, cast

import orjson

from vigie.api.group_commit import (
    MAX_EVENTS_PER_GROUP,
    Answer,
    answer_in_order,
    answer_light_first,
    expire,
)
from vigie.domain import Platform
from vigie.events import Event, EventBatch
from vigie.pipeline import OverBudget, Turn
from vigie.platforms import KEY_CACHE_SECONDS
from vigie.scheduling import in_order
from vigie.settings import Settings

if TYPE_CHECKING:
    from vigie.pipeline import Pipeline

log = logging.getLogger(__name__)

READY = b"ready"
RESTART_AFTER_S = 1.0  # first wait before starting a decider again; doubles up to a minute
RESTART_AFTER_MAX_S = 60.0
HOLD_LIMIT_S = 0.008  # the longest a heavy request waits while lighter ones pass it
OFFERED_EVENTS = 3 * MAX_EVENTS_PER_GROUP  # the waiting events a group is chosen among
READ_AHEAD_EVENTS = 8 * MAX_EVENTS_PER_GROUP  # the rest wait in the pipe
SLICE_S = 0.010  # CPU a group may take while another platform's request waits, then it is cut


class DeciderGone(Exception):
    """The decider process stopped before answering; the caller decides itself."""


class DeciderError(Exception):
    """The pipeline failed on this batch in the decider process."""


class Decider:
    """The serve process's side: sends checked bodies, hands answers to the waiting requests."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.ready = False
        self._conn: Frames | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._pending: dict[int, asyncio.Future[list[dict[str, Any]]]] = {}
        self._ids = itertools.count()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._was_ready = False
        self._stopping = False
        self._restart_after = RESTART_AFTER_S
        self._restart: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Start the process; requests go to it once it says it is ready.

        A fresh interpreter (``python -m vigie.api.decider``) rather than a fork: nothing of
        this process's threads, connections or main module comes along.
        """
        here, there = socket.socketpair()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "vigie.api.decider", str(there.fileno())],
            pass_fds=[there.fileno()],
        )
        there.close()
        self._loop = asyncio.get_running_loop()
        self._conn = Frames(here, self._loop, self._settle, self._lost)
        self._conn.send(self.settings.model_dump_json().encode())

    @property
    def starting(self) -> bool:
        """Started for the first time and still loading (``/readyz`` waits for it). A decider
        started again after a crash does not make the server unready: it decides meanwhile."""
        return self._conn is not None and not self.ready and not self._was_ready

    async def process(
        self, platform: Platform, body: bytes, timeout: float | None = None
    ) -> list[dict[str, Any]]:
        """The answers for a checked ``{"events": [...]}`` body of ``platform``."""
        if not self.ready or self._conn is None or self._loop is None:
            raise DeciderGone
        request = next(self._ids)
        future = self._loop.create_future()
        self._pending[request] = future
        timer = self._loop.call_later(timeout, expire, future) if timeout else None
        try:
            self._conn.send(orjson.dumps([request, platform.id]) + b"\n" + body)
            answers: list[dict[str, Any]] = await future
            return answers
        finally:
            self._pending.pop(request, None)
            if timer is not None:
                timer.cancel()

    def stop(self) -> None:
        """Close the pipe (the process ends when it reads the end) and wait for it."""
        self._stopping = True
        if self._restart is not None:
            self._restart.cancel()
        self._lost(quietly=True)
        if self._process is not None:
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)

    def _settle(self, frame: bytes) -> None:
        if frame == READY:
            self.ready = self._was_ready = True
            self._restart_after = RESTART_AFTER_S
            log.info("decider process ready")
            return
        request, answer, error = orjson.loads(frame)
        future = self._pending.pop(request, None)
        if future is None or future.done():
            return  # timed out meanwhile
        if error is not None:
            future.set_exception(_error(error))
        else:
            future.set_result(answer)

    def _lost(self, quietly: bool = False) -> None:
        """No more decider: waiting requests are decided again here (events are idempotent)."""
        if self._conn is None:
            return
        self._conn.close()
        self._conn, self.ready = None, False
        for future in self._pending.values():
            if not future.done():
                future.set_exception(DeciderGone())
        self._pending.clear()
        if not quietly:
            self._start_again_later()

    def _start_again_later(self) -> None:
        """A decider that crashed is started again after a pause (longer each time it fails
        before it is ready, so a decider that cannot start does not spin)."""
        wait = self._restart_after
        log.error("decider process stopped; deciding in the serve process, restart in %.0f s", wait)
        self._restart_after = min(RESTART_AFTER_MAX_S, wait * 2)
        if self._loop is not None and not self._stopping:
            self._restart = self._loop.call_later(wait, self._start_again)

    def _start_again(self) -> None:
        self._restart = None
        if self._stopping or self._conn is not None:
            return
        if self._process is not None and self._process.poll() is None:
            self._process.kill()  # alive but silent: its pipe broke
        if self._process is not None:
            self._process.wait(5)
        self.start()


class Frames:
    """The serve process's end of the pipe, on its event loop: whole frames out and in.

    uvicorn's loop (uvloop) makes a socket it watches non-blocking, so a frame larger than
    the socket buffer cannot be written, or read, in one call: ``Connection`` then raises
    and a 1 MiB batch looked like a lost decider (the models were loaded again, 4-14 s).
    Here what the socket does not take now waits in a buffer the loop writes out when it
    can, and answers are read as they come. Frames are ``Connection``'s (a 4-byte length,
    then the bytes), so the decider process reads and writes them with ``Connection``.
    """

    def __init__(
        self,
        sock: socket.socket,
        loop: asyncio.AbstractEventLoop,
        on_frame: Callable[[bytes], None],
        on_lost: Callable[[], None],
    ) -> None:
        sock.setblocking(False)
        self._sock, self._loop = sock, loop
        self._on_frame, self._on_lost = on_frame, on_lost
        self._out = bytearray()
        self._in = bytearray()
        self._writing = False
        loop.add_reader(sock.fileno(), self._read)

    def fileno(self) -> int:
        return self._sock.fileno()

    def send(self, payload: bytes) -> None:
        """Queue one frame and write what the socket takes now (the loop writes the rest)."""
        self._out += struct.pack("!i", len(payload)) + payload
        if not self._writing:
            self._write()

    def close(self) -> None:
        self._loop.remove_reader(self._sock.fileno())
        if self._writing:
            self._loop.remove_writer(self._sock.fileno())
        self._sock.close()

    def _write(self) -> None:
        try:
            while self._out:
                del self._out[: self._sock.send(self._out)]
        except BlockingIOError:
            if not self._writing:
                self._writing = True
                self._loop.add_writer(self._sock.fileno(), self._write)
            return
        except OSError:
            self._on_lost()
            return
        if self._writing:
            self._writing = False
            self._loop.remove_writer(self._sock.fileno())

    def _read(self) -> None:
        try:
            while True:
                chunk = self._sock.recv(1 << 20)
                if not chunk:
                    raise EOFError
                self._in += chunk
                self._deliver()
        except BlockingIOError:
            return
        except (EOFError, OSError):
            self._on_lost()

    def _deliver(self) -> None:
        """Hand on every whole frame read so far."""
        while len(self._in) >= 4:
            (size,) = struct.unpack_from("!i", self._in)
            if len(self._in) < 4 + size:
                return
            frame = bytes(self._in[4 : 4 + size])
            del self._in[: 4 + size]
            self._on_frame(frame)


# --- the decider process --------------------------------------------------------------------
def run_decider(settings: Settings, conn: Connection) -> None:
    """The process's main: build the pipeline, then answer groups until the pipe closes."""
    from vigie.logging import configure_logging
    from vigie.runtime import build_pipeline
    from vigie.store.sql import SqlStore

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the serve process decides when to stop
    configure_logging(settings.log_level)
    store = SqlStore(settings.database_url, row_cache=True)  # the pipeline is its only writer
    pipeline = build_pipeline(settings, store)
    pipeline.cpu_budget_s = settings.api.cpu_budget_s
    intake = _Intake(conn, _Platforms(store))
    gc.collect()
    gc.freeze()  # the loaded models stay out of the collector's full passes
    conn.send_bytes(READY)
    backlog: list[_Waiting] = []
    served: dict[str, int] = {}
    try:
        while True:
            intake.take(backlog, wait=True)
            backlog = _decide(pipeline, backlog, conn, intake, served)
    except (EOFError, OSError):
        pass
    finally:
        if store.row_cache is not None:
            log.info("row cache: %d hits, %d drops", store.row_cache.hits, store.row_cache.drops)
        store.dispose()


Batch = tuple[Platform, Sequence[Event]]


@dataclass(slots=True)
class _Waiting:
    request: int
    batch: Batch
    since: float  # when the decider read it (``time.monotonic``)
    answers: list[dict[str, Any]] = field(default_factory=list)  # of the parts decided so far
    spent_s: float = 0.0  # CPU those parts took: the request's budget spans its parts

    @property
    def platform(self) -> str:
        return self.batch[0].id

    def rest(self) -> Batch:
        """The events still to decide (all of them until a turn cuts the request)."""
        platform, events = self.batch
        return (platform, events[len(self.answers) :]) if self.answers else self.batch


class _Intake:
    """Reads requests from the pipe into the backlog: between groups, and during a long group
    so that another platform's request is seen while it runs (``_stop``)."""

    def __init__(self, conn: Connection, platforms: _Platforms) -> None:
        self.conn, self.platforms, self.readable = conn, platforms, Readable(conn)

    def take(self, backlog: list[_Waiting], wait: bool = False) -> None:
        """Read the requests waiting in the pipe, up to ``READ_AHEAD_EVENTS`` in the backlog
        (with ``wait``, wait for one first). A request that cannot be read as a batch is
        answered at once."""
        events = sum(len(w.batch[1]) - len(w.answers) for w in backlog)
        while (wait and not backlog) or (events < READ_AHEAD_EVENTS and self.readable()):
            waiting = self._read()
            if waiting is not None:
                backlog.append(waiting)
                events += len(waiting.batch[1])

    def _read(self) -> _Waiting | None:
        head, _, body = self.conn.recv_bytes().partition(b"\n")
        request, platform_id = orjson.loads(head)
        try:
            events = EventBatch.model_validate_json(body).events
            return _Waiting(request, (self.platforms.get(platform_id), events), time.monotonic())
        except Exception as exc:  # the platform was deleted meanwhile, say
            self.conn.send_bytes(_reply(request, exc))
            return None


def _fair(backlog: list[_Waiting], served: dict[str, int]) -> list[_Waiting]:
    """The backlog taken in turn between platforms: the waiting requests of the platform
    served longest ago first (all of them, so a platform's small requests still share one
    group and one commit), then the next platform's. A platform that floods only lengthens
    its own queue, and its requests stay in arrival order among themselves (so do its
    conversations and accounts); a long group is cut for the others (``_stop``)."""
    first: dict[str, int] = {}
    for at, waiting in enumerate(backlog):
        first.setdefault(waiting.platform, at)
    keys = [(served.get(w.platform, -1), first[w.platform], at) for at, w in enumerate(backlog)]
    return [backlog[k[2]] for k in sorted(keys)]


def _decide(
    pipeline: Pipeline,
    backlog: list[_Waiting],
    conn: Connection,
    intake: _Intake | None = None,
    served: dict[str, int] | None = None,
) -> list[_Waiting]:
    """Decide a group, light work first, and answer it; returns the requests still waiting.

    Platforms take turns (``_fair``). A request held behind lighter ones waits at most
    ``HOLD_LIMIT_S``: then the group is taken in that order, so heavy work cannot be put off
    for ever by a steady stream. A group that has taken ``SLICE_S`` of CPU while another
    platform's request waits is cut after the current event (``_stop``): what it decided is
    committed, the rest of a cut request waits for its platform's next turn.
    """
    served = {} if served is None else served
    order = _fair(backlog, served)
    offered = order[: len(in_order([len(w.rest()[1]) for w in order], OFFERED_EVENTS))]
    parts = [w.rest() for w in offered]
    turn = Turn(_stop(backlog, offered, parts, intake))
    for w, (_, events) in zip(offered, parts, strict=True):
        turn.spent_s[id(events)] = w.spent_s
    held_too_long = time.monotonic() - order[0].since > HOLD_LIMIT_S
    decide = answer_in_order if held_too_long else answer_light_first
    answers = decide(pipeline, parts, MAX_EVENTS_PER_GROUP, turn)
    done = set()
    tick = max(served.values(), default=0) + 1
    for w, (_, events), answer in zip(offered, parts, answers, strict=True):
        if answer is not None and _settle(w, answer, turn.spent_s.get(id(events), 0.0), conn):
            done.add(w.request)
        if answer:  # something of it was decided: its platform had its turn
            served[w.platform] = tick
    return [w for w in backlog if w.request not in done]


def _settle(waiting: _Waiting, answer: Answer, spent_s: float, conn: Connection) -> bool:
    """Add a part's answers to its request; answer the request when it is whole (or failed)."""
    if isinstance(answer, Exception):
        conn.send_bytes(_reply(waiting.request, answer))
        return True
    waiting.answers += answer
    waiting.spent_s = spent_s
    if len(waiting.answers) < len(waiting.batch[1]):
        return False
    conn.send_bytes(_reply(waiting.request, waiting.answers))
    return True


def _stop(
    backlog: list[_Waiting], offered: list[_Waiting], parts: list[Batch], intake: _Intake | None
) -> Callable[[Sequence[Event]], bool]:
    """The group's ``Turn.stop``: true once it has taken ``SLICE_S`` of CPU while a request of
    another platform than the batch in progress waits (not yet in the group, or after that
    batch in it). New requests are read from the pipe then, so one that came during the
    group counts."""
    started = time.thread_time()
    at = {id(events): n for n, (_, events) in enumerate(parts)}
    grouped = {w.request: n for n, w in enumerate(offered)}

    def stop(events: Sequence[Event]) -> bool:
        if time.thread_time() - started < SLICE_S:
            return False
        if intake is not None:
            with contextlib.suppress(EOFError, OSError):  # the main loop finds the pipe closed
                intake.take(backlog)
        n = at[id(events)]
        platform = offered[n].platform
        return any(
            w.platform != platform and grouped.get(w.request, len(offered)) > n for w in backlog
        )

    return stop


class Readable:
    """Whether a pipe has something to read now. ``Connection.poll`` builds a selector at
    each call (about 15 µs); this path asks twice per event on each side, so one ``poll``
    object is kept. A closed pipe reads as readable: ``recv_bytes`` then says why."""

    def __init__(self, conn: Connection) -> None:
        self._poll = select.poll()
        self._poll.register(conn.fileno(), select.POLLIN)

    def __call__(self) -> bool:
        return bool(self._poll.poll(0))


def _error(error: str) -> Exception:
    """The serve-process side of an error the decider reported: a request over its CPU budget
    is answered as if decided here (422); anything else is the pipeline failing."""
    name, _, message = error.partition(": ")
    if name == OverBudget.__name__:
        return OverBudget(message)
    return DeciderError(error)


def _reply(request: int, answer: Any) -> bytes:
    if isinstance(answer, Exception):
        return orjson.dumps([request, None, f"{type(answer).__name__}: {answer}"])
    return orjson.dumps([request, answer, None])


class _Platforms:
    """Platforms by id, cached as long as the serve process caches keys."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self._cache: dict[str, tuple[Platform, float]] = {}

    def get(self, platform_id: str) -> Platform:
        found = self._cache.get(platform_id)
        if found is not None and found[1] > time.monotonic():
            return found[0]
        with self.store.read() as unit:
            platform = unit.get_platform(platform_id)
        if platform is None:
            raise LookupError(f"no platform {platform_id}")
        self._cache[platform_id] = (platform, time.monotonic() + KEY_CACHE_SECONDS)
        return cast(Platform, platform)


if __name__ == "__main__":  # started by Decider.start with its end of the pipe
    pipe = Connection(int(sys.argv[1]))
    run_decider(Settings.model_validate_json(pipe.recv_bytes()), pipe)
