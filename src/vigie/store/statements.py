"""Prepared Core statements for the per-event hot path, built once per dialect.

Building a statement and computing its cache key costs more than running it on SQLite, so the
statements every event runs are made once, with bound parameters, and reused.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from vigie.store.tables import (
    AccountRow,
    ConversationRow,
    DecisionRow,
    MessageRow,
    ParticipantStateRow,
    ProcessedEventRow,
    SignalRow,
)


def table(model: Any) -> Table:
    return cast(Table, model.__table__)


ACCOUNTS = table(AccountRow)
CONVERSATIONS = table(ConversationRow)
MESSAGES = table(MessageRow)
STATES = table(ParticipantStateRow)
PROCESSED = table(ProcessedEventRow)
SIGNALS = table(SignalRow)
DECISIONS = table(DecisionRow)

ACCOUNT_COLUMNS = (
    ACCOUNTS.c.platform_id,
    ACCOUNTS.c.pseudo_id,
    ACCOUNTS.c.age,
    ACCOUNTS.c.age_source,
    ACCOUNTS.c.created_at,
    ACCOUNTS.c.first_seen,
    ACCOUNTS.c.restricted,
)


@dataclass(frozen=True)
class Statements:
    accounts: Any
    insert_accounts: Any
    profile_for_update: Any
    save_profile: Any
    touch_conversation: Any
    history: Any
    state: Any
    save_state: Any
    add_message: Any
    add_signals: Any
    add_decision: Any
    processed: Any
    add_processed: Any


def _upsert_insert(dialect: str) -> Any:
    return pg_insert if dialect == "postgresql" else sqlite_insert


@cache
def statements(dialect: str) -> Statements:
    """The hot-path statements for one dialect (``sqlite`` or ``postgresql``)."""
    upsert = _upsert_insert(dialect)
    account_key = (ACCOUNTS.c.platform_id == bindparam("platform_id")) & (
        ACCOUNTS.c.pseudo_id == bindparam("pseudo_id")
    )
    state_key = (
        (STATES.c.platform_id == bindparam("platform_id"))
        & (STATES.c.conversation_id == bindparam("conversation_id"))
        & (STATES.c.pseudo_id == bindparam("pseudo_id"))
    )
    touch = upsert(CONVERSATIONS).values(
        platform_id=bindparam("platform_id"),
        id=bindparam("conversation_id"),
        started_at=bindparam("at"),
        last_at=bindparam("at"),
        message_count=1,
        external_ref=bindparam("external_ref"),
    )
    save_state = upsert(STATES).values(
        platform_id=bindparam("platform_id"),
        conversation_id=bindparam("conversation_id"),
        pseudo_id=bindparam("pseudo_id"),
        state=bindparam("state", type_=STATES.c.state.type),
        risk=bindparam("risk"),
        categories=bindparam("categories", type_=STATES.c.categories.type),
    )
    return Statements(
        accounts=select(*ACCOUNT_COLUMNS).where(
            ACCOUNTS.c.platform_id == bindparam("platform_id"),
            ACCOUNTS.c.pseudo_id.in_(bindparam("pseudo_ids", expanding=True)),
        ),
        insert_accounts=upsert(ACCOUNTS).on_conflict_do_nothing(),
        profile_for_update=select(ACCOUNTS.c.profile_state)
        .where(account_key)
        .with_for_update(key_share=True),
        save_profile=update(ACCOUNTS)
        .where(
            (ACCOUNTS.c.platform_id == bindparam("k_platform"))
            & (ACCOUNTS.c.pseudo_id == bindparam("k_pseudo"))
        )
        .values(profile_state=bindparam("new_state", type_=ACCOUNTS.c.profile_state.type)),
        touch_conversation=touch.on_conflict_do_update(
            index_elements=["platform_id", "id"],
            set_={
                "message_count": CONVERSATIONS.c.message_count + 1,
                "last_at": touch.excluded.last_at,
            },
        ).returning(CONVERSATIONS.c.message_count),
        history=select(MESSAGES.c.sender, MESSAGES.c.text, MESSAGES.c.sent_at)
        .where(
            MESSAGES.c.platform_id == bindparam("platform_id"),
            MESSAGES.c.conversation_id == bindparam("conversation_id"),
        )
        .order_by(MESSAGES.c.id.desc())
        .limit(bindparam("limit")),
        state=select(STATES.c.state, STATES.c.risk, STATES.c.categories).where(state_key),
        save_state=save_state.on_conflict_do_update(
            index_elements=["platform_id", "conversation_id", "pseudo_id"],
            set_={
                "state": save_state.excluded.state,
                "risk": save_state.excluded.risk,
                "categories": save_state.excluded.categories,
            },
        ),
        add_message=insert(MESSAGES).returning(MESSAGES.c.id),
        add_signals=insert(SIGNALS),
        add_decision=insert(DECISIONS),
        processed=select(PROCESSED.c.result).where(
            PROCESSED.c.platform_id == bindparam("platform_id"),
            PROCESSED.c.event_id == bindparam("event_id"),
        ),
        add_processed=insert(PROCESSED),
    )
