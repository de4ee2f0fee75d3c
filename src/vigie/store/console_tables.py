"""Tables owned by the safety officers' console: accounts, sessions, notes, decisions, appeals.

Claims are not a table: a claim is ``cases.assignee``, set by a conditional UPDATE so that two
officers can never hold the same case (see ``vigie.console.queries.claim_case``). Report approvals
reuse ``report_approvals`` from ``vigie.store.reports_tables`` (four eyes).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vigie.store.tables import Base


class ConsoleUserRow(Base):
    """A safety officer's account, with an argon2 hash and their wellness settings."""

    __tablename__ = "console_users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Sees every platform (and, as an admin, manages every account): a single-platform install's
    # accounts, and the operator's super-admins. Others see their memberships' platforms only.
    all_platforms: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Wellness: what is hidden by default, and how often to suggest a break.
    blur: Mapped[bool] = mapped_column(Boolean, default=True)
    greyscale: Mapped[bool] = mapped_column(Boolean, default=True)
    mute: Mapped[bool] = mapped_column(Boolean, default=True)
    break_minutes: Mapped[int] = mapped_column(Integer, default=50)
    lang: Mapped[str] = mapped_column(String(8), default="en")


class ConsoleMembershipRow(Base):
    """An officer belongs to a platform: they see its cases; an admin manages its accounts."""

    __tablename__ = "console_memberships"
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class LoginBackoffRow(Base):
    """Failed log-ins of one e-mail from one client address (``vigie.console.security.backoff``).

    Why per (e-mail, address) and not per account: a lock on the account let anyone lock an
    officer out with five wrong passwords; here only the address that guesses waits. Why the
    e-mail as typed and not the account: unknown e-mails back off exactly like known ones, so
    the answers never tell which accounts exist.
    """

    __tablename__ = "console_login_backoff"
    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ConsoleSessionRow(Base):
    """A server-side session: the cookie carries a token, the row says whether it still counts."""

    __tablename__ = "console_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CaseNoteRow(Base):
    __tablename__ = "case_notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    author: Mapped[str] = mapped_column(String(320))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CaseActionRow(Base):
    """A human decision on a case; ``prepare_report`` ones wait for a second officer's approval."""

    __tablename__ = "case_actions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    platform_id: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    rule: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(320))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Reports only: "pending" until a referent other than the actor approves or rejects it.
    report_status: Mapped[str | None] = mapped_column(String(16))
    authority: Mapped[str | None] = mapped_column(String(32))
    reviewed_by: Mapped[str | None] = mapped_column(String(320))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    overturned: Mapped[bool] = mapped_column(Boolean, default=False)
    # Held messages: the platform's event id of the message released or kept.
    event_id: Mapped[str | None] = mapped_column(String(200))
    # ``close`` only: how the case ended ("dismissed", "actioned", "reported").
    outcome: Mapped[str | None] = mapped_column(String(16))
    __table_args__ = (Index("ix_case_actions_at", "at"),)


class AppealRow(Base):
    """An appeal by the affected user against a decision; decided by someone else."""

    __tablename__ = "case_appeals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    action_id: Mapped[int] = mapped_column(Integer)
    complaint_id: Mapped[int | None] = mapped_column(Integer)
    statement: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(320))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(16))  # "upheld" / "overturned"
    decided_by: Mapped[str | None] = mapped_column(String(320))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)


class PracticeAttemptRow(Base):
    """One answer to a practice case (``vigie.console.practice``): only the practice pages
    read this table, so practice never counts as real moderation."""

    __tablename__ = "practice_attempts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    case_key: Mapped[str] = mapped_column(String(100))
    decision: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    signs: Mapped[list[Any]] = mapped_column(JSON, default=list)
    verdict: Mapped[str] = mapped_column(String(16))  # right / acceptable / wrong
    channel_ok: Mapped[bool] = mapped_column(Boolean, default=False)
    passed: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
