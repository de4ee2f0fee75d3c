"""SQLite writers take turns across processes, and the WAL is checkpointed off the hot path."""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from vigie.platforms import create_platform
from vigie.store.checkpoint import start_checkpointer
from vigie.store.sql import SqlStore
from vigie.store.write_lock import SqliteWriteLock


def _hold(database: str, held: multiprocessing.synchronize.Event, seconds: float) -> None:
    lock = SqliteWriteLock(database)
    with lock:
        held.set()
        time.sleep(seconds)


def test_a_writer_in_another_process_makes_this_one_wait(tmp_path: Path) -> None:
    database = str(tmp_path / "turns.db")
    context = multiprocessing.get_context("spawn")
    held = context.Event()
    other = context.Process(target=_hold, args=(database, held, 0.6))
    other.start()
    try:
        assert held.wait(30)
        started = time.monotonic()
        with SqliteWriteLock(database):
            waited = time.monotonic() - started
    finally:
        other.join(30)
    assert waited > 0.3  # it waited for the other process, then got its turn


def test_threads_of_one_process_take_turns(tmp_path: Path) -> None:
    import threading

    lock = SqliteWriteLock(str(tmp_path / "threads.db"))
    inside: list[int] = []
    overlaps: list[int] = []

    def work() -> None:
        for _ in range(50):
            with lock:
                inside.append(1)
                if len(inside) > 1:
                    overlaps.append(1)
                inside.pop()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == []


def _log_frames_after_writes(sqlite_url: str, every_s: float) -> int:
    """Frames in the log after 200 writes, a pause, and one more write."""
    store = SqlStore(sqlite_url)
    with store.unit() as unit:
        pid = create_platform(unit, "ckpt").platform.id
    checkpointer = start_checkpointer(store.engine, every_s=every_s)
    assert checkpointer is not None
    try:
        for n in range(200):
            with store.unit() as unit:
                unit.touch_conversation(pid, f"c{n}", datetime.now(UTC), None)
        time.sleep(0.4)
        with store.unit() as unit:  # after a complete checkpoint, this restarts the log
            unit.touch_conversation(pid, "last", datetime.now(UTC), None)
        with store.engine.connect() as conn:
            _, log_frames, _ = conn.execute(text("PRAGMA wal_checkpoint(PASSIVE)")).one()
    finally:
        checkpointer.stop()
        store.dispose()
    assert not checkpointer.thread.is_alive()
    return int(log_frames)


def test_background_checkpoints_keep_the_log_short(tmp_path: Path) -> None:
    from vigie.store.migrate import upgrade

    urls = [f"sqlite:///{tmp_path}/{name}.db" for name in ("with", "without")]
    for url in urls:
        upgrade(url)
    with_thread = _log_frames_after_writes(urls[0], every_s=0.05)
    without = _log_frames_after_writes(urls[1], every_s=3600)
    assert with_thread < 20 < without


def test_no_checkpointer_for_other_databases() -> None:
    from sqlalchemy import create_engine

    assert start_checkpointer(create_engine("sqlite://")) is None
