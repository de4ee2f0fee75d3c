"""``vigie worker``: consume the event stream, run the pipeline, ack only what is committed.

Guarantees, and how they are kept:

* **Nothing lost**: a message is acked only after its batch transaction committed; a worker
  killed mid-batch leaves its messages un-acked and JetStream redelivers them after
  ``ack_wait``.
* **Exactly once in effect**: the pipeline records each (platform, event id) in
  ``processed_events`` in the same transaction as the case, decision and webhook outbox rows,
  so a redelivered event returns its first answer and changes nothing.
* **Order per conversation**: a partition is consumed by one worker at a time (advisory locks,
  see :mod:`vigie.bus.ownership`), one batch after the other, and a batch commits only while
  its worker still owns the partition. Before processing, the worker checks that every
  un-acked message of the partition is in its hands; if an earlier one is still out (with a
  previous owner, or lost in transit when NATS restarted) it waits for its redelivery and
  processes everything in stream order, so it never runs ahead of it.
* **Poison events** (failing on their own, not because the database is down) are retried
  ``max_attempts`` times in place, in order, then published to the dead-letter subject,
  recorded in the audit trail and acked, so one bad event cannot stall its partition forever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from sqlalchemy.exc import IntegrityError

from vigie.bus.deadletter import dead_letter
from vigie.bus.fencing import FencedStore, LostPartition, transient
from vigie.bus.ownership import ownership_for
from vigie.domain import Platform
from vigie.pipeline import Pipeline
from vigie.runtime import build_pipeline, metrics
from vigie.settings import Settings
from vigie.store.sql import SqlStore
from vigie.transport.config import BusConfig
from vigie.transport.envelope import Envelope
from vigie.transport.stream import backlog, ensure_streams

log = logging.getLogger(__name__)
MAX_RACE_RETRIES = 3  # an IntegrityError is a race between workers, or a real bug after that
PLATFORM_TTL_S = 30.0


@dataclass
class _Slot:
    """One partition being consumed by this worker."""

    number: int
    active: bool = True
    task: asyncio.Task[None] | None = None


@dataclass
class _Batch:
    partition: int
    messages: list[Msg]
    envelopes: list[Envelope | None] = field(default_factory=list)


def _merge(held: list[Msg], fresh: list[Msg]) -> list[Msg]:
    """Held and newly fetched messages in stream order; a redelivery replaces its older copy."""
    by_seq = {m.metadata.sequence.stream: m for m in held}
    by_seq.update({m.metadata.sequence.stream: m for m in fresh})
    return [by_seq[seq] for seq in sorted(by_seq)]


class Worker:
    def __init__(
        self,
        settings: Settings,
        config: BusConfig,
        name: str = "worker",
    ) -> None:
        self.config = config
        self.name = name
        self.ownership = ownership_for(settings.database_url, config.stream, config.partitions)
        # The pipeline writes through the fenced store: a batch commits only while this
        # worker still owns its partition.
        self.store = FencedStore(SqlStore(settings.database_url), self.ownership)
        self.pipeline: Pipeline = build_pipeline(settings, self.store)
        self._platforms: dict[str, tuple[Platform, float]] = {}
        # Threads, because a batch mostly waits on the database: several partitions' batches
        # overlap their round trips. One partition never has two batches in flight.
        self._executor = ThreadPoolExecutor(
            max(1, config.concurrency), thread_name_prefix="vigie-pipeline"
        )
        self._slots: dict[int, _Slot] = {}
        self._stop = asyncio.Event()

    # Lifecycle -----------------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        nc = await self._connect()
        js = nc.jetstream(timeout=10)
        try:
            await self._ensure(js)
            while not self._stop.is_set():
                await self._rebalance(js)
                await self._report_backlog(js)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.config.rebalance_s)
        finally:
            for slot in self._slots.values():
                slot.active = False
            await asyncio.gather(
                *(s.task for s in self._slots.values() if s.task), return_exceptions=True
            )
            await asyncio.to_thread(self.ownership.close)
            await nc.close()
            self._executor.shutdown(wait=True)
            self.store.dispose()

    async def _connect(self) -> Client:
        while True:
            try:
                return await nats.connect(
                    self.config.servers,
                    name=f"vigie-{self.name}",
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.5,
                    connect_timeout=2,
                )
            except Exception as exc:
                log.warning("bus unreachable, retrying", extra={"error": type(exc).__name__})
                await asyncio.sleep(1)

    async def _ensure(self, js: JetStreamContext) -> None:
        while not self._stop.is_set():
            try:
                await ensure_streams(js, self.config)
                return
            except Exception as exc:
                log.warning("stream setup failed, retrying", extra={"error": type(exc).__name__})
                await asyncio.sleep(1)

    async def _report_backlog(self, js: JetStreamContext) -> None:
        with contextlib.suppress(Exception):
            metrics.BACKLOG.set(await backlog(js, self.config))

    # Partitions ----------------------------------------------------------------------------
    async def _rebalance(self, js: JetStreamContext) -> None:
        owned, extra = await asyncio.to_thread(self.ownership.rebalance)
        for number, slot in list(self._slots.items()):
            if slot.task is not None and slot.task.done():
                # It stopped on its own (a commit found the partition lost); if the partition
                # is ours again, a fresh consumer starts below.
                self._slots.pop(number)
        unconsumed = extra - set(self._slots)
        for number in list(self._slots):
            if number not in owned or number in extra:
                await self._leave(number)
        for number in unconsumed:
            # One to hand back whose consumer had already stopped: without this its lock
            # stayed held, by a worker that no longer reads it, and the partition stalled.
            await self._hand_back(number)
        for number in owned - extra - set(self._slots):
            slot = _Slot(number)
            slot.task = asyncio.create_task(self._consume(js, slot))
            self._slots[number] = slot
        metrics.PARTITIONS.set(len(self._slots))

    async def _leave(self, number: int) -> None:
        slot = self._slots.pop(number)
        slot.active = False
        if slot.task is not None:
            await asyncio.gather(slot.task, return_exceptions=True)
        await self._hand_back(number)

    async def _hand_back(self, number: int) -> None:
        await asyncio.to_thread(self.ownership.release, number)
        log.info("partition released", extra={"partition": number, "worker": self.name})

    async def _consume(self, js: JetStreamContext, slot: _Slot) -> None:
        log.info("partition taken", extra={"partition": slot.number, "worker": self.name})
        sub = None
        held: list[Msg] = []
        while slot.active and not self._stop.is_set():
            try:
                if sub is None:
                    sub = await js.pull_subscribe_bind(
                        durable=self.config.durable(slot.number), stream=self.config.stream
                    )
                fresh = await sub.fetch(self.config.batch, timeout=0.3 if held else 1.0)
            except TimeoutError:
                fresh = []
            except Exception as exc:  # NATS restarting: keep the subscription, try again
                log.warning(
                    "fetch failed", extra={"partition": slot.number, "error": type(exc).__name__}
                )
                await asyncio.sleep(0.5)
                continue
            held = _merge(held, fresh)
            if not held:
                continue
            if not await self._nothing_earlier_in_flight(js, slot.number, len(held)):
                await self._keep_alive(held)
                continue
            if not await self._handle(js, _Batch(slot.number, held), slot):
                slot.active = False
            held = []
        if sub is not None:
            held = _merge(held, await self._leftovers(sub))
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        if held:
            await self._nak_from(_Batch(slot.number, held), 0)

    async def _leftovers(self, sub: Any) -> list[Msg]:
        """Messages the server sent for our last pull after we stopped asking.

        Handing them back (nak) now, rather than letting them time out, saves the next owner
        of the partition an ``ack_wait`` of waiting for them.
        """
        await asyncio.sleep(1.05)  # our last pull request (expires after 1 s) has run out
        try:
            return list(await sub.fetch(self.config.batch * 4, timeout=0.2))
        except Exception:
            return []

    async def _nothing_earlier_in_flight(
        self, js: JetStreamContext, partition: int, held: int
    ) -> bool:
        """True when every un-acked message of the partition is in our hands.

        Otherwise an earlier message is still out: with a previous owner that died or let go,
        or lost in transit when NATS restarted. It comes back (after ``ack_wait`` at worst),
        the worker keeps what it holds meanwhile, and processes the lot in stream order, so a
        conversation is never processed out of order.
        """
        try:
            info = await js.consumer_info(self.config.stream, self.config.durable(partition))
        except Exception:
            return False
        return int(info.num_ack_pending or 0) <= held

    # Batches -------------------------------------------------------------------------------
    async def _handle(self, js: JetStreamContext, batch: _Batch, slot: _Slot) -> bool:
        """Process and ack a fetched batch; False when the partition was lost meanwhile."""
        for msg in batch.messages:
            try:
                batch.envelopes.append(Envelope.decode(msg.data))
            except ValueError as exc:
                batch.envelopes.append(None)
                await dead_letter(js, self.config, msg, batch.partition, exc, attempts=1)
        start = time.time()
        for env in batch.envelopes:
            if env is not None:
                metrics.BUS_LAG.observe(max(0.0, start - env.accepted_at))
        heartbeat = asyncio.create_task(self._heartbeat(batch.messages))
        try:
            if not await self._process_all(js, batch, slot):
                return False
        finally:
            heartbeat.cancel()
        now = time.time()
        for env in batch.envelopes:
            if env is not None:
                metrics.END_TO_END.observe(max(0.0, now - env.accepted_at))
        return True

    async def _process_all(self, js: JetStreamContext, batch: _Batch, slot: _Slot) -> bool:
        index = 0
        while index < len(batch.messages):
            if not slot.active and index == 0:
                await self._nak_from(batch, 0)
                return False
            run = self._run_from(batch, index)
            if run:
                outcome = await self._process_run(js, batch, index, run, slot)
                if outcome == "lost":
                    await self._nak_from(batch, index)
                    return False
            index += max(1, len(run))
        return True

    @staticmethod
    def _run_from(batch: _Batch, index: int) -> list[Envelope]:
        """Consecutive events of one platform (one pipeline call each)."""
        first = batch.envelopes[index]
        if first is None:
            return []
        run = [first]
        for env in batch.envelopes[index + 1 :]:
            if env is None or env.platform_id != first.platform_id:
                break
            run.append(env)
        return run

    async def _process_run(
        self, js: JetStreamContext, batch: _Batch, index: int, run: list[Envelope], slot: _Slot
    ) -> str:
        messages = batch.messages[index : index + len(run)]
        outcome = await self._with_retries(batch.partition, run, messages, slot)
        if outcome == "failed" and len(run) > 1:
            # Find the culprit: one event at a time, in order.
            for offset, env in enumerate(run):
                one = await self._with_retries(batch.partition, [env], [messages[offset]], slot)
                if one == "lost":
                    return "lost"
                if one == "failed":
                    await self._poison(js, batch.partition, env, messages[offset], slot)
                else:
                    await self._ack([messages[offset]])
            return "ok"
        if outcome == "failed":
            await self._poison(js, batch.partition, run[0], messages[0], slot)
            return "ok"
        if outcome == "ok":
            await self._ack(messages)
        return outcome

    async def _with_retries(
        self, partition: int, run: list[Envelope], messages: list[Msg], slot: _Slot
    ) -> str:
        """ "ok", "lost" or "failed"; transient database errors are retried without limit."""
        delay, races = 0.1, 0
        while True:
            if not slot.active:
                return "lost"
            try:
                await self._in_thread(partition, run)
                return "ok"
            except LostPartition:
                metrics.RETRIES.labels(reason="lost_partition").inc()
                return "lost"
            except IntegrityError:
                races += 1
                metrics.RETRIES.labels(reason="integrity").inc()
                if races > MAX_RACE_RETRIES:
                    return "failed"
            except Exception as exc:
                if not transient(exc):
                    log.warning(
                        "batch failed", extra={"partition": partition, "error": type(exc).__name__}
                    )
                    return "failed"
                metrics.RETRIES.labels(reason="database").inc()
                log.warning(
                    "database unavailable, retrying",
                    extra={"partition": partition, "error": type(exc).__name__},
                )
            await self._keep_alive(messages)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def _in_thread(self, partition: int, run: list[Envelope]) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._process_sync, partition, run)

    def _process_sync(self, partition: int, run: list[Envelope]) -> None:
        platform = self._platform(run[0].platform_id)
        started = time.perf_counter()
        with self.store.guarding(partition):
            results = self.pipeline.process_batch(platform, [e.event for e in run])
        metrics.BATCH_SECONDS.labels(via="bus").observe(time.perf_counter() - started)
        metrics.count_decisions(results)

    def _platform(self, platform_id: str) -> Platform:
        cached = self._platforms.get(platform_id)
        if cached and time.monotonic() - cached[1] < PLATFORM_TTL_S:
            return cached[0]
        with self.store.read() as unit:
            platform = unit.get_platform(platform_id)
        if platform is None:
            raise LookupError("unknown platform")  # not transient: dead-lettered
        self._platforms[platform_id] = (platform, time.monotonic())
        return platform

    async def _poison(
        self, js: JetStreamContext, partition: int, env: Envelope, msg: Msg, slot: _Slot
    ) -> None:
        """Retry one failing event in place a few times, then move it to the dead letters."""
        attempts = max(1, msg.metadata.num_delivered)
        delay = 0.2
        while attempts < self.config.max_attempts:
            await self._keep_alive([msg])
            await asyncio.sleep(delay)
            delay *= 2
            attempts += 1
            outcome = await self._with_retries(partition, [env], [msg], slot)
            if outcome == "ok":
                await self._ack([msg])
                return
            if outcome == "lost":
                return
        await asyncio.to_thread(self._audit_dead, env, partition, attempts)
        await dead_letter(
            js, self.config, msg, partition, RuntimeError("processing failed"), attempts
        )

    def _audit_dead(self, env: Envelope, partition: int, attempts: int) -> None:
        """A console-visible trace; best effort, the dead-letter subject is the record."""
        try:
            with self.store.store.unit() as unit:
                unit.audit(
                    f"worker:{self.name}",
                    "event.dead_letter",
                    env.event.id,
                    {"partition": partition, "attempts": attempts, "type": env.event.type},
                    env.platform_id,
                )
        except Exception as exc:
            log.warning("dead-letter audit failed", extra={"error": type(exc).__name__})

    # Acks ----------------------------------------------------------------------------------
    @staticmethod
    async def _ack(messages: list[Msg]) -> None:
        for msg in messages:
            with contextlib.suppress(Exception):  # a lost ack means a harmless redelivery
                await msg.ack()

    @staticmethod
    async def _nak_from(batch: _Batch, index: int) -> None:
        for msg in batch.messages[index:]:
            with contextlib.suppress(Exception):
                await msg.nak()

    async def _heartbeat(self, messages: list[Msg]) -> None:
        """While a long batch runs, keep JetStream from redelivering it elsewhere."""
        while True:
            await asyncio.sleep(self.config.ack_wait_s / 3)
            await self._keep_alive(messages)

    @staticmethod
    async def _keep_alive(messages: list[Msg]) -> None:
        """Tell JetStream we are still on it, so it does not redeliver during retries."""
        for msg in messages:
            with contextlib.suppress(Exception):
                await msg.in_progress()


def run_worker(settings: Settings, config: BusConfig, name: str = "worker") -> None:
    """Blocking entry point; SIGTERM/SIGINT stop the worker after its current batch."""
    import signal

    from vigie.logging import configure_logging

    async def main() -> None:
        worker = Worker(settings, config, name=name)
        configure_logging(settings.log_level)  # again: loading models may have changed it
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, worker.stop)
        await worker.run()

    asyncio.run(main())
