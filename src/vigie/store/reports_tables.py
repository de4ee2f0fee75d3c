"""Tables owned by ``vigie.reports``: legal holds, approvals, submissions, statements, complaints.

They sit on the core ``Base`` so one Alembic history covers them; nothing here is read by the
pipeline, only by the reporting and retention code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vigie.store.tables import Base


class LegalHoldRow(Base):
    """A case whose evidence must survive purges until ``until`` (or until released)."""

    __tablename__ = "legal_holds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform_id: Mapped[str] = mapped_column(String(64), index=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    placed_by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    released_by: Mapped[str | None] = mapped_column(String(200))


class ApprovalRow(Base):
    """One approval of a report to an authority (four eyes: approver differs from author)."""

    __tablename__ = "report_approvals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    authority: Mapped[str] = mapped_column(String(32))
    author: Mapped[str] = mapped_column(String(200))
    approver: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # SHA-256 of exactly what the approver allowed to leave (the prepared report and files);
    # a sender compares it with what it is about to send. None: approved before preparation.
    content_sha256: Mapped[str | None] = mapped_column(String(64))


class ReportSubmissionRow(Base):
    """A report handed to an authority (NCMEC report id, evidence package path, ...).

    For NCMEC the row is first the prepared draft (``prepared``: preparer in ``actor``, content
    hash and service details in ``details``), then ``sending`` while one sender holds it, then
    ``finished``; earlier drafts become ``superseded``."""

    __tablename__ = "report_submissions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform_id: Mapped[str] = mapped_column(String(64), index=True)
    case_id: Mapped[str] = mapped_column(String(64), index=True)
    authority: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class DsaStatementRow(Base):
    """A DSA Article 17 statement of reasons, as sent (or to be sent) to the Transparency DB."""

    __tablename__ = "dsa_statements"
    puid: Mapped[str] = mapped_column(String(500), primary_key=True)
    platform_id: Mapped[str] = mapped_column(String(64), index=True)
    decision_id: Mapped[int | None] = mapped_column(Integer)
    case_id: Mapped[str | None] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    tdb_uuid: Mapped[str | None] = mapped_column(String(64))


class ComplaintRow(Base):
    """An internal complaint (DSA Art. 20) against a decision, and how it ended."""

    __tablename__ = "complaints"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform_id: Mapped[str] = mapped_column(String(64), index=True)
    decision_id: Mapped[int | None] = mapped_column(Integer)
    case_id: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # "upheld" (decision stands), "overturned" (reversed), "partly_reversed", "omitted" (closed
    # without a decision: withdrawn, out of scope) or None while pending; the transparency
    # template has a column for each.
    outcome: Mapped[str | None] = mapped_column(String(16))
    __table_args__ = (Index("ix_complaints_period", "platform_id", "received_at"),)
