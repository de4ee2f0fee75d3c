"""Light work first: which waiting batches of events to decide now, when some are heavy.

A message the sentence encoder embeds costs milliseconds; most messages cost a fraction of
one. When a busy moment queues both, deciding in arrival order makes every light event
behind a heavy one wait for its embedding. Deciding the light ones first takes that wait
out of nearly every answer, and the heavy ones, which wait their turn together, are then
embedded in one batch (cheaper per text).

Order is kept where it matters: a batch never passes a held one that touches the same
conversation or the same account (a person's messages feed one profile), so what any
conversation or account sees happens in arrival order. Events of unrelated people may be
decided a few milliseconds apart from their arrival order, as they would be if their
requests had arrived that way.
"""

from __future__ import annotations

from collections.abc import Sequence

from vigie.events import AccountEvent, Event, MediaEvent, MessageEvent, UserReportEvent

Key = tuple[str, str, str]  # (platform, "conversation" or "account", platform's id)


def touches(platform_id: str, events: Sequence[Event]) -> set[Key]:
    """The conversations and accounts a batch of events reads or changes."""
    keys: set[Key] = set()
    for ev in events:
        conversation, accounts = _parts(ev)
        if conversation is not None:
            keys.add((platform_id, "conversation", conversation))
        keys.update((platform_id, "account", a) for a in accounts)
    return keys


def _parts(ev: Event) -> tuple[str | None, list[str]]:
    if isinstance(ev, MessageEvent | MediaEvent):
        return ev.conversation, [ev.sender, *ev.recipients]
    if isinstance(ev, UserReportEvent):
        return ev.conversation, [ev.reporter, ev.subject]
    if isinstance(ev, AccountEvent):
        return None, [ev.account]
    return None, []


def light_first(
    keys: Sequence[set[Key]], heavy: Sequence[bool], sizes: Sequence[int], cap: int
) -> list[int]:
    """Indexes (in arrival order) of the batches to decide now, at most ``cap`` events.

    The light batches that touch nothing a held batch touches; when there are none, the
    batches in arrival order, heavy ones included, so something always goes.
    """
    held: set[Key] = set()
    chosen: list[int] = []
    events = 0
    for i, (touched, is_heavy) in enumerate(zip(keys, heavy, strict=True)):
        if is_heavy or not held.isdisjoint(touched):
            held |= touched
            continue
        if chosen and events + sizes[i] > cap:
            break
        chosen.append(i)
        events += sizes[i]
    return chosen or in_order(sizes, cap)


def in_order(sizes: Sequence[int], cap: int) -> list[int]:
    """The first batches up to ``cap`` events (always at least one)."""
    chosen: list[int] = []
    events = 0
    for i, size in enumerate(sizes):
        if chosen and events + size > cap:
            break
        chosen.append(i)
        events += size
    return chosen
