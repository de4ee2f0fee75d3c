"""SQLAlchemy tables for the core domain. Other rooms add their tables on the same ``Base``.

Identifiers of people are pseudonyms (HMAC with the platform's secret); the platform's own
account id is kept only encrypted, so it can be handed back to that platform alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """Metadata shared by every table; Alembic migrations are generated from it."""


class PlatformRow(Base):
    __tablename__ = "platforms"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    pseudonym_secret: Mapped[str] = mapped_column(String(128))
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    webhook_secret: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform_id: Mapped[str] = mapped_column(ForeignKey("platforms.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class AccountRow(Base):
    __tablename__ = "accounts"
    platform_id: Mapped[str] = mapped_column(ForeignKey("platforms.id"), primary_key=True)
    pseudo_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    external_ref: Mapped[str | None] = mapped_column(Text)
    age: Mapped[int | None] = mapped_column(Integer)
    age_source: Mapped[str] = mapped_column(String(16), default="unknown")
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)
    profile_state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The console's queues bound a score by the youngest minor on record.
    __table_args__ = (Index("ix_accounts_age", "age"),)


class ConversationRow(Base):
    __tablename__ = "conversations"
    platform_id: Mapped[str] = mapped_column(ForeignKey("platforms.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    external_ref: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    message_count: Mapped[int] = mapped_column(Integer, default=0)


class ParticipantStateRow(Base):
    """Detector memory per (conversation, sender), and the current risk about that sender."""

    __tablename__ = "participant_states"
    platform_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    pseudo_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    risk: Mapped[float] = mapped_column(Float, default=0.0)
    categories: Mapped[list[Any]] = mapped_column(JSON, default=list)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class MessageRow(Base):
    __tablename__ = "messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform_id: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[str] = mapped_column(String(64))
    sender: Mapped[str] = mapped_column(String(64))
    recipients: Mapped[list[Any]] = mapped_column(JSON, default=list)
    text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    event_id: Mapped[str | None] = mapped_column(String(200))
    risk: Mapped[float] = mapped_column(Float, default=0.0)
    __table_args__ = (
        Index("ix_messages_conv", "platform_id", "conversation_id", "id"),
        # the case view: the conversations in which the subject wrote to a minor
        Index("ix_messages_sender", "platform_id", "sender", "id"),
    )


class MediaRow(Base):
    __tablename__ = "media"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform_id: Mapped[str] = mapped_column(String(64), index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(64))
    sender: Mapped[str] = mapped_column(String(64))
    recipients: Mapped[list[Any]] = mapped_column(JSON, default=list)
    hashes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    event_id: Mapped[str | None] = mapped_column(String(200))


class SignalRow(Base):
    __tablename__ = "signals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform_id: Mapped[str] = mapped_column(String(64), index=True)
    event_id: Mapped[str] = mapped_column(String(200))
    conversation_id: Mapped[str | None] = mapped_column(String(64))
    subject: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[int | None] = mapped_column(Integer)
    media_id: Mapped[int | None] = mapped_column(Integer)
    case_id: Mapped[str | None] = mapped_column(String(64), index=True)
    detector: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Float)
    explanation: Mapped[str] = mapped_column(Text)
    span_start: Mapped[int | None] = mapped_column(Integer)
    span_end: Mapped[int | None] = mapped_column(Integer)
    model: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # the case view: the signals of the conversations a case touches
    __table_args__ = (Index("ix_signals_conv", "platform_id", "conversation_id"),)


class CaseRow(Base):
    __tablename__ = "cases"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform_id: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32), default="open")
    priority: Mapped[int] = mapped_column(Integer, default=3)
    risk: Mapped[float] = mapped_column(Float, default=0.0)
    categories: Mapped[list[Any]] = mapped_column(JSON, default=list)
    assignee: Mapped[str | None] = mapped_column(String(200))
    requires_report: Mapped[bool] = mapped_column(Boolean, default=False)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (Index("ix_cases_subject", "platform_id", "subject", "status"),)


class DecisionRow(Base):
    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform_id: Mapped[str] = mapped_column(String(64), index=True)
    event_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    actions: Mapped[list[Any]] = mapped_column(JSON, default=list)
    case_id: Mapped[str | None] = mapped_column(String(64))
    rules: Mapped[list[Any]] = mapped_column(JSON, default=list)
    subject: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ProcessedEventRow(Base):
    """Idempotency: the first answer to an event id, returned again on a repeat."""

    __tablename__ = "processed_events"
    platform_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditRow(Base):
    """Append-only audit trail, hash-chained so tampering is detectable."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    platform_id: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class UserReportRow(Base):
    __tablename__ = "user_reports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform_id: Mapped[str] = mapped_column(String(64), index=True)
    reporter: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    event_id: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The console sends a case whose subject a minor reported to User reports.
    __table_args__ = (Index("ix_user_reports_subject", "platform_id", "subject"),)


__all__ = ["Base", "UniqueConstraint"]
