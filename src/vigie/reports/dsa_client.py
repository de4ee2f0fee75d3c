"""Submitting statements of reasons to the DSA Transparency Database, and recording them.

``POST {base}/api/v1/statements`` with ``{"statements": [...]}``, at most 100 per call, Bearer
token; ``201`` on success with each statement's ``uuid``; ``422`` with errors indexed as
``statement_<n>`` (then none of the batch was created). Transient failures are retried, after
``Retry-After`` when the server gives one.

Why the recovery: a batch the database stored but answered 502/504 comes back, when resent, as
422 with ``errors.existing_puids``; resending forever would never get past it. The PUIDs it
names are checked one by one (``GET /api/v1/statement/existing-puid/{puid}``: 302 found, 404
not), those found are marked sent, and the rest of the batch is sent again.

Statements cover the automated restrictions (hold, block) and the restrictions officers decide
in the console (suspension, contact restriction), each saying truthfully whether a person
confirmed illegality and how automated the decision was.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigie.reports.audit import append_audit
from vigie.reports.dsa import Grounds, build_statement, make_puid, validate_statement
from vigie.store.console_tables import CaseActionRow
from vigie.store.reports_tables import ApprovalRow, DsaStatementRow
from vigie.store.tables import CaseRow, DecisionRow, MediaRow, MessageRow, SignalRow, UserReportRow

BATCH = 100
PRODUCTION_URL = "https://transparency.dsa.ec.europa.eu"
RESTRICTIVE = ("hold", "block")
# Console decisions that restrict the user (Art. 17). A warning restricts nothing: no statement.
CONSOLE_RESTRICTIONS = {
    "suspend": {"decision_account": "DECISION_ACCOUNT_SUSPENDED"},
    "restrict_contact": {"decision_provision": "DECISION_PROVISION_PARTIAL_SUSPENSION"},
}
RETRY_STATUSES = (429, 500, 502, 503, 504)
MAX_RETRY_AFTER = 300.0


class DsaSubmitError(Exception):
    def __init__(self, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}

    @property
    def existing_puids(self) -> list[str]:
        """PUIDs the database already holds (a batch stored before a lost answer)."""
        value = self.errors.get("existing_puids") or []
        return [str(p) for p in value] if isinstance(value, list) else []


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
        response = self._call("POST", url, json={"statements": batch})
        if response.status_code == 201:
            return list(response.json().get("statements", []))
        raise _error(response, offset)

    def puid_exists(self, puid: str) -> bool:
        """Whether the database holds a statement with this PUID (302 found, 404 not)."""
        url = f"{self.base_url}/api/v1/statement/existing-puid/{puid}"
        response = self._call("GET", url, follow_redirects=False)
        if response.status_code in (302, 404):
            return response.status_code == 302
        raise _error(response, 0)

    def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request, retried on lost connections, 429 and 5xx: after ``Retry-After`` when
        the server gives it, else with exponential backoff. Lookups go through here too, so a
        rate-limited recovery waits instead of leaving its batch stuck."""
        for attempt in range(self.retries + 1):
            try:
                response = self.http.request(method, url, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout):
                if attempt == self.retries:
                    raise
            else:
                if response.status_code not in RETRY_STATUSES or attempt == self.retries:
                    return response
                wait = _retry_after(response)
                if wait is not None:
                    self.sleep(wait)
                    continue
            self.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asks to wait, capped; None if it did not say. ``Retry-After`` is a
    number of seconds or an HTTP date (RFC 9110 section 10.2.3); a date in the past is 0."""
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


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
    """A statement for every restriction that has none yet (Art. 17: every one), automated
    (hold, block) or decided by an officer in the console (suspension, contact restriction)."""
    now = now or datetime.now(UTC)
    rows = [_automated(session, d, grounds, now) for d in _unstated_decisions(session)]
    rows += [_console(session, a, grounds, now) for a in _unstated_actions(session)]
    session.add_all(rows)
    return rows


def _unstated_decisions(session: Session) -> list[DecisionRow]:
    have = select(DsaStatementRow.decision_id).where(DsaStatementRow.decision_id.is_not(None))
    stmt = (
        select(DecisionRow)
        .where(DecisionRow.kind.in_(RESTRICTIVE), DecisionRow.id.not_in(have))
        .order_by(DecisionRow.id)
    )
    return list(session.scalars(stmt))


def _unstated_actions(session: Session) -> list[CaseActionRow]:
    stmt = (
        select(CaseActionRow)
        .where(CaseActionRow.kind.in_(list(CONSOLE_RESTRICTIONS)))
        .order_by(CaseActionRow.id)
    )
    have = set(session.scalars(select(DsaStatementRow.puid)))
    return [a for a in session.scalars(stmt) if console_puid(a) not in have]


def console_puid(action: CaseActionRow) -> str:
    """The PUID of an officer's restriction: ``vigie-<platform>-console-<action id>``."""
    return make_puid(action.platform_id, f"console-{action.id}")


def _confirmed_illegal(session: Session, case_id: str | None) -> bool:
    """A person confirmed illegality: a referent approved a report of the case to an authority."""
    if not case_id:
        return False
    stmt = select(ApprovalRow.id).where(ApprovalRow.case_id == case_id).limit(1)
    return session.scalars(stmt).first() is not None


