"""The JetStream layout: one work-queue stream, one durable consumer per partition, a dead letter
stream. Created idempotently by whichever process starts first (API publisher or worker).

Work-queue retention deletes a message once it is acked, so the stream's message count *is* the
backlog; ``stream_max_msgs`` with ``discard=new`` makes the server itself refuse publishes when
workers are far behind (the API turns that into ``503`` + ``Retry-After``).
"""

from __future__ import annotations

import contextlib

from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    DiscardPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import NotFoundError

from vigie.transport.config import BusConfig

DEAD_MAX_AGE_S = 14 * 24 * 3600.0
DUPLICATE_WINDOW_S = 120.0


def stream_config(config: BusConfig) -> StreamConfig:
    return StreamConfig(
        name=config.stream,
        subjects=[config.subject + ".*"],
        retention=RetentionPolicy.WORK_QUEUE,
        storage=StorageType.FILE,
        max_msgs=config.stream_max_msgs,
        discard=DiscardPolicy.NEW,
        duplicate_window=DUPLICATE_WINDOW_S,
    )


def dead_stream_config(config: BusConfig) -> StreamConfig:
    return StreamConfig(
        name=config.dead_stream,
        subjects=[config.dead_subject],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        max_age=DEAD_MAX_AGE_S,
    )


def consumer_config(config: BusConfig, partition: int) -> ConsumerConfig:
    """Unlimited deliveries: the worker, not the server, decides when an event is dead.

    (A server-side ``max_deliver`` would silently drop an event that failed only because the
    database was down; the worker dead-letters only events that fail on their own.)
    """
    return ConsumerConfig(
        durable_name=config.durable(partition),
        filter_subject=config.partition_subject(partition),
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=config.ack_wait_s,
        max_deliver=-1,
        deliver_policy=DeliverPolicy.ALL,
        max_ack_pending=max(2 * config.batch, 64),
    )


async def _ensure(js: JetStreamContext, wanted: StreamConfig) -> None:
    assert wanted.name is not None
    try:
        await js.stream_info(wanted.name)
    except NotFoundError:
        await js.add_stream(wanted)


async def ensure_streams(js: JetStreamContext, config: BusConfig) -> None:
    """Create the event stream, the dead-letter stream and every partition's consumer."""
    await _ensure(js, stream_config(config))
    await _ensure(js, dead_stream_config(config))
    for partition in range(config.partitions):
        await js.add_consumer(config.stream, consumer_config(config, partition))


async def backlog(js: JetStreamContext, config: BusConfig) -> int:
    """Events accepted but not yet acked by a worker (queued plus in flight)."""
    info = await js.stream_info(config.stream)
    return int(info.state.messages)


async def delete_streams(js: JetStreamContext, config: BusConfig) -> None:
    """Remove both streams (tests and benchmarks clean up after themselves)."""
    for name in (config.stream, config.dead_stream):
        with contextlib.suppress(NotFoundError):
            await js.delete_stream(name)
