"""One writer at a time on a SQLite database, across threads and across processes.

SQLite serialises writers itself, but a writer that finds the database busy polls with growing
sleeps (1, 2, 5, 10 ms and more), and a transaction that read first fails with "database is
locked" when it then tries to write. Writers that queue on an exclusive lock instead, a thread
lock within a process and ``flock`` on a file beside the database between processes (several
``vigie serve`` workers), take turns in order and are woken by the kernel as soon as the lock is
free.

An event loop must not sleep in ``flock`` while another process writes: it would stop
answering every other request meanwhile. :meth:`SqliteWriteLock.turn` waits for the lock in a
helper thread instead, so the loop keeps reading requests while it waits, and then holds the
lock on the loop's own thread (the lock is re-entrant for the thread that holds it, so the
store's units inside the turn do not take it again).
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType

try:
    import fcntl
except ImportError:  # pragma: no cover - not Unix: threads still take turns
    fcntl = None  # type: ignore[assignment]


class SqliteWriteLock:
    def __init__(self, database: str | None) -> None:
        self._thread = threading.Lock()
        self._fd: int | None = None
        self._owner: int | None = None  # thread holding the lock
        self._depth = 0
        self._awaiting: int | None = None  # loop thread whose turn a helper is waiting for
        if database and database != ":memory:" and fcntl is not None:
            self._fd = os.open(f"{database}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            weakref.finalize(self, os.close, self._fd)

    def __enter__(self) -> None:
        me = threading.get_ident()
        if self._owner == me:
            self._depth += 1
            return
        if self._awaiting == me:
            raise RuntimeError("a write unit on the loop while its turn is awaited would deadlock")
        self._acquire(blocking=True)
        self._owner, self._depth = me, 1

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
            self._release()

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold the lock on the running loop's thread, waiting for it without blocking the
        loop."""
        if self._owner == threading.get_ident():
            raise RuntimeError("this thread already holds the write lock")
        if not self._acquire(blocking=False):
            waiting = asyncio.get_running_loop().run_in_executor(None, self._acquire, True)
            self._awaiting = threading.get_ident()
            try:
                await asyncio.shield(waiting)
            except asyncio.CancelledError:
                # The helper thread takes the lock sooner or later: give it straight back.
                waiting.add_done_callback(lambda _: self._release())
                raise
            finally:
                self._awaiting = None
        self._owner, self._depth = threading.get_ident(), 1
        try:
            yield
        finally:
            self._owner, self._depth = None, 0
            self._release()

    def _acquire(self, blocking: bool) -> bool:
        if not self._thread.acquire(blocking):
            return False
        if self._fd is None:
            return True
        try:
            if blocking:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            else:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._thread.release()
            return False
        except BaseException:
            self._thread.release()
            raise
        return True

    def _release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread.release()
