"""A small, benign but risky-looking traffic for the bus tests, and the checks that follow it.

Conversations pair an adult with a child; the adult moves through non-explicit risk
indicators (age probing, parents, moving off-platform, secrecy), which opens cases. One
"roaming" adult talks to several children in conversations that land in different
partitions, so per-subject state spanning conversations is shared between workers.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select

from vigie.store.outbox import WebhookOutboxRow
from vigie.store.sql import SqlStore
from vigie.store.tables import (
    AccountRow,
    CaseRow,
    DecisionRow,
    MessageRow,
    ProcessedEventRow,
)

TEXTS = [
    "hey, good game",
    "how old are you?",
    "are your parents home?",
    "add me on snapchat, it's more private",
    "don't tell anyone about us, ok?",
    "lol see you tomorrow",
]


def conversation_events(tag: str, adult: str, kid: str, conv: str) -> list[dict[str, Any]]:
    return [
        {
            "type": "message",
            "id": f"{tag}-{conv}-m{i}",
            "conversation": conv,
            "sender": adult,
            "recipients": [kid],
            "text": text,
        }
        for i, text in enumerate(TEXTS)
    ]


def accounts(tag: str, conversations: int, roaming: int) -> list[dict[str, Any]]:
    events = [{"type": "account", "id": f"{tag}-acc-roamer", "account": "roamer", "age": 40}]
    for c in range(conversations + roaming):
        events.append(
            {"type": "account", "id": f"{tag}-acc-kid{c}", "account": f"kid{c}", "age": 12}
        )
    for c in range(conversations):
        events.append(
            {"type": "account", "id": f"{tag}-acc-adult{c}", "account": f"adult{c}", "age": 31}
        )
    return events


def messages(tag: str, conversations: int, roaming: int) -> list[dict[str, Any]]:
    """Interleaved across conversations, as a live platform would send them."""
    per_conv = [
        conversation_events(tag, f"adult{c}", f"kid{c}", f"conv{c}") for c in range(conversations)
    ]
    per_conv += [
        conversation_events(tag, "roamer", f"kid{conversations + r}", f"roam{r}")
        for r in range(roaming)
    ]
    return [conv[i] for i in range(len(TEXTS)) for conv in per_conv]


def expected_order(tag: str, conversations: int, roaming: int) -> dict[str, list[str]]:
    convs = [f"conv{c}" for c in range(conversations)] + [f"roam{r}" for r in range(roaming)]
    return {conv: [f"{tag}-{conv}-m{i}" for i in range(len(TEXTS))] for conv in convs}


def processed_count(store: SqlStore, platform_id: str) -> int:
    with store.read() as unit:
        return int(
            unit.session.execute(
                select(func.count())
                .select_from(ProcessedEventRow)
                .where(ProcessedEventRow.platform_id == platform_id)
            ).scalar_one()
        )


def check_exactly_once(
    store: SqlStore, platform_id: str, ids: list[str], order: dict[str, list[str]]
) -> dict[str, int]:
    """Every event processed once in effect, each conversation in order; returns counts."""
    with store.read() as unit:
        s = unit.session
        done = set(
            s.execute(
                select(ProcessedEventRow.event_id).where(
                    ProcessedEventRow.platform_id == platform_id
                )
            ).scalars()
        )
        assert done == set(ids), f"missing {sorted(set(ids) - done)[:5]}"
        decisions = Counter(
            s.execute(
                select(DecisionRow.event_id).where(DecisionRow.platform_id == platform_id)
            ).scalars()
        )
        assert decisions and max(decisions.values()) == 1, "an event was decided twice"
        rows = s.execute(
            select(MessageRow.event_id, MessageRow.id)
            .where(MessageRow.platform_id == platform_id)
            .order_by(MessageRow.id)
        ).all()
        stored = Counter(r.event_id for r in rows)
        assert max(stored.values()) == 1, "a message was stored twice"
        position = {r.event_id: r.id for r in rows}
        for conv, wanted in order.items():
            got = sorted(wanted, key=lambda e: position[e])
            assert got == wanted, f"conversation {conv} processed out of order: {got}"
        cases = Counter(
            s.execute(select(CaseRow.subject).where(CaseRow.platform_id == platform_id)).scalars()
        )
        assert cases and max(cases.values()) == 1, "two cases for one subject"
        outbox = (
            s.execute(
                select(WebhookOutboxRow.id).where(WebhookOutboxRow.platform_id == platform_id)
            )
            .scalars()
            .all()
        )
        assert len(outbox) == len(set(outbox))
        return {"events": len(done), "cases": sum(cases.values()), "webhooks": len(outbox)}


def roamer_profile(store: SqlStore, platform_id: str) -> dict[str, Any]:
    """The roaming adult's cross-conversation state (pseudonymous ids)."""
    with store.read() as unit:
        rows = unit.session.execute(
            select(AccountRow.profile_state).where(AccountRow.platform_id == platform_id)
        ).scalars()
        states = [r for r in rows if r and len(r.get("conversations", [])) > 1]
    assert len(states) == 1, "exactly one account spans several conversations"
    return dict(states[0])
