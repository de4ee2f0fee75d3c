"""One writer at a time on a SQLite database, across threads and across processes.

SQLite serialises writers itself, but a writer that finds the database busy polls with growing
sleeps (1, 2, 5, 10 ms and more), and a transaction that read first fails with "database is
locked" when it then tries to write. Writers that queue on an exclusive lock instead, a thread
lock within a process and ``flock`` on a file beside the database between processes (several
``vigie serve`` workers), take turns in order and are woken by the kernel as soon as the lock is
free.
"""

from __future__ import annotations

import os
import threading
import weakref
from types import TracebackType

try:
    import fcntl
except ImportError:  # pragma: no cover - not Unix: threads still take turns
    fcntl = None  # type: ignore[assignment]


class SqliteWriteLock:
    def __init__(self, database: str | None) -> None:
        self._thread = threading.Lock()
        self._fd: int | None = None
        if database and database != ":memory:" and fcntl is not None:
            self._fd = os.open(f"{database}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            weakref.finalize(self, os.close, self._fd)

    def __enter__(self) -> None:
        self._thread.acquire()
        if self._fd is not None:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            except BaseException:
                self._thread.release()
                raise

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._thread.release()
