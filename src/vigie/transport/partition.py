"""Which partition an event goes to: all events of one conversation land in the same one.

A partition is consumed by one worker at a time, in order, so per-conversation state is
updated in the order the platform sent the messages. The hash is stable across processes and
machines (not Python's randomised ``hash``).
"""

from __future__ import annotations

import hashlib

from vigie.events import AccountEvent, Event, MediaEvent, MessageEvent, UserReportEvent


def ordering_key(event: Event) -> str:
    """The conversation when there is one, else the account the event is about."""
    if isinstance(event, MessageEvent):
        return "c:" + event.conversation
    if isinstance(event, MediaEvent):
        return "c:" + event.conversation if event.conversation else "a:" + event.sender
    if isinstance(event, UserReportEvent):
        return "c:" + event.conversation if event.conversation else "a:" + event.subject
    assert isinstance(event, AccountEvent)
    return "a:" + event.account


def partition_of(platform_id: str, key: str, partitions: int) -> int:
    digest = hashlib.blake2b(f"{platform_id}\x00{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % partitions
