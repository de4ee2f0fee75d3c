"""Dead letters: events that failed on their own ``max_attempts`` times.

They are copied, unchanged, to ``<subject>-dead`` (a stream kept 14 days) with headers saying
why, then acked so their partition moves on. ``vigie dead-letters list`` shows them without
their text; ``vigie dead-letters replay SEQ`` puts one back on its partition once fixed.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from vigie.runtime import metrics
from vigie.transport.config import BusConfig
from vigie.transport.envelope import Envelope

log = logging.getLogger(__name__)


async def dead_letter(
    js: JetStreamContext,
    config: BusConfig,
    msg: Msg,
    partition: int,
    error: BaseException,
    attempts: int,
) -> bool:
    """Move ``msg`` to the dead letters; False (and no ack) when NATS did not take it."""
    seq = msg.metadata.sequence.stream
    headers = {
        "Vigie-Error": type(error).__name__,
        "Vigie-Partition": str(partition),
        "Vigie-Attempts": str(attempts),
        "Vigie-Stream-Seq": str(seq),
        "Nats-Msg-Id": f"dead-{config.stream}-{seq}",
    }
    try:
        await js.publish(config.dead_subject, msg.data, headers=headers, stream=config.dead_stream)
        await msg.ack()
    except Exception as exc:
        log.warning("dead-letter publish failed", extra={"error": type(exc).__name__})
        return False
    metrics.DEAD_LETTERS.inc()
    log.error(
        "event dead-lettered",
        extra={
            "partition": partition,
            "attempts": attempts,
            "stream_seq": seq,
            "error": type(error).__name__,
        },
    )
    return True


def _summary(seq: int, headers: dict[str, str], data: bytes, at: Any) -> dict[str, Any]:
    """What an operator needs to triage, without the event's text."""
    entry: dict[str, Any] = {
        "seq": seq,
        "at": str(at),
        "error": headers.get("Vigie-Error"),
        "attempts": headers.get("Vigie-Attempts"),
        "partition": headers.get("Vigie-Partition"),
    }
    try:
        env = Envelope.decode(data)
        entry.update(platform=env.platform_id, event=env.event.id, type=env.event.type)
    except (ValueError, KeyError):
        try:
            raw = json.loads(data)
        except ValueError:
            raw = None
        platform = raw.get("platform") if isinstance(raw, dict) else None
        entry.update(platform=platform, event=None, type="malformed")
    return entry


async def list_dead_letters(
    js: JetStreamContext, config: BusConfig, limit: int = 100
) -> list[dict[str, Any]]:
    """The newest dead letters first."""
    try:
        info = await js.stream_info(config.dead_stream)
    except NotFoundError:
        return []
    found: list[dict[str, Any]] = []
    seq = info.state.last_seq
    while seq >= info.state.first_seq and len(found) < limit and seq > 0:
        try:
            msg = await js.get_msg(config.dead_stream, seq)
        except NotFoundError:
            seq -= 1
            continue
        found.append(_summary(seq, dict(msg.headers or {}), msg.data or b"", msg.time))
        seq -= 1
    return found


async def replay(js: JetStreamContext, config: BusConfig, seq: int) -> str:
    """Republish one dead letter to its partition and delete it; returns the event id."""
    from vigie.transport.partition import ordering_key, partition_of

    msg = await js.get_msg(config.dead_stream, seq)
    env = Envelope.decode(msg.data or b"")
    partition = partition_of(env.platform_id, ordering_key(env.event), config.partitions)
    await js.publish(config.partition_subject(partition), env.encode(), stream=config.stream)
    await js.delete_msg(config.dead_stream, seq)
    return env.event.id
