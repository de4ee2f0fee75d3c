"""Keeps SQLite's write-ahead log short from a background thread instead of from requests.

By default, the commit that takes the log past 1,000 pages copies it back into the database
there and then, inside whatever request made that commit: a few milliseconds of fsync on one
request in every few dozen. While Vigie serves, a thread does it twice a second instead, in
PASSIVE mode (it never waits for readers or writers, nor makes them wait); SQLite releases the
GIL for the I/O, so it runs beside the event loop. Connections keep an automatic checkpoint at
a much larger size (``engine.py``) as a safety net for tools that run without this thread.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from sqlalchemy import Engine

log = logging.getLogger(__name__)

EVERY_S = 0.5


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
