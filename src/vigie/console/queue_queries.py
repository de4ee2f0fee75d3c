"""The queues in SQL: counts, overdue counts and the top of one queue, without the backlog.

Why: the queue page and the dashboard read every waiting case into Python to route and
order it, 1 to 3 s at 10,000 cases (issue 19 asks 100 ms). Here routing is a CASE over the
case's columns and counting a GROUP BY. Inside a queue, a score is the risk, the recency,
the repeat-subject part (all three read in one query) and the child's age, the costly fact:
its part is at most the youngest minor on record's, so the age is read only for the cases
that this bound can still bring onto the page. The order is the one ``queues.order`` gives
on the whole queue (a test compares them on SQLite and PostgreSQL).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Integer,
    Subquery,
    Text,
    and_,
    case,
    cast,
    exists,
    extract,
    literal,
    or_,
    select,
)
from sqlalchemy import func as sql
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.selectable import ScalarSelect

from vigie.console import queues
from vigie.console.queries import (
    QueueCase,
    is_waiting,
    queue_case,
    reported_by_minors,
    utc,
)
from vigie.store.tables import AccountRow, CaseRow, MessageRow, PlatformRow, UserReportRow

EPSILON = 1e-9  # scores are sums of floats in another order: never prune on a rounding
SLACK = 1e-6  # the database's recency (julian days on SQLite) against Python's: far less
CHUNK = 500  # ids per IN list (SQLite's and drivers' parameter limits)


@dataclass(slots=True)
class Backlog:
    """Per queue: how many cases wait, how many are overdue, and how many per priority."""

    counts: dict[str, int] = field(default_factory=dict)
    overdue: dict[str, int] = field(default_factory=dict)
    priorities: dict[str, dict[int, int]] = field(default_factory=dict)


def backlog(session: Session, now: datetime) -> Backlog:
    """One GROUP BY over the waiting cases, routed in SQL as ``queues.route`` routes them."""
    routed = (
        select(
            route().label("queue"),
            overdue(now).label("late"),
            CaseRow.priority.label("priority"),
        )
        .where(is_waiting())
        .subquery()
    )
    stmt = select(routed.c.queue, routed.c.late, routed.c.priority, sql.count()).group_by(
        routed.c.queue, routed.c.late, routed.c.priority
    )
    out = Backlog({k: 0 for k in queues.QUEUE_KEYS}, {k: 0 for k in queues.QUEUE_KEYS})
    for key, late, priority, n in session.execute(stmt):
        out.counts[key] += n
        out.overdue[key] += n if late else 0
        by_priority = out.priorities.setdefault(key, {})
        by_priority[priority] = by_priority.get(priority, 0) + n
    return out


def route() -> ColumnElement[str]:
    """``queues.QUEUES``' rules as one CASE, first match wins (same order, same tests)."""
    return case(
        (CaseRow.status == "report_pending", "reports"),
        (CaseRow.status == "escalated", "escalated"),
        (_has_category(queues.URGENT_CATEGORIES), "urgent"),
        (
            or_(~_has_category({"user_report"}, negate=True), _reported_by_minor()),
            "user_reports",
        ),
        else_="grooming",
    )


def _has_category(values: Iterable[str], negate: bool = False) -> ColumnElement[bool]:
    """Whether the case's JSON list of categories holds one of ``values`` (with ``negate``:
    one that is not among them).

    Read in the JSON text, not with the database's JSON functions (four times slower over a
    10,000-case backlog on SQLite): a list of strings keeps each category between double
    quotes, and a quote inside a string is escaped, so ``"name"`` is found only where an
    element is exactly ``name``; once every wanted element is cut out, a quote left means
    another element."""
    text: ColumnElement[str] = cast(CaseRow.categories, Text)
    if negate:
        for value in sorted(values):
            text = sql.replace(text, f'"{value}"', "")
        return text.contains('"')
    return or_(*(text.contains(f'"{value}"', autoescape=True) for value in sorted(values)))


def _reported_by_minor() -> ColumnElement[bool]:
    """A minor reported the case's subject (``QueueCase.minor_report``)."""
    return exists(
        select(literal(1))
        .select_from(UserReportRow)
        .join(
            AccountRow,
            and_(
                AccountRow.platform_id == UserReportRow.platform_id,
                AccountRow.pseudo_id == UserReportRow.reporter,
            ),
        )
        .where(
            UserReportRow.platform_id == CaseRow.platform_id,
            UserReportRow.subject == CaseRow.subject,
            AccountRow.age < 18,
        )
    )


