"""Submitting statements of reasons to the DSA Transparency Database, and recording them.

``POST {base}/api/v1/statements`` with ``{"statements": [...]}``, at most 100 per call, Bearer
token; ``201`` on success with each statement's ``uuid``; ``422`` with errors indexed as
``statement_<n>`` (then none of the batch was created). Transient failures are retried.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigie.reports.audit import append_audit
from vigie.reports.dsa import Grounds, build_statement, make_puid, validate_statement
from vigie.store.reports_tables import DsaStatementRow
from vigie.store.tables import CaseRow, DecisionRow, MediaRow, MessageRow, SignalRow

BATCH = 100
PRODUCTION_URL = "https://transparency.dsa.ec.europa.eu"
RESTRICTIVE = ("hold", "block")


class DsaSubmitError(Exception):
    def __init__(self, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}


class DsaClient:
    def __init__(
        self,
        token: str,
        *,
        base_url: str = PRODUCTION_URL,
        retries: int = 4,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 60.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(
            timeout=timeout,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        self.retries, self.backoff, self.sleep = retries, backoff, sleep

    def close(self) -> None:
        self.http.close()

    def submit(self, statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send in batches of 100; returns the created statements (with ``uuid``) in order."""
        for s in statements:
            validate_statement(s)
        created: list[dict[str, Any]] = []
        for start in range(0, len(statements), BATCH):
            created += self.submit_batch(statements[start : start + BATCH], start)
        return created

    def submit_batch(self, batch: list[dict[str, Any]], offset: int = 0) -> list[dict[str, Any]]:
        """One call of at most 100; ``offset`` numbers errors by position in the whole list."""
        if len(batch) > BATCH:
            raise ValueError(f"at most {BATCH} statements per call")
        url = f"{self.base_url}/api/v1/statements"
        for attempt in range(self.retries + 1):
            try:
                response = self.http.post(url, json={"statements": batch})
            except (httpx.ConnectError, httpx.ConnectTimeout):
                if attempt == self.retries:
                    raise
            else:
                if response.status_code == 201:
                    return list(response.json().get("statements", []))
                if response.status_code not in (429, 500, 502, 503, 504) or attempt == self.retries:
                    raise _error(response, offset)
            self.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")


def _error(response: httpx.Response, offset: int) -> DsaSubmitError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    errors = body.get("errors", {}) if isinstance(body, dict) else {}
    renamed = {}
    for key, value in errors.items():
        if key.startswith("statement_") and key[10:].isdigit():
            key = f"statement_{int(key[10:]) + offset}"
        renamed[key] = value
    return DsaSubmitError(
        f"HTTP {response.status_code}: {body.get('message', '')}".strip(), renamed
    )


def record_statements(
    session: Session, grounds: Grounds, now: datetime | None = None
) -> list[DsaStatementRow]:
    """A statement for every restrictive decision that has none yet (Art. 17: every one)."""
    now = now or datetime.now(UTC)
    have = select(DsaStatementRow.decision_id).where(DsaStatementRow.decision_id.is_not(None))
    stmt = (
        select(DecisionRow)
        .where(DecisionRow.kind.in_(RESTRICTIVE), DecisionRow.id.not_in(have))
        .order_by(DecisionRow.id)
    )
    rows = []
    for decision in session.scalars(stmt):
        signals = list(
            session.scalars(
                select(SignalRow).where(
                    SignalRow.platform_id == decision.platform_id,
                    SignalRow.event_id == decision.event_id,
                )
            )
        )
        case = session.get(CaseRow, decision.case_id) if decision.case_id else None
        categories = sorted({s.category for s in signals} or set(case.categories if case else []))
        payload = build_statement(
            puid=make_puid(decision.platform_id, decision.id),
            decision=decision.kind,
            actions=list(decision.actions or []),
            categories=categories or ["user_report"],
            content_at=_content_time(session, decision, signals),
            applied_at=decision.at,
            automated_detection=bool(signals),
            automated_decision="AUTOMATED_DECISION_FULLY",
            from_notice="user_report" in categories,
            confirmed_illegal=False,
            has_media=any(s.media_id for s in signals),
            grounds=grounds,
        )
        row = DsaStatementRow(
            puid=payload["puid"],
            platform_id=decision.platform_id,
            decision_id=decision.id,
            case_id=decision.case_id,
            payload=payload,
            created_at=now,
        )
        session.add(row)
        rows.append(row)
    return rows


def _content_time(session: Session, decision: DecisionRow, signals: list[SignalRow]) -> datetime:
    for s in signals:
        if s.message_id and (m := session.get(MessageRow, s.message_id)):
            return m.sent_at
        if s.media_id and (md := session.get(MediaRow, s.media_id)):
            return md.sent_at
    return decision.at


def submit_pending(
    session: Session,
    client: DsaClient,
    *,
    actor: str = "system:dsa",
    now: datetime | None = None,
    commit_each_batch: bool = True,
) -> int:
    """Send every unsent statement; mark them sent with their Transparency Database uuid.

    With ``commit_each_batch`` (a plain session) each accepted batch is committed at once, so
    a later failure never makes Vigie send it again; inside a unit of work pass False.
    """
    now = now or datetime.now(UTC)
    rows = list(
        session.scalars(
            select(DsaStatementRow)
            .where(DsaStatementRow.submitted_at.is_(None))
            .order_by(DsaStatementRow.created_at)
        )
    )
    if not rows:
        return 0
    for start in range(0, len(rows), BATCH):  # commit per batch: a later failure keeps these
        batch = rows[start : start + BATCH]
        for row in batch:
            validate_statement(row.payload)
        created = client.submit_batch([r.payload for r in batch], start)
        by_puid = {c.get("puid"): c.get("uuid") for c in created}
        for row in batch:
            row.submitted_at, row.tdb_uuid = now, by_puid.get(row.puid)
        append_audit(
            session,
            actor,
            "dsa.submit",
            "transparency-database",
            {"count": len(batch), "endpoint": client.base_url},
            at=now,
        )
        if commit_each_batch:
            session.commit()
        else:
            session.flush()
    return len(rows)
