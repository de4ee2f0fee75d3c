"""Keeps SQLite's write-ahead log short from a background thread instead of from requests.

By default, the commit that takes the log past its limit copies the log back into the
database there and then, inside whatever request made that commit: about 15 µs per page with
the fsync, so tens of milliseconds when thousands of pages wait. While Vigie serves, a thread
does the copying instead, twenty times a second in PASSIVE mode (it never waits for readers
or writers, nor makes them wait); SQLite releases the GIL for the I/O, so it runs beside the
event loop. The commit that reaches the limit (``engine.py``) then finds almost everything
copied already: its own checkpoint is short, and the log starts again from its beginning, so
the file stays small.

Measured (``bench/bench_latency.py``, 500 events/s): with a pass every 0.5 s and a limit of
10,000 pages, the limit was reached every two seconds with thousands of pages left to copy
(commits of 13 to 28 ms) and p99 was 38-42 ms; every 0.05 s with a 2,000-page limit, 18-20 ms.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from sqlalchemy import Engine

log = logging.getLogger(__name__)

EVERY_S = 0.05


@dataclass
class Checkpointer:
    thread: threading.Thread
    stopping: threading.Event

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)


def start_checkpointer(engine: Engine, every_s: float = EVERY_S) -> Checkpointer | None:
    """A running checkpointer for a file SQLite database; ``None`` for anything else."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    stopping = threading.Event()
    thread = threading.Thread(
        target=_run, args=(engine, stopping, every_s), name="vigie-wal-checkpoint", daemon=True
    )
    thread.start()
    return Checkpointer(thread, stopping)


def _run(engine: Engine, stopping: threading.Event, every_s: float) -> None:
    conn = engine.raw_connection()
    try:
        while not stopping.wait(every_s):
            try:
                cursor = conn.cursor()
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                cursor.fetchall()
                cursor.close()
            except Exception:  # a busy or failing checkpoint is retried next time
                log.warning("WAL checkpoint failed", exc_info=True)
    finally:
        conn.close()