def overdue(now: datetime) -> ColumnElement[int]:
    """1 when the case is past its priority's SLA (``queues.overdue``), else 0."""
    known = [p for p in queues.SLA if p != 4]
    late = [
        (and_(CaseRow.priority == p, CaseRow.opened_at < now - queues.SLA[p]), 1) for p in known
    ]
    rest = and_(CaseRow.priority.not_in(known), CaseRow.opened_at < now - queues.SLA[4])
    return case(*late, (rest, 1), else_=0).cast(Integer)


# The top of one queue -------------------------------------------------------------------------
def top(session: Session, key: str, found: Backlog, now: datetime, page: int) -> list[QueueCase]:
    """The first ``page`` cases of queue ``key`` in ``queues.order``'s order: priorities in
    turn (a lower one always comes first), the best scores of the last one needed."""
    shown: list[QueueCase] = []
    bound = _age_bound(session)
    for priority in sorted(found.priorities.get(key, {})):
        need = page - len(shown)
        if need <= 0:
            break
        best = _best_of(session, key, priority, need, now, bound)
        shown += queues.order(_full(session, best), now)
    return shown


def _age_bound(session: Session) -> float:
    """The most the child's age can add to a score: the youngest minor on record's part (one
    step down ``ix_accounts_age``), or an unknown age's when no minor is known. (A younger
    account still, written between this read and the ages', is counted from the next load
    of the page.)"""
    stmt = select(AccountRow.age).where(AccountRow.age < 18).order_by(AccountRow.age).limit(1)
    youngest = session.scalar(stmt)
    return max(queues.age_part(None), queues.age_part(youngest))


def _best_of(
    session: Session, key: str, priority: int, need: int, now: datetime, bound: float
) -> list[QueueCase]:
    """The ``need`` best-scored cases of one priority of a queue.

    The database orders the cases by their known part (risk, recency, other cases; the count
    walks ``ix_cases_subject``) and hands over the first ``limit``: no Python work for the
    rest of a long queue. The child's age is read for the few that the age can still bring
    onto the page; when the last unread case could still reach it, the limit grows."""
    known_sql = _known_part(session, now).label("known")  # ordered by name: computed once
    stmt = (
        select(
            CaseRow.id, CaseRow.risk, CaseRow.opened_at, CaseRow.updated_at, _others(), known_sql
        )
        .where(is_waiting(), CaseRow.priority == priority, route() == key)
        .order_by(known_sql.desc())
    )
    limit = 4 * need
    while True:
        rows = session.execute(stmt.limit(limit)).all()
        light = [_light(priority, *row[:5]) for row in rows]
        known = {
            c.id: c.risk + queues.recency(c.updated_at, now) + queues.repeat_part(c.other_cases)
            for c in light
        }
        best = _with_ages(session, _reachable(light, known, bound, need), known, need, now, bound)
        if len(rows) < limit or _settled(best, need, now, rows[-1][5] + SLACK + bound):
            return best
        limit *= 4


def _settled(best: list[QueueCase], need: int, now: datetime, unread: float) -> bool:
    """Whether no unread case (whose score is at most ``unread``) can enter ``best``."""
    return len(best) == need and queues.score(best[-1], now) > unread + EPSILON


def _others() -> ScalarSelect[int]:
    """How many cases the subject has, this one included (``ix_cases_subject``)."""
    other = aliased(CaseRow)
    return (
        select(sql.count())
        .where(other.platform_id == CaseRow.platform_id, other.subject == CaseRow.subject)
        .scalar_subquery()
    )


def _known_part(session: Session, now: datetime) -> ColumnElement[float]:
    """Risk, recency and the repeat part as the database computes them: only to order the
    cases (Python recomputes each exactly; they differ by far less than ``SLACK``)."""
    at = literal(now, type_=DateTime(timezone=True))
    if session.get_bind().dialect.name == "postgresql":
        hours = sql.greatest(extract("epoch", at - CaseRow.updated_at) / 3600.0, 0.0)
    else:
        hours = sql.max((sql.julianday(at) - sql.julianday(CaseRow.updated_at)) * 24.0, 0.0)
    repeat = case((_others() > 1, queues.REPEAT_WEIGHT), else_=0.0)
    return CaseRow.risk + queues.RECENCY_WEIGHT / (1.0 + hours) + repeat


def _light(
    priority: int, case_id: str, risk: float, opened: datetime, updated: datetime, count: int
) -> QueueCase:
    """A case with what its order needs; ``_full`` fills in the rest for the page."""
    at = datetime.now(UTC)
    case = QueueCase(
        case_id, "", "", "", priority, risk, [], utc(opened) or at, utc(updated) or at, None
    )
    case.other_cases = int(count) - 1
    return case