def _automated(
    session: Session, decision: DecisionRow, grounds: Grounds, now: datetime
) -> DsaStatementRow:
    """Vigie's own hold or block: fully automated, from automated detection when signals led."""
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
        content_at=_content_time(session, decision.at, signals),
        applied_at=decision.at,
        automated_detection=any(s.category != "user_report" for s in signals),
        automated_decision="AUTOMATED_DECISION_FULLY",
        from_notice="user_report" in categories,
        confirmed_illegal=_confirmed_illegal(session, decision.case_id),
        has_media=any(s.media_id for s in signals),
        grounds=grounds,
    )
    return _row(payload, decision.platform_id, decision.id, decision.case_id, now)


def _console(
    session: Session, action: CaseActionRow, grounds: Grounds, now: datetime
) -> DsaStatementRow:
    """An officer's restriction: not automated; detection automated when Vigie's signals led."""
    signals = list(
        session.scalars(
            select(SignalRow).where(SignalRow.case_id == action.case_id).order_by(SignalRow.at)
        )
    )
    case = session.get(CaseRow, action.case_id)
    categories = sorted({s.category for s in signals} | set(case.categories if case else []))
    reported = session.scalars(  # a report after the measure did not lead to it
        select(UserReportRow.id).where(
            UserReportRow.platform_id == action.platform_id,
            UserReportRow.subject == action.subject,
            UserReportRow.at <= action.at,
        )
    ).first()
    payload = build_statement(
        puid=console_puid(action),
        decision=action.kind,
        actions=[],
        categories=categories or ["user_report"],
        content_at=_content_time(session, action.at, signals),
        applied_at=action.at,
        automated_detection=any(s.category != "user_report" for s in signals),
        automated_decision="AUTOMATED_DECISION_NOT_AUTOMATED",
        from_notice=reported is not None,
        confirmed_illegal=_confirmed_illegal(session, action.case_id),
        has_media=any(s.media_id for s in signals),
        grounds=grounds,
        restriction=CONSOLE_RESTRICTIONS[action.kind],
    )
    return _row(payload, action.platform_id, None, action.case_id, now)


def _row(
    payload: dict[str, Any],
    platform_id: str,
    decision_id: int | None,
    case_id: str | None,
    now: datetime,
) -> DsaStatementRow:
    return DsaStatementRow(
        puid=payload["puid"],
        platform_id=platform_id,
        decision_id=decision_id,
        case_id=case_id,
        payload=payload,
        created_at=now,
    )


def _content_time(session: Session, fallback: datetime, signals: list[SignalRow]) -> datetime:
    for s in signals:
        if s.message_id and (m := session.get(MessageRow, s.message_id)):
            return m.sent_at
        if s.media_id and (md := session.get(MediaRow, s.media_id)):
            return md.sent_at
    return fallback


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
    a later failure never makes Vigie send it again; inside a unit of work pass False. A batch
    refused for PUIDs the database already holds is recovered (see the module docstring).
    """
    now = now or datetime.now(UTC)
    rows = list(
        session.scalars(
            select(DsaStatementRow)
            .where(DsaStatementRow.submitted_at.is_(None))
            .order_by(DsaStatementRow.created_at, DsaStatementRow.puid)
        )
    )
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        for row in batch:
            validate_statement(row.payload)
        _send_batch(session, client, batch, start, actor=actor, now=now)
        if commit_each_batch:
            session.commit()
        else:
            session.flush()
    return len(rows)


def _send_batch(
    session: Session,
    client: DsaClient,
    batch: list[DsaStatementRow],
    offset: int,
    *,
    actor: str,
    now: datetime,
) -> None:
    try:
        created = client.submit_batch([r.payload for r in batch], offset)
    except DsaSubmitError as exc:
        if not exc.existing_puids:
            raise
        rest = _recover(session, client, batch, exc.existing_puids, actor=actor, now=now)
        created = client.submit_batch([r.payload for r in rest], offset) if rest else []
        batch = rest
    by_puid = {c.get("puid"): c.get("uuid") for c in created}
    for row in batch:
        row.submitted_at, row.tdb_uuid = now, by_puid.get(row.puid)
    if batch:
        append_audit(
            session,
            actor,
            "dsa.submit",
            "transparency-database",
            {"count": len(batch), "endpoint": client.base_url},
            at=now,
        )


def _recover(
    session: Session,
    client: DsaClient,
    batch: list[DsaStatementRow],
    existing: list[str],
    *,
    actor: str,
    now: datetime,
) -> list[DsaStatementRow]:
    """Mark sent the statements the database holds (checked one by one); the rest to resend."""
    named = set(existing)
    found = [r for r in batch if r.puid in named and client.puid_exists(r.puid)]
    for row in found:
        row.submitted_at = now
    append_audit(
        session,
        actor,
        "dsa.recovered",
        "transparency-database",
        {"already_stored": [r.puid for r in found], "endpoint": client.base_url},
        at=now,
    )
    kept = {r.puid for r in found}
    return [r for r in batch if r.puid not in kept]
