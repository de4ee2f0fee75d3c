"""The webhook outbox: actions written in the same transaction as the decision that caused them.

If the process dies after the commit, the row is still there and the dispatcher sends it;
if the transaction rolls back, no webhook exists for a decision that was never stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from vigie.domain.webhooks import encode_body, webhook_payload
from vigie.store.tables import Base

PENDING = "pending"
DELIVERED = "delivered"


class WebhookOutboxRow(Base):
    """One webhook to deliver; ``id`` is the payload id, hence the idempotency key."""

    __tablename__ = "webhook_outbox"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform_id: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (Index("ix_webhook_outbox_due", "status", "next_attempt_at"),)


def _row(
    platform_id: str, url: str, secret: str, payload: dict[str, Any], at: datetime
) -> dict[str, Any]:
    return {
        "id": payload["id"], "platform_id": platform_id, "url": url, "secret": secret,
        "body": encode_body(payload), "status": PENDING, "attempts": 0,
        "next_attempt_at": at, "created_at": at,
    }  # fmt: skip


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert rows whose id is not there yet, in one statement; returns how many went in.

    ``INSERT … ON CONFLICT DO NOTHING`` on SQLite and PostgreSQL: one round trip per
    decision and no read first, which matters on the hot path of ``POST /v1/events``.
    """
    unique = list({r["id"]: r for r in rows}.values())
    if not unique:
        return 0
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert = sqlite_insert if dialect == "sqlite" else pg_insert
        stmt = (
            insert(WebhookOutboxRow)
            .values(unique)
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(WebhookOutboxRow.id)
        )
        return len(session.execute(stmt).all())
    added = 0
    for row in unique:
        if session.get(WebhookOutboxRow, row["id"]) is None:
            session.add(WebhookOutboxRow(**row))
            added += 1
    return added


def enqueue_webhook(
    session: Session,
    platform_id: str,
    url: str,
    secret: str,
    payload: dict[str, Any],
    now: datetime | None = None,
) -> bool:
    """Add a webhook to the outbox inside the caller's transaction; the caller commits.

    Returns False (and adds nothing) when a webhook with this payload id already exists, so
    a replayed event never sends the same action twice.
    """
    at = now or datetime.now(UTC)
    return _insert_new(session, [_row(platform_id, url, secret, payload, at)]) == 1


def enqueue_actions(
    session: Session,
    platform_id: str,
    url: str | None,
    secret: str | None,
    event_id: str,
    subject: str | None,
    case_id: str | None,
    actions: list[str],
    at: datetime | None = None,
    extra: dict[str, dict[str, Any]] | None = None,
) -> int:
    """One webhook per action of a decision (``allow`` sends nothing); returns how many.

    ``extra`` maps an action to optional payload fields, e.g. the safety message for
    ``warn_child``. Platforms without a webhook URL get nothing queued.
    """
    if not url or not secret:
        return 0
    now = datetime.now(UTC)
    rows = [
        _row(platform_id, url, secret,
             webhook_payload(platform_id, action, event_id, subject, case_id, at,
                             (extra or {}).get(action)), now)
        for action in actions
        if action != "allow"
    ]  # fmt: skip
    return _insert_new(session, rows)
