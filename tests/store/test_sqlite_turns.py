"""SQLite writers take turns across processes, and the WAL is checkpointed off the hot path."""

from __future__ import annotations

import multiprocessing
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
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


def test_the_thread_holding_the_lock_may_take_it_again(tmp_path: Path) -> None:
    lock = SqliteWriteLock(str(tmp_path / "again.db"))
    with lock, lock:  # a unit opened inside a write turn
        pass
    with lock:  # and it was given back in full
        pass


def test_an_event_loop_keeps_running_while_it_waits_for_its_turn(tmp_path: Path) -> None:
    """Another process writes; the loop waiting for its turn still serves other work, then
    holds the lock, and units inside the turn do not wait for it again."""
    import asyncio

    database = str(tmp_path / "loop.db")
    context = multiprocessing.get_context("spawn")
    held = context.Event()
    other = context.Process(target=_hold, args=(database, held, 0.5))
    other.start()
    lock = SqliteWriteLock(database)
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    async def main() -> float:
        assert held.wait(30)
        background = asyncio.create_task(ticker())
        started = time.monotonic()
        async with lock.turn():
            waited = time.monotonic() - started
            with lock:  # re-entered on the loop's thread
                pass
        background.cancel()
        return waited

    try:
        waited = asyncio.run(main())
    finally:
        other.join(30)
    assert waited > 0.2
    assert len(ticks) > 10  # the loop ticked while the turn was awaited
    with lock:  # given back after the turn
        pass


def test_a_unit_on_the_loop_while_its_turn_is_awaited_fails_loudly(tmp_path: Path) -> None:
    import asyncio
    import threading

    lock = SqliteWriteLock(str(tmp_path / "guard.db"))
    release = threading.Event()

    def hold() -> None:
        with lock:
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()

    async def main() -> None:
        async def take_turn() -> None:
            async with lock.turn():
                pass

        turn = asyncio.create_task(take_turn())
        await asyncio.sleep(0.05)  # its helper thread now waits for the lock
        try:
            with pytest.raises(RuntimeError, match="deadlock"), lock:
                pass
        finally:
            release.set()
        await turn  # the turn came once the holder let go

    try:
        asyncio.run(main())
    finally:
        release.set()
        holder.join(5)


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
