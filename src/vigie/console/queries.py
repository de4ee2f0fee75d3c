"""Every SQL statement the console runs, as functions taking a Session (the web layer has none).

Reads that the reports engineer already wrote (``load_case_facts``) are reused rather than
copied, so the console and the evidence package tell the same story about a case.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    Subquery,
    Text,
    and_,
    cast,
    delete,
    exists,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from vigie.pseudonym import unseal
from vigie.reports.approvals import record_approval
from vigie.reports.case_facts import CaseFacts, load_case_facts
from vigie.reports.retention import active_hold, on_case_status
from vigie.settings import get_settings
from vigie.store.console_tables import (
    AppealRow,
    CaseActionRow,
    CaseNoteRow,
    ConsoleMembershipRow,
    ConsoleSessionRow,
    ConsoleUserRow,
    LoginBackoffRow,
    PracticeAttemptRow,
)
from vigie.store.outbox import enqueue_actions
from vigie.store.reports_tables import ApprovalRow, ComplaintRow
from vigie.store.scope import UNSCOPED
from vigie.store.tables import (
    AccountRow,
    AuditRow,
    CaseRow,
    DecisionRow,
    MessageRow,
    PlatformRow,
    SignalRow,
    UserReportRow,
)

ACTIVE = ("open", "in_review", "escalated", "report_pending")
IN_REVIEW = ("open", "in_review", "escalated")


def utc(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back; everything stored is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# Users and sessions -----------------------------------------------------------------------------
def create_user(
    session: Session,
    email: str,
    role: str,
    password_hash: str,
    now: datetime,
    platforms: Iterable[str] = (),
    all_platforms: bool = False,
) -> ConsoleUserRow:
    """A new account in ``platforms`` (or every platform).

    Naming none is allowed only on an install with at most one platform: the account then sees
    every platform, as every account did before platforms were scoped, so a single-platform
    install needs no extra step. With several, someone must say which."""
    platforms = set(platforms)
    if not platforms and not all_platforms:
        if count_platforms(session) > 1:
            raise ValueError("several platforms: name the account's platforms (or all of them)")
        all_platforms = True
    row = ConsoleUserRow(
        email=email.lower(),
        role=role,
        password_hash=password_hash,
        active=True,
        all_platforms=all_platforms,
        created_at=now,
        lang="",  # no choice yet: pages follow the browser's language until one is saved
    )
    session.add(row)
    session.flush()
    session.add_all(ConsoleMembershipRow(user_id=row.id, platform_id=p) for p in platforms)
    return row


def count_platforms(session: Session) -> int:
    stmt = select(func.count()).select_from(PlatformRow).execution_options(**{UNSCOPED: True})
    return int(session.scalar(stmt) or 0)


def platforms_by_id(session: Session) -> dict[str, str]:
    """id -> name of the platforms this session may see (all of them for an unscoped one)."""
    rows = session.execute(select(PlatformRow.id, PlatformRow.name).order_by(PlatformRow.name))
    return {pid: name for pid, name in rows}


def memberships(session: Session, user_ids: Iterable[int]) -> dict[int, frozenset[str]]:
    """Each account's platforms, whoever asks (an admin must know an account's other platforms
    to know whether they may manage it)."""
    ids = list(user_ids)
    stmt = (
        select(ConsoleMembershipRow.user_id, ConsoleMembershipRow.platform_id)
        .where(ConsoleMembershipRow.user_id.in_(ids))
        .execution_options(**{UNSCOPED: True})
    )
    found: dict[int, set[str]] = {i: set() for i in ids}
    for user_id, platform_id in session.execute(stmt):
        found[user_id].add(platform_id)
    return {i: frozenset(p) for i, p in found.items()}


def platform_scope(session: Session, user: ConsoleUserRow) -> frozenset[str] | None:
    """The platforms an account sees; None for every platform."""
    return None if user.all_platforms else memberships(session, [user.id])[user.id]


def set_memberships(
    session: Session, user: ConsoleUserRow, wanted: set[str], managed: frozenset[str] | None
) -> tuple[frozenset[str], frozenset[str]]:
    """Make the account's memberships among ``managed`` (None: every platform) be ``wanted``;
    memberships in platforms the admin does not manage stay. (before, after)."""
    before = memberships(session, [user.id])[user.id]
    keep = before if managed is None else before - managed
    allowed = wanted if managed is None else wanted & managed
    after = frozenset(keep | allowed)
    session.execute(
        delete(ConsoleMembershipRow)
        .where(ConsoleMembershipRow.user_id == user.id)
        .execution_options(**{UNSCOPED: True})
    )
    session.add_all(ConsoleMembershipRow(user_id=user.id, platform_id=p) for p in sorted(after))
    return before, after


def user_by_email(session: Session, email: str) -> ConsoleUserRow | None:
    stmt = select(ConsoleUserRow).where(ConsoleUserRow.email == email.strip().lower())
    return session.scalars(stmt).first()


def user_by_id(session: Session, user_id: int) -> ConsoleUserRow | None:
    return session.get(ConsoleUserRow, user_id)


def list_users(session: Session) -> list[ConsoleUserRow]:
    return list(session.scalars(select(ConsoleUserRow).order_by(ConsoleUserRow.email)))


def change_user(session: Session, user: ConsoleUserRow, change: str) -> None:
    """Admin changes: unlock (ends every back-off of the e-mail), deactivate (ends every
    session at once), activate."""
    if change == "unlock":
        clear_backoff(session, user.email)
    elif change in ("deactivate", "activate"):
        user.active = change == "activate"


def backed_off_until(session: Session, email: str, address: str, now: datetime) -> datetime | None:
    """When this (e-mail, address) pair may try again; None when it may now."""
    row = session.get(LoginBackoffRow, (email, address))
    until = utc(row.blocked_until) if row is not None else None
    return until if until is not None and until > now else None


def record_login_failure(
    session: Session,
    email: str,
    address: str,
    now: datetime,
    wait: Callable[[int], timedelta],
    forget_after: timedelta,
) -> None:
    """Count one failure of the pair and set its wait (``wait(failures in a row)``).

    The row is created by an insert that ignores a twin and then read ``FOR UPDATE``, so two
    processes failing at once count two failures. Pairs quiet for ``forget_after`` are dropped
    on the way: the table stays as small as the recent guessing.
    """
    stale = LoginBackoffRow.last_failure < now - forget_after
    session.execute(delete(LoginBackoffRow).where(stale))
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(LoginBackoffRow)
        .values(email=email, address=address, failures=0, last_failure=now)
        .on_conflict_do_nothing()
    )
    key = (email, address)
    row = session.get(LoginBackoffRow, key, with_for_update=True, populate_existing=True)
    assert row is not None  # inserted just above, in this transaction
    row.failures = (row.failures or 0) + 1
    row.last_failure = now
    row.blocked_until = now + wait(row.failures)


def clear_backoff(session: Session, email: str, address: str | None = None) -> None:
    """A right password ends its pair's back-off; an admin's unlock ends every pair of the
    e-mail."""
    stmt = delete(LoginBackoffRow).where(LoginBackoffRow.email == email)
    if address is not None:
        stmt = stmt.where(LoginBackoffRow.address == address)
    session.execute(stmt)


def backed_off_emails(session: Session, now: datetime) -> set[str]:
    """E-mails that wait, from at least one address (the users page shows them locked)."""
    stmt = select(LoginBackoffRow.email).where(LoginBackoffRow.blocked_until > now).distinct()
    return set(session.scalars(stmt))


def create_session(
    session: Session, token_hash: str, user_id: int, csrf: str, now: datetime, lifetime: timedelta
) -> None:
    """A new server-side session; sessions that ended over a day ago are dropped on the way."""
    session.execute(
        delete(ConsoleSessionRow).where(ConsoleSessionRow.expires_at < now - timedelta(days=1))
    )
    session.add(
        ConsoleSessionRow(
            token_hash=token_hash,
            user_id=user_id,
            csrf=csrf,
            created_at=now,
            last_seen=now,
            expires_at=now + lifetime,
        )
    )


def live_session(
    session: Session, token_hash: str, now: datetime, idle: timedelta
) -> tuple[ConsoleSessionRow, ConsoleUserRow] | None:
    """The session and its user when the session is neither revoked, expired nor idle too long."""
    row = session.get(ConsoleSessionRow, token_hash)
    if row is None or row.revoked_at is not None:
        return None
    expires, seen = utc(row.expires_at), utc(row.last_seen)
    if (expires and expires <= now) or (seen and seen + idle <= now):
        return None
    user = session.get(ConsoleUserRow, row.user_id)
    if user is None or not user.active:
        return None
    row.last_seen = now
    return row, user


def end_sessions(session: Session, user_id: int, now: datetime) -> None:
    """Every live session of a person ends (password reset, new role)."""
    session.execute(
        update(ConsoleSessionRow)
        .where(ConsoleSessionRow.user_id == user_id, ConsoleSessionRow.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def revoke_session(session: Session, token_hash: str, now: datetime) -> None:
    session.execute(
        update(ConsoleSessionRow)
        .where(ConsoleSessionRow.token_hash == token_hash)
        .values(revoked_at=now)
    )


def save_wellness(
    session: Session,
    user: ConsoleUserRow,
    *,
    blur: bool,
    greyscale: bool,
    mute: bool,
    break_minutes: int,
    lang: str,
) -> None:
    user.blur, user.greyscale, user.mute = blur, greyscale, mute
    user.break_minutes, user.lang = break_minutes, lang


# Queues -----------------------------------------------------------------------------------------
@dataclass(slots=True)
class QueueCase:
    """What the queue needs to route and order a case."""

    id: str
    platform: str
    subject: str
    status: str
    priority: int
    risk: float
    categories: list[str]
    opened_at: datetime
    updated_at: datetime
    assignee: str | None
    child_age: int | None = None
    other_cases: int = 0
    minor_report: bool = False  # a minor reported the subject: shown under User reports


def is_waiting() -> ColumnElement[bool]:
    """Cases waiting for a person: open or escalated ones, and reports awaiting approval (an
    approved report waits for submission by ``vigie.reports``, not for an officer)."""
    awaiting_approval = exists().where(
        CaseActionRow.case_id == CaseRow.id, CaseActionRow.report_status == "pending"
    )
    return or_(
        CaseRow.status.in_(IN_REVIEW),
        and_(CaseRow.status == "report_pending", awaiting_approval),
    )


def _waiting(limit: int) -> Subquery:
    """The most urgent ``limit`` waiting cases, so a huge backlog never hides a P1."""
    return (
        select(CaseRow.id, CaseRow.platform_id, CaseRow.subject, CaseRow.conversation_id)
        .where(is_waiting())
        .order_by(CaseRow.priority, CaseRow.opened_at)
        .limit(limit)
        .subquery()
    )


def active_cases(session: Session, limit: int = 5000) -> list[QueueCase]:
    """The waiting cases with what ordering needs: the youngest child and repeat subjects.

    Ages and repeats are computed by joins on the waiting set (no long IN lists), so the cost
    grows with the backlog, not with the whole history. The pages no longer read it (a second
    at 10,000 cases): ``queue_queries`` counts and orders in SQL, and its tests compare it with
    this plain reading of every case."""
    waiting = _waiting(limit)
    stmt = (
        select(CaseRow, PlatformRow.name)
        .join(waiting, waiting.c.id == CaseRow.id)
        .join(PlatformRow, PlatformRow.id == CaseRow.platform_id, isouter=True)
    )
    cases = [queue_case(c, name) for c, name in session.execute(stmt)]
    ages = child_ages(session, waiting)
    others = other_case_counts(session, waiting)
    reported = reported_by_minors(session, waiting)
    for case in cases:
        case.child_age = ages.get(case.id)
        case.other_cases = others.get(case.id, 0)
        case.minor_report = case.id in reported
    return cases


def queue_case(c: CaseRow, platform_name: str | None) -> QueueCase:
    """A case as the queues see it, before its facts (child's age, other cases) are read."""
    return QueueCase(
        c.id,
        platform_name or c.platform_id,
        c.subject,
        c.status,
        c.priority,
        c.risk,
        list(c.categories or []),
        utc(c.opened_at) or datetime.now(UTC),
        utc(c.updated_at) or datetime.now(UTC),
        c.assignee,
    )


def reported_by_minors(session: Session, waiting: Subquery) -> set[str]:
    """Waiting cases whose subject a minor reported (a join on the waiting set)."""
    stmt = (
        select(waiting.c.id)
        .join(
            UserReportRow,
            and_(
                UserReportRow.platform_id == waiting.c.platform_id,
                UserReportRow.subject == waiting.c.subject,
            ),
        )
        .join(
            AccountRow,
            and_(
                AccountRow.platform_id == UserReportRow.platform_id,
                AccountRow.pseudo_id == UserReportRow.reporter,
            ),
        )
        .where(AccountRow.age < 18)
        .distinct()
    )
    return set(session.scalars(stmt))


def _same_conversation(waiting: Subquery) -> ColumnElement[bool]:
    return and_(
        MessageRow.platform_id == waiting.c.platform_id,
        MessageRow.conversation_id == waiting.c.conversation_id,
    )


def child_ages(session: Session, waiting: Subquery) -> dict[str, int]:
    """The youngest minor in each case's conversation: minors who wrote in it, and the
    recipients of the subject's messages (distinct recipient lists only, grouped in SQL)."""
    out: dict[str, int] = {}
    senders = (
        select(waiting.c.id, func.min(AccountRow.age))
        .join(MessageRow, _same_conversation(waiting))
        .join(
            AccountRow,
            and_(
                AccountRow.platform_id == MessageRow.platform_id,
                AccountRow.pseudo_id == MessageRow.sender,
            ),
        )
        .where(AccountRow.age < 18, MessageRow.sender != waiting.c.subject)
        .group_by(waiting.c.id)
    )
    for case_id, age in session.execute(senders):
        if age is not None:
            out[case_id] = int(age)
    as_text = cast(MessageRow.recipients, Text)
    recipients = (
        select(waiting.c.id, waiting.c.platform_id, as_text)
        .join(MessageRow, _same_conversation(waiting))
        .where(MessageRow.sender == waiting.c.subject)
        .group_by(waiting.c.id, waiting.c.platform_id, as_text)
    )
    wanted: dict[str, set[tuple[str, str]]] = {}
    for case_id, platform_id, raw in session.execute(recipients):
        for who in json.loads(raw or "[]"):
            wanted.setdefault(case_id, set()).add((platform_id, str(who)))
    ages = _minor_ages(session, set().union(*wanted.values()) if wanted else set())
    for case_id, people in wanted.items():
        found = [ages[p] for p in people if p in ages]
        if found:
            out[case_id] = min([*found, out.get(case_id, 99)])
    return out


def _minor_ages(session: Session, who: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Ages of the minors among ``who``, asked per platform and in chunks (parameter limits).

    One platform and a plain IN list, not an IN over (platform, id) pairs: SQLite answers the
    pairs by scanning every account, once per chunk; this walks the primary key."""
    out: dict[tuple[str, str], int] = {}
    by_platform: dict[str, list[str]] = {}
    for platform_id, pseudo_id in sorted(who):
        by_platform.setdefault(platform_id, []).append(pseudo_id)
    for platform_id, people in by_platform.items():
        for i in range(0, len(people), 400):
            stmt = select(AccountRow.pseudo_id, AccountRow.age).where(
                AccountRow.platform_id == platform_id,
                AccountRow.pseudo_id.in_(people[i : i + 400]),
                AccountRow.age < 18,
            )
            rows = session.execute(stmt)
            out.update({(platform_id, w): int(a) for w, a in rows if a is not None})
    return out


def other_case_counts(session: Session, waiting: Subquery) -> dict[str, int]:
    """How many other cases each waiting case's subject has (open or closed)."""
    stmt = (
        select(waiting.c.id, func.count(CaseRow.id))
        .join(
            CaseRow,
            and_(
                CaseRow.platform_id == waiting.c.platform_id, CaseRow.subject == waiting.c.subject
            ),
        )
        .group_by(waiting.c.id)
    )
    return {case_id: int(n) - 1 for case_id, n in session.execute(stmt)}


def claim_case(
    session: Session, case_id: str, who: str, statuses: Iterable[str], now: datetime
) -> bool:
    """Take a case only if nobody holds it: one conditional UPDATE, so two officers racing for
    the same case cannot both win (the database serialises the row update)."""
    result = session.execute(
        update(CaseRow)
        .where(
            CaseRow.id == case_id, CaseRow.assignee.is_(None), CaseRow.status.in_(list(statuses))
        )
        .values(assignee=who, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def release_case(session: Session, case_id: str, who: str, now: datetime) -> bool:
    result = session.execute(
        update(CaseRow)
        .where(CaseRow.id == case_id, CaseRow.assignee == who)
        .values(assignee=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


# Case view ---------------------------------------------------------------------------------------
@dataclass(slots=True)
class Highlight:
    message_id: int | None
    media_id: int | None
    category: str
    explanation: str
    score: float
    detector: str
    span: tuple[int, int] | None


@dataclass(slots=True)
class ThreadMessage:
    """One message of a whole case, with every signal on it (from any of the subject's cases)
    and whether Vigie held it, and what an officer did with the hold since."""

    id: int
    conversation_id: str
    sender: str
    recipients: list[str]
    text: str
    at: datetime
    event_id: str | None
    highlights: list[Highlight]
    held: bool = False
    hold_outcome: str | None = None  # "release_held" or "keep_held"


@dataclass(slots=True)
class Thread:
    conversation_id: str
    messages: list[ThreadMessage]


@dataclass(slots=True)
class CaseView:
    row: CaseRow
    facts: CaseFacts
    highlights: list[Highlight]
    other_cases: list[CaseRow]
    minor_contacts: list[tuple[str, str, int]]  # (conversation, minor, age)
    notes: list[CaseNoteRow]
    actions: list[CaseActionRow]
    appeals: list[AppealRow]
    approvals: list[ApprovalRow] = field(default_factory=list)
    threads: list[Thread] = field(default_factory=list)
    earlier_actions: list[CaseActionRow] = field(default_factory=list)


def get_case(session: Session, case_id: str) -> CaseRow | None:
    return session.get(CaseRow, case_id)


def case_view(session: Session, case_id: str) -> CaseView | None:
    row = session.get(CaseRow, case_id)
    if row is None:
        return None
    signals = session.scalars(
        select(SignalRow).where(SignalRow.case_id == case_id).order_by(SignalRow.at, SignalRow.id)
    )
    highlights = [_highlight(s) for s in signals]
    others = list(
        session.scalars(
            select(CaseRow)
            .where(
                CaseRow.platform_id == row.platform_id,
                CaseRow.subject == row.subject,
                CaseRow.id != case_id,
            )
            .order_by(CaseRow.opened_at.desc())
            .limit(50)
        )
    )
    case_ids = [case_id, *(o.id for o in others)]
    return CaseView(
        row,
        load_case_facts(session, case_id),
        highlights,
        others,
        _minor_contacts(session, row),
        case_notes(session, case_id),
        case_actions(session, case_id),
        case_appeals(session, case_id),
        list(session.scalars(select(ApprovalRow).where(ApprovalRow.case_id == case_id))),
        whole_case_threads(session, row, case_ids),
        _actions_of(session, case_ids[1:]),
    )


# Whole cases ---------------------------------------------------------------------------------
MAX_THREAD_MESSAGES = 2000


def _signals_of(session: Session, row: CaseRow, case_ids: list[str]) -> list[SignalRow]:
    """Every signal on the subject's cases, and those (caseless ones too: earlier flags below
    the case threshold) in the conversations these cases touch."""
    by_case = list(session.scalars(select(SignalRow).where(SignalRow.case_id.in_(case_ids))))
    conversations = {s.conversation_id for s in by_case if s.conversation_id}
    if row.conversation_id:
        conversations.add(row.conversation_id)
    if not conversations:
        return by_case
    seen = {s.id for s in by_case}
    in_conversations = session.scalars(
        select(SignalRow).where(
            SignalRow.platform_id == row.platform_id,
            SignalRow.conversation_id.in_(sorted(conversations)),
        )
    )
    return by_case + [s for s in in_conversations if s.id not in seen]


def whole_case_threads(session: Session, row: CaseRow, case_ids: list[str]) -> list[Thread]:
    """The case as one story: every conversation of the subject's flags, each in time order,
    highlights from every signal, held messages marked (the latest messages when huge)."""
    signals = _signals_of(session, row, case_ids)
    conversations = sorted({s.conversation_id for s in signals if s.conversation_id})
    if row.conversation_id and row.conversation_id not in conversations:
        conversations.insert(0, row.conversation_id)
    if not conversations:
        return []
    stmt = (
        select(MessageRow)
        .where(
            MessageRow.platform_id == row.platform_id,
            MessageRow.conversation_id.in_(conversations),
        )
        .order_by(MessageRow.sent_at.desc(), MessageRow.id.desc())
        .limit(MAX_THREAD_MESSAGES)
    )
    messages = list(reversed(list(session.scalars(stmt))))
    by_message: dict[int, list[Highlight]] = {}
    for s in signals:
        if s.message_id is not None:
            by_message.setdefault(s.message_id, []).append(_highlight(s))
    held = _held_events(session, row.platform_id, {m.event_id for m in messages if m.event_id})
    outcomes = _hold_outcomes(session, case_ids)
    threads: dict[str, list[ThreadMessage]] = {c: [] for c in conversations}
    for m in messages:
        threads[m.conversation_id].append(
            ThreadMessage(
                m.id,
                m.conversation_id,
                m.sender,
                list(m.recipients or []),
                m.text,
                utc(m.sent_at) or datetime.now(UTC),
                m.event_id,
                by_message.get(m.id, []),
                m.event_id in held,
                outcomes.get(m.event_id or ""),
            )
        )
    return [Thread(c, msgs) for c, msgs in threads.items() if msgs]


def _highlight(s: SignalRow) -> Highlight:
    span = (
        (s.span_start, s.span_end) if s.span_start is not None and s.span_end is not None else None
    )
    return Highlight(s.message_id, s.media_id, s.category, s.explanation, s.score, s.detector, span)


def _held_events(session: Session, platform_id: str, events: set[str]) -> set[str]:
    """Which of these events Vigie's policy held (a ``hold`` decision on the event)."""
    out: set[str] = set()
    wanted = sorted(events)
    for i in range(0, len(wanted), 400):
        stmt = select(DecisionRow.event_id).where(
            DecisionRow.platform_id == platform_id,
            DecisionRow.kind == "hold",
            DecisionRow.event_id.in_(wanted[i : i + 400]),
        )
        out.update(session.scalars(stmt))
    return out


def _hold_outcomes(session: Session, case_ids: list[str]) -> dict[str, str]:
    """Held event id → what an officer did (the latest release or keep wins)."""
    stmt = (
        select(CaseActionRow.event_id, CaseActionRow.kind)
        .where(
            CaseActionRow.case_id.in_(case_ids),
            CaseActionRow.kind.in_(("release_held", "keep_held")),
        )
        .order_by(CaseActionRow.at, CaseActionRow.id)
    )
    return {str(event): str(kind) for event, kind in session.execute(stmt) if event}


def _actions_of(session: Session, case_ids: list[str]) -> list[CaseActionRow]:
    """Decisions taken on the subject's earlier cases: part of this case's history."""
    if not case_ids:
        return []
    stmt = (
        select(CaseActionRow)
        .where(CaseActionRow.case_id.in_(case_ids))
        .order_by(CaseActionRow.at, CaseActionRow.id)
    )
    return list(session.scalars(stmt))


@dataclass(slots=True)
class Person:
    """Someone in a case as officers read them: a letter, role and age, never a raw hash."""

    pseudo_id: str
    letter: str
    age: int | None
    age_source: str
    is_subject: bool
    account_created: datetime | None
    restricted: bool


def _letter(n: int) -> str:
    """A, B, … Z, AA, AB…: short aliases that stay stable within one page."""
    out = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        out = chr(65 + rest) + out
    return out


def people_of(
    session: Session, row: CaseRow, threads: list[Thread], extra: Iterable[str] = ()
) -> dict[str, Person]:
    """Everyone who wrote or was written to in the case: the subject first, then in order of
    appearance; ages, age sources and account ages from the accounts table."""
    order = [row.subject]
    for thread in threads:
        for m in thread.messages:
            order.extend([m.sender, *m.recipients])
    order.extend(extra)
    wanted = list(dict.fromkeys(order))
    accounts: dict[str, AccountRow] = {}
    for i in range(0, len(wanted), 400):
        stmt = select(AccountRow).where(
            AccountRow.platform_id == row.platform_id,
            AccountRow.pseudo_id.in_(wanted[i : i + 400]),
        )
        accounts.update({a.pseudo_id: a for a in session.scalars(stmt)})
    out = {}
    for n, pid in enumerate(wanted):
        acc = accounts.get(pid)
        out[pid] = Person(
            pid,
            _letter(n),
            acc.age if acc else None,
            str(acc.age_source) if acc and acc.age_source else "unknown",
            pid == row.subject,
            utc(acc.created_at or acc.first_seen) if acc else None,
            bool(acc and acc.restricted),
        )
    return out


def platform_account_id(session: Session, platform_id: str, pseudo_id: str) -> str | None:
    """The platform's own id for a pseudonymised account (sealed at rest, opened on demand)."""
    account = session.get(AccountRow, (platform_id, pseudo_id))
    platform = session.get(PlatformRow, platform_id)
    if account is None or platform is None:
        return None
    return unseal(platform.pseudonym_secret, account.external_ref)


def held_message(session: Session, case: CaseRow, message_id: int) -> MessageRow | None:
    """A message of this case that Vigie held (None when it is not one)."""
    message = session.get(MessageRow, message_id)
    if message is None or message.platform_id != case.platform_id or not message.event_id:
        return None
    held = _held_events(session, case.platform_id, {message.event_id})
    return message if held else None


def pending_report_of(session: Session, case_id: str) -> CaseActionRow | None:
    stmt = select(CaseActionRow).where(
        CaseActionRow.case_id == case_id, CaseActionRow.report_status == "pending"
    )
    return session.scalars(stmt).first()


def _minor_contacts(session: Session, row: CaseRow) -> list[tuple[str, str, int]]:
    """Conversations in which the subject wrote to a minor (latest 2000 messages)."""
    stmt = (
        select(MessageRow.conversation_id, MessageRow.recipients)
        .where(MessageRow.platform_id == row.platform_id, MessageRow.sender == row.subject)
        .order_by(MessageRow.id.desc())
        .limit(2000)
    )
    pairs = {(conv, r) for conv, recipients in session.execute(stmt) for r in recipients or []}
    ages = _minor_ages(session, {(row.platform_id, r) for _, r in pairs})
    return sorted(
        (conv, r, ages[(row.platform_id, r)]) for conv, r in pairs if (row.platform_id, r) in ages
    )


def case_notes(session: Session, case_id: str) -> list[CaseNoteRow]:
    return list(
        session.scalars(
            select(CaseNoteRow).where(CaseNoteRow.case_id == case_id).order_by(CaseNoteRow.at)
        )
    )


def case_actions(session: Session, case_id: str) -> list[CaseActionRow]:
    return list(
        session.scalars(
            select(CaseActionRow)
            .where(CaseActionRow.case_id == case_id)
            .order_by(CaseActionRow.at, CaseActionRow.id)
        )
    )


def case_appeals(session: Session, case_id: str) -> list[AppealRow]:
    return list(
        session.scalars(
            select(AppealRow).where(AppealRow.case_id == case_id).order_by(AppealRow.recorded_at)
        )
    )


def add_note(session: Session, case_id: str, author: str, text: str, now: datetime) -> None:
    session.add(CaseNoteRow(case_id=case_id, author=author, text=text, at=now))


# Decisions, reports, appeals ----------------------------------------------------------------
def record_action(
    session: Session,
    case: CaseRow,
    *,
    kind: str,
    rule: str,
    reason: str,
    actor: str,
    now: datetime,
    new_status: str,
    authority: str | None = None,
    keep_claim: bool = False,
    event_id: str | None = None,
    outcome: str | None = None,
    why: str = "",
) -> CaseActionRow:
    """Store a human decision on the case's history and move the case on. Measures (warn,
    restrict, suspend, a held message released or kept) keep the case open and claimed, so
    decisions stack; only escalating, preparing a report and closing hand it on."""
    row = CaseActionRow(
        case_id=case.id,
        platform_id=case.platform_id,
        subject=case.subject,
        kind=kind,
        rule=rule,
        reason=reason,
        actor=actor,
        at=now,
        report_status="pending" if kind == "prepare_report" else None,
        authority=authority,
        overturned=False,
        event_id=event_id,
        outcome=outcome,
    )
    session.add(row)
    case.status, case.updated_at = new_status, now
    if not keep_claim:
        case.assignee = None
    if kind == "prepare_report":
        case.requires_report = True
    if kind in ("restrict_contact", "suspend"):
        account = session.get(AccountRow, (case.platform_id, case.subject))
        if account is not None:
            account.restricted = True
    session.flush()
    _tell_platform(session, case, row, why)
    _hold_evidence(session, case, "actioned" if kind in _MEASURES else new_status, actor, now)
    return row


_MEASURES = ("warn", "restrict_contact", "suspend")


def _hold_evidence(session: Session, case: CaseRow, status: str, actor: str, now: datetime) -> None:
    """A measure or a confirming status holds the evidence (once: stacked decisions and the
    close do not add a hold row each)."""
    if active_hold(session, case.id, now) is None:
        on_case_status(
            session, case.id, status, actor=actor, settings=get_settings().retention, now=now
        )


# What a person decides reaches the platform like what Vigie decides: by signed webhook.
_PLATFORM_ACTIONS = {
    "warn": "warn",
    "restrict_contact": "restrict_contact",
    "suspend": "suspend",
    "release_held": "release_message",
}


def _tell_platform(session: Session, case: CaseRow, action: CaseActionRow, why: str) -> None:
    """Queue the webhook for a decision the platform must apply (in this transaction). A
    released message is named by its own event id, so the platform knows which to deliver."""
    name = _PLATFORM_ACTIONS.get(action.kind)
    platform = session.get(PlatformRow, case.platform_id)
    if name is None or platform is None:
        return
    account = session.get(AccountRow, (case.platform_id, case.subject))
    subject = unseal(platform.pseudonym_secret, account.external_ref if account else None)
    enqueue_actions(
        session,
        platform.id,
        platform.webhook_url,
        platform.webhook_secret,
        action.event_id or f"console-action-{action.id}",
        subject or case.subject,
        case.id,
        [name],
        at=action.at,
        extra={
            name: {
                "by": "safety_officer",
                "rule": action.rule,
                "reason": {"rules": [action.rule] if action.rule else [], "text": why},
            }
        },
    )


def get_action(session: Session, action_id: int) -> CaseActionRow | None:
    return session.get(CaseActionRow, action_id)


def approved_reports(session: Session, limit: int = 50) -> list[CaseActionRow]:
    stmt = (
        select(CaseActionRow)
        .where(CaseActionRow.report_status == "approved")
        .order_by(CaseActionRow.reviewed_at.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def pending_reports(session: Session) -> list[CaseActionRow]:
    return list(
        session.scalars(
            select(CaseActionRow)
            .where(CaseActionRow.report_status == "pending")
            .order_by(CaseActionRow.at)
        )
    )


def review_report(
    session: Session,
    action: CaseActionRow,
    *,
    reviewer: str,
    role: str,
    approve: bool,
    now: datetime,
) -> bool:
    """Four eyes, enforced in the UPDATE itself: only a pending report, only by someone other
    than its author, and only once even if two référents click at the same moment. Approvals
    go through ``vigie.reports.approvals.record_approval``, the check every sender relies on.
    False when the report was not (or no longer) reviewable.
    """
    verdict = "approved" if approve else "rejected"
    result = session.execute(
        update(CaseActionRow)
        .where(
            CaseActionRow.id == action.id,
            CaseActionRow.report_status == "pending",
            CaseActionRow.actor != reviewer,
        )
        .values(report_status=verdict, reviewed_by=reviewer, reviewed_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.refresh(action)
    case = session.get(CaseRow, action.case_id)
    if approve:  # the reports module's own four-eyes record (and its audit entry)
        record_approval(
            session,
            action.case_id,
            authority=action.authority or "ncmec",
            author=action.actor,
            approver=reviewer,
            role=role,
            at=now,
        )
    elif case is not None:
        case.status, case.requires_report = "escalated", False
    if case is not None:
        if approve:  # back to the queues: the report is sent from the case, which is then closed
            case.status = "in_review"
        case.updated_at = now
    return True


def record_appeal(
    session: Session, action: CaseActionRow, statement: str, recorded_by: str, now: datetime
) -> AppealRow:
    """An appeal is also a DSA Art. 20 complaint, so transparency counts include it."""
    complaint = ComplaintRow(
        platform_id=action.platform_id, case_id=action.case_id, received_at=now
    )
    session.add(complaint)
    session.flush()
    row = AppealRow(
        case_id=action.case_id,
        action_id=action.id,
        complaint_id=complaint.id,
        statement=statement,
        recorded_by=recorded_by,
        recorded_at=now,
    )
    session.add(row)
    session.flush()
    return row


def get_appeal(session: Session, appeal_id: int) -> AppealRow | None:
    return session.get(AppealRow, appeal_id)


def decide_appeal(
    session: Session, appeal: AppealRow, *, decider: str, overturn: bool, reason: str, now: datetime
) -> None:
    appeal.outcome = "overturned" if overturn else "upheld"
    appeal.decided_by, appeal.decided_at, appeal.reason = decider, now, reason
    if appeal.complaint_id is not None:
        complaint = session.get(ComplaintRow, appeal.complaint_id)
        if complaint is not None:
            complaint.outcome, complaint.decided_at = appeal.outcome, now
    action = session.get(CaseActionRow, appeal.action_id)
    if overturn and action is not None:
        action.overturned = True
        account = session.get(AccountRow, (action.platform_id, action.subject))
        if account is not None and action.kind in ("restrict_contact", "suspend"):
            account.restricted = False


def open_appeals(session: Session) -> list[AppealRow]:
    return list(
        session.scalars(
            select(AppealRow).where(AppealRow.outcome.is_(None)).order_by(AppealRow.recorded_at)
        )
    )


# Audit, decision log, dashboard ----------------------------------------------------------------
def count_audit(session: Session, action: str) -> int:
    """How many audit entries record this action (dead letters, for one)."""
    stmt = select(func.count()).select_from(AuditRow).where(AuditRow.action == action)
    return int(session.scalar(stmt) or 0)


def audit_page(
    session: Session,
    *,
    limit: int,
    before: int | None = None,
    actor: str | None = None,
    action: str | None = None,
) -> list[AuditRow]:
    stmt = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
    if before is not None:
        stmt = stmt.where(AuditRow.id < before)
    if actor:
        stmt = stmt.where(AuditRow.actor == actor)
    if action:
        stmt = stmt.where(AuditRow.action == action)
    return list(session.scalars(stmt))


def audit_for_target(session: Session, target: str, action: str | None = None) -> list[AuditRow]:
    stmt = select(AuditRow).where(AuditRow.target == target).order_by(AuditRow.id)
    if action:
        stmt = stmt.where(AuditRow.action == action)
    return list(session.scalars(stmt))


def decision_log(session: Session) -> list[CaseActionRow]:
    return list(session.scalars(select(CaseActionRow).order_by(CaseActionRow.at, CaseActionRow.id)))


def first_decision_delays(session: Session) -> list[float]:
    """Seconds from a case opening to its first human decision, one value per decided case."""
    first = (
        select(CaseActionRow.case_id, func.min(CaseActionRow.at).label("first_at"))
        .group_by(CaseActionRow.case_id)
        .subquery()
    )
    stmt = select(CaseRow.opened_at, first.c.first_at).join(first, first.c.case_id == CaseRow.id)
    out = []
    for opened, decided in session.execute(stmt):
        a, b = utc(opened), utc(decided)
        if a is not None and b is not None:
            out.append(max(0.0, (b - a).total_seconds()))
    return out


def signal_counts(session: Session, since: datetime) -> list[tuple[str, str, str, int]]:
    """(UTC day, category, language, signals) since ``since``, counted by the database: the
    dashboard used to read every signal of its 14 days (25,000 rows at 10,000 cases)."""
    day = _utc_day(session, SignalRow.at)
    lang = func.coalesce(func.nullif(SignalRow.details["lang"].as_string(), ""), "unknown")
    stmt = (
        select(day, SignalRow.category, lang, func.count())
        .where(SignalRow.at >= since)
        .group_by(day, SignalRow.category, lang)
    )
    return [(str(d), str(c), str(lg), int(n)) for d, c, lg, n in session.execute(stmt)]


def _utc_day(session: Session, at: Any) -> ColumnElement[str]:
    """The UTC date of a timestamp as YYYY-MM-DD (SQLite keeps UTC text, PostgreSQL a
    timestamptz read in the session's time zone)."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", at), "YYYY-MM-DD", type_=String)
    return func.substr(at, 1, 10, type_=String)


def appeal_outcomes(session: Session) -> dict[str, int]:
    stmt = (
        select(AppealRow.outcome, func.count())
        .where(AppealRow.outcome.is_not(None))
        .group_by(AppealRow.outcome)
    )
    return {str(o): int(n) for o, n in session.execute(stmt)}


def count_actions(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(CaseActionRow)).scalar_one())


def details_of(row: AuditRow) -> dict[str, Any]:
    return dict(row.details or {})


# Practice ---------------------------------------------------------------------------------------
def record_practice(
    session: Session,
    user_id: int,
    key: str,
    decision: str,
    channel: str,
    signs: list[str],
    feedback: Any,
    now: datetime,
) -> None:
    """One answer to a practice case, in its own table (never a case, signal or decision)."""
    session.add(
        PracticeAttemptRow(
            user_id=user_id,
            case_key=key,
            decision=decision,
            channel=channel,
            signs=signs,
            verdict=feedback.decision,
            channel_ok=feedback.channel_ok,
            passed=feedback.passed,
            at=now,
        )
    )


def practice_results(session: Session, user_id: int) -> dict[str, bool]:
    """Practice case key → whether this person's latest answer passed."""
    stmt = (
        select(PracticeAttemptRow.case_key, PracticeAttemptRow.passed)
        .where(PracticeAttemptRow.user_id == user_id)
        .order_by(PracticeAttemptRow.at, PracticeAttemptRow.id)
    )
    return {str(k): bool(p) for k, p in session.execute(stmt)}


@dataclass(slots=True)
class PracticeProgress:
    email: str
    role: str
    attempted: int
    passed: int
    answers: int
    last: datetime | None


def practice_progress(session: Session) -> list[PracticeProgress]:
    """Each officer's progress: cases tried, cases whose latest answer passed, answers given."""
    out = []
    for user in list_users(session):
        results = practice_results(session, user.id)
        count = select(func.count(), func.max(PracticeAttemptRow.at)).where(
            PracticeAttemptRow.user_id == user.id
        )
        answers, last = session.execute(count).one()
        out.append(
            PracticeProgress(
                user.email, user.role, len(results), sum(results.values()), int(answers), utc(last)
            )
        )
    return out
