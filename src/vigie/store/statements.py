"""The per-event hot path's statements, built and compiled once per dialect.

Building a statement and computing its cache key costs more than running it on SQLite, so the
statements every event runs are made once, with bound parameters, and run on the driver's
cursor (``prepared.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    Dialect,
    Integer,
    String,
    Table,
    any_,
    bindparam,
    column,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from vigie.domain import CaseStatus
from vigie.store.prepared import Prepared, prepare
from vigie.store.tables import (
    AccountRow,
    CaseRow,
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
CASES = table(CaseRow)
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


ACCOUNT_INSERT_KEYS = (
    "platform_id",
    "pseudo_id",
    "external_ref",
    "age_source",
    "first_seen",
    "restricted",
    "profile_state",
)
MESSAGE_KEYS = (
    "platform_id",
    "conversation_id",
    "sender",
    "recipients",
    "text",
    "sent_at",
    "event_id",
    "risk",
)
SIGNAL_KEYS = (
    "platform_id",
    "event_id",
    "conversation_id",
    "subject",
    "message_id",
    "media_id",
    "case_id",
    "detector",
    "category",
    "score",
    "explanation",
    "span_start",
    "span_end",
    "model",
    "details",
    "at",
)
DECISION_KEYS = ("platform_id", "event_id", "kind", "actions", "case_id", "rules", "subject", "at")
PROCESSED_KEYS = ("platform_id", "event_id", "result", "at")
CASE_COLUMNS = (
    CASES.c.id,
    CASES.c.platform_id,
    CASES.c.subject,
    CASES.c.status,
    CASES.c.priority,
    CASES.c.risk,
    CASES.c.categories,
    CASES.c.conversation_id,
    CASES.c.assignee,
    CASES.c.requires_report,
    CASES.c.opened_at,
    CASES.c.updated_at,
)
# What a later event may change in a case the pipeline already opened.
CASE_UPDATES = (
    "conversation_id",
    "status",
    "priority",
    "risk",
    "categories",
    "assignee",
    "requires_report",
    "updated_at",
)
ACTIVE_CASE_STATUSES = tuple(
    s.value for s in (CaseStatus.OPEN, CaseStatus.IN_REVIEW, CaseStatus.ESCALATED)
)


@dataclass(frozen=True)
class Statements:
    account: Prepared
    insert_account: Prepared
    profile_for_update: Prepared
    save_profile: Prepared
    touch_conversation: Prepared
    history: Prepared
    state: Prepared
    save_state: Prepared
    add_message: Prepared
    add_signal: Prepared
    add_decision: Prepared
    processed: Prepared
    add_processed: Prepared
    active_case: Prepared
    save_case: Prepared
    bulk: BulkStatements | None  # PostgreSQL only: what ``write_behind.py`` sends


@dataclass(frozen=True)
class BulkStatements:
    """Statements for a whole batch at once (PostgreSQL)."""

    processed_any: Prepared  # the earlier answers of many events, in one look-up
    message_ids: Prepared  # ids for the batch's messages, taken from their sequence at once
    add_message: Prepared  # a message with its id already known
    count_messages: Prepared  # a conversation's further messages of this batch


def _upsert_insert(dialect: str) -> Any:
    return pg_insert if dialect == "postgresql" else sqlite_insert


_PREPARED: dict[tuple[str, str], Statements] = {}


def statements(dialect: Dialect) -> Statements:
    """The hot-path statements for one dialect, compiled on first use."""
    key = (dialect.name, dialect.driver)
    found = _PREPARED.get(key)
    if found is None:
        found = _PREPARED[key] = _build(dialect)
    return found


def _build(dialect: Dialect) -> Statements:
    upsert = _upsert_insert(dialect.name)
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
        started_at=bindparam("at", type_=CONVERSATIONS.c.started_at.type),
        last_at=bindparam("at", type_=CONVERSATIONS.c.last_at.type),
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

    case = upsert(CASES).values({c.key: bindparam(c.key, type_=c.type) for c in CASE_COLUMNS})

    def p(stmt: Any, keys: tuple[str, ...] = ()) -> Prepared:
        return prepare(stmt, dialect, keys)

    return Statements(
        account=p(select(*ACCOUNT_COLUMNS).where(account_key)),
        insert_account=p(upsert(ACCOUNTS).on_conflict_do_nothing(), ACCOUNT_INSERT_KEYS),
        profile_for_update=p(
            select(ACCOUNTS.c.profile_state).where(account_key).with_for_update(key_share=True)
        ),
        save_profile=p(
            update(ACCOUNTS)
            .where(
                (ACCOUNTS.c.platform_id == bindparam("k_platform"))
                & (ACCOUNTS.c.pseudo_id == bindparam("k_pseudo"))
            )
            .values(profile_state=bindparam("new_state", type_=ACCOUNTS.c.profile_state.type))
        ),
        touch_conversation=p(
            touch.on_conflict_do_update(
                index_elements=["platform_id", "id"],
                set_={
                    "message_count": CONVERSATIONS.c.message_count + 1,
                    "last_at": touch.excluded.last_at,
                },
            ).returning(CONVERSATIONS.c.message_count)
        ),
        history=p(
            select(MESSAGES.c.sender, MESSAGES.c.text, MESSAGES.c.sent_at)
            .where(
                MESSAGES.c.platform_id == bindparam("platform_id"),
                MESSAGES.c.conversation_id == bindparam("conversation_id"),
            )
            .order_by(MESSAGES.c.id.desc())
            .limit(bindparam("limit"))
        ),
        state=p(select(STATES.c.state, STATES.c.risk, STATES.c.categories).where(state_key)),
        save_state=p(
            save_state.on_conflict_do_update(
                index_elements=["platform_id", "conversation_id", "pseudo_id"],
                set_={
                    "state": save_state.excluded.state,
                    "risk": save_state.excluded.risk,
                    "categories": save_state.excluded.categories,
                },
            )
        ),
        add_message=p(insert(MESSAGES).returning(MESSAGES.c.id), MESSAGE_KEYS),
        add_signal=p(insert(SIGNALS), SIGNAL_KEYS),
        add_decision=p(insert(DECISIONS), DECISION_KEYS),
        processed=p(
            select(PROCESSED.c.result).where(
                PROCESSED.c.platform_id == bindparam("platform_id"),
                PROCESSED.c.event_id == bindparam("event_id"),
            )
        ),
        add_processed=p(insert(PROCESSED), PROCESSED_KEYS),
        active_case=p(
            select(*CASE_COLUMNS)
            .where(
                CASES.c.platform_id == bindparam("platform_id"),
                CASES.c.subject == bindparam("subject"),
                # One parameter per status (a plain list would be an "expanding" parameter,
                # rendered anew at each execution).
                CASES.c.status.in_(
                    [bindparam(f"status_{n}", v) for n, v in enumerate(ACTIVE_CASE_STATUSES)]
                ),
            )
            .order_by(CASES.c.opened_at.desc())
            .limit(1)
        ),
        save_case=p(
            case.on_conflict_do_update(
                index_elements=["id"], set_={k: case.excluded[k] for k in CASE_UPDATES}
            )
        ),
        bulk=_bulk(dialect) if dialect.name == "postgresql" else None,
    )


def _bulk(dialect: Dialect) -> BulkStatements:
    def p(stmt: Any, keys: tuple[str, ...] = ()) -> Prepared:
        return prepare(stmt, dialect, keys)

    return BulkStatements(
        processed_any=p(
            select(PROCESSED.c.event_id, PROCESSED.c.result).where(
                PROCESSED.c.platform_id == bindparam("platform_id"),
                PROCESSED.c.event_id == any_(bindparam("event_ids", type_=ARRAY(String))),
            )
        ),
        message_ids=p(
            # The SERIAL column's sequence by its name: pg_get_serial_sequence() costs about a
            # hundred catalog reads per call, and it would be called once per id.
            text(f"SELECT nextval('{MESSAGES.name}_id_seq') FROM generate_series(1, :n)")
            .bindparams(bindparam("n", type_=Integer))
            .columns(column("id", Integer))
        ),
        add_message=p(insert(MESSAGES), ("id", *MESSAGE_KEYS)),
        count_messages=p(
            update(CONVERSATIONS)
            .where(
                (CONVERSATIONS.c.platform_id == bindparam("k_platform"))
                & (CONVERSATIONS.c.id == bindparam("k_id"))
            )
            .values(
                message_count=CONVERSATIONS.c.message_count + bindparam("n", type_=Integer),
                last_at=bindparam("at", type_=CONVERSATIONS.c.last_at.type),
            )
        ),
    )