def _reachable(
    cases: list[QueueCase], known: dict[str, float], bonus: float, need: int
) -> list[QueueCase]:
    """The cases whose known part plus ``bonus`` can still reach the ``need``-th best known
    part (a score is at least its known part), best first."""
    ordered = sorted(cases, key=lambda c: -known[c.id])
    if len(ordered) <= need:
        return ordered
    floor = known[ordered[need - 1].id]
    return [c for c in ordered if known[c.id] + bonus >= floor - EPSILON]


def _with_ages(
    session: Session,
    candidates: list[QueueCase],
    known: dict[str, float],
    need: int,
    now: datetime,
    bound: float,
) -> list[QueueCase]:
    """Read the child's age of the candidates, most promising first, in growing batches,
    until no unread one can beat the ``need``-th exact score."""
    done: list[QueueCase] = []
    start, step = 0, max(need, 50)
    while start < len(candidates):
        batch = candidates[start : start + step]
        ages = _child_ages(session, [c.id for c in batch])
        for c in batch:
            c.child_age = ages.get(c.id)
        done += batch
        start, step = start + step, step * 2
        if len(done) >= need and start < len(candidates):
            floor = heapq.nlargest(need, (queues.score(c, now) for c in done))[-1]
            if known[candidates[start].id] + bound < floor - EPSILON:
                break
    return queues.order(done, now)[:need]


def _waiting_of(ids: Sequence[str]) -> Subquery:
    """Cases by id, in the shape the facts readers of ``queries`` join on."""
    return (
        select(CaseRow.id, CaseRow.platform_id, CaseRow.subject, CaseRow.conversation_id)
        .where(CaseRow.id.in_(list(ids)))
        .subquery()
    )


def _child_ages(session: Session, ids: Sequence[str]) -> dict[str, int]:
    """``queries.child_ages`` in one statement per chunk: the youngest minor who wrote in the
    case's conversation or to whom its subject wrote there, recipients read by the database's
    JSON array reader rather than decoded in Python and looked up again."""
    out: dict[str, int] = {}
    wrote, written_to = _minor_senders(), _minor_recipients(session)
    for i in range(0, len(ids), CHUNK):
        stmt = select(CaseRow.id, wrote, written_to).where(CaseRow.id.in_(ids[i : i + CHUNK]))
        for case_id, *ages in session.execute(stmt):
            known = [int(a) for a in ages if a is not None]
            if known:
                out[case_id] = min(known)
    return out


def _in_conversation() -> ColumnElement[bool]:
    return and_(
        MessageRow.platform_id == CaseRow.platform_id,
        MessageRow.conversation_id == CaseRow.conversation_id,
    )


def _minor_senders() -> ScalarSelect[int]:
    account = and_(
        AccountRow.platform_id == MessageRow.platform_id, AccountRow.pseudo_id == MessageRow.sender
    )
    return (
        select(sql.min(AccountRow.age))
        .select_from(MessageRow)
        .join(AccountRow, account)
        .where(_in_conversation(), MessageRow.sender != CaseRow.subject, AccountRow.age < 18)
        .scalar_subquery()
    )


def _minor_recipients(session: Session) -> ScalarSelect[int]:
    if session.get_bind().dialect.name == "postgresql":
        items = sql.json_array_elements_text(MessageRow.recipients).table_valued("value")
    else:
        items = sql.json_each(MessageRow.recipients).table_valued("value")
    # an IN over the message's recipients, not a join: SQLite would then walk every account
    # of the platform for each message instead of looking each recipient up
    account = and_(
        AccountRow.platform_id == MessageRow.platform_id,
        AccountRow.pseudo_id.in_(select(items.c.value)),
    )
    return (
        select(sql.min(AccountRow.age))
        .select_from(MessageRow)
        .join(AccountRow, account)
        .where(_in_conversation(), MessageRow.sender == CaseRow.subject, AccountRow.age < 18)
        .scalar_subquery()
    )


def _full(session: Session, best: list[QueueCase]) -> list[QueueCase]:
    """The shown cases with everything the page says (platform, status, categories...)."""
    if not best:
        return []
    by_id = {c.id: c for c in best}
    stmt = (
        select(CaseRow, PlatformRow.name)
        .join(PlatformRow, PlatformRow.id == CaseRow.platform_id, isouter=True)
        .where(CaseRow.id.in_(list(by_id)))
    )
    reported = reported_by_minors(session, _waiting_of(list(by_id)))
    out = []
    for row, name in session.execute(stmt):
        full = queue_case(row, name)
        full.child_age = by_id[row.id].child_age
        full.other_cases = by_id[row.id].other_cases
        full.minor_report = row.id in reported
        out.append(full)
    return out
