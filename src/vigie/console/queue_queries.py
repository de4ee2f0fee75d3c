"""The queues in SQL: counts, overdue counts and the top of one queue, without the backlog.

Why: the queue page and the dashboard read every waiting case into Python to route and
order it, 1 to 3 s at 10,000 cases (issue 19 asks 100 ms). Here routing is a CASE over the
case's columns, counting a GROUP BY, and the page reads the costly facts (the child's age,
the subject's other cases) only for the cases that can reach it: a score is the risk, the
recency and bounded bonuses (``queues.MAX_AGE_PART``, ``queues.REPEAT_WEIGHT``), so a case
whose risk and recency plus the largest bonuses stay below the page's last score is never
read. The order is the one ``queues.order`` gives on the whole queue (a test compares them).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Integer, Subquery, and_, case, exists, literal, or_, select
from sqlalchemy import func as sql
from sqlalchemy.orm import Session

from vigie.console import queues
from vigie.console.queries import (
    QueueCase,
    child_ages,
    is_waiting,
    other_case_counts,
    queue_case,
    reported_by_minors,
    utc,
)
from vigie.store.tables import AccountRow, CaseRow, PlatformRow, UserReportRow

EPSILON = 1e-9  # scores are sums of floats in another order: never prune on a rounding
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
            route(session).label("queue"),
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


def route(session: Session) -> ColumnElement[str]:
    """``queues.QUEUES``' rules as one CASE, first match wins (same order, same tests)."""
    return case(
        (CaseRow.status == "report_pending", "reports"),
        (CaseRow.status == "escalated", "escalated"),
        (_has_category(session, queues.URGENT_CATEGORIES), "urgent"),
        (
            or_(~_has_category(session, {"user_report"}, negate=True), _reported_by_minor()),
            "user_reports",
        ),
        else_="grooming",
    )


def _has_category(
    session: Session, values: Iterable[str], negate: bool = False
) -> ColumnElement[bool]:
    """Whether the case's JSON list of categories holds one of ``values`` (with ``negate``:
    one that is not among them), through the database's own JSON array reader."""
    if session.get_bind().dialect.name == "postgresql":
        items = sql.json_array_elements_text(CaseRow.categories).table_valued("value")
    else:
        items = sql.json_each(CaseRow.categories).table_valued("value")
    wanted = sorted(values)
    test = items.c.value.not_in(wanted) if negate else items.c.value.in_(wanted)
    return exists(select(literal(1)).select_from(items).where(test))


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
    for priority in sorted(found.priorities.get(key, {})):
        need = page - len(shown)
        if need <= 0:
            break
        best = _best_of(session, key, priority, need, now)
        shown += queues.order(_full(session, best), now)
    return shown


def _best_of(
    session: Session, key: str, priority: int, need: int, now: datetime
) -> list[QueueCase]:
    """The ``need`` best-scored cases of one priority of a queue, facts read for few."""
    stmt = select(CaseRow.id, CaseRow.risk, CaseRow.opened_at, CaseRow.updated_at).where(
        is_waiting(), CaseRow.priority == priority, route(session) == key
    )
    light = [
        _light(case_id, priority, risk, opened, updated)
        for case_id, risk, opened, updated in session.execute(stmt)
    ]
    known = {c.id: c.risk + queues.recency(c.updated_at, now) for c in light}
    bonus = queues.MAX_AGE_PART + queues.REPEAT_WEIGHT
    candidates = _reachable(light, known, bonus, need)
    counts = _facts(session, [c.id for c in candidates], other_case_counts)
    for c in candidates:
        c.other_cases = counts.get(c.id, 0)
        known[c.id] += queues.REPEAT_WEIGHT if c.other_cases > 0 else 0.0
    candidates = _reachable(candidates, known, queues.MAX_AGE_PART, need)
    return _with_ages(session, candidates, known, need, now)


def _light(
    case_id: str, priority: int, risk: float, opened: datetime, updated: datetime
) -> QueueCase:
    """A case with what its order needs; ``_full`` fills in the rest for the page."""
    at = datetime.now(UTC)
    return QueueCase(
        case_id, "", "", "", priority, risk, [], utc(opened) or at, utc(updated) or at, None
    )


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
    session: Session, candidates: list[QueueCase], known: dict[str, float], need: int, now: datetime
) -> list[QueueCase]:
    """Read the child's age of the candidates, most promising first, in growing batches,
    until no unread one can beat the ``need``-th exact score."""
    done: list[QueueCase] = []
    start, step = 0, max(need, 50)
    while start < len(candidates):
        batch = candidates[start : start + step]
        ages = _facts(session, [c.id for c in batch], child_ages)
        for c in batch:
            c.child_age = ages.get(c.id)
        done += batch
        start, step = start + step, step * 2
        if len(done) >= need and start < len(candidates):
            floor = heapq.nlargest(need, (queues.score(c, now) for c in done))[-1]
            if known[candidates[start].id] + queues.MAX_AGE_PART < floor - EPSILON:
                break
    return queues.order(done, now)[:need]


def _waiting_of(ids: Sequence[str]) -> Subquery:
    """Cases by id, in the shape the facts readers of ``queries`` join on."""
    return (
        select(CaseRow.id, CaseRow.platform_id, CaseRow.subject, CaseRow.conversation_id)
        .where(CaseRow.id.in_(list(ids)))
        .subquery()
    )


def _facts(
    session: Session, ids: Sequence[str], read: Callable[[Session, Subquery], dict[str, int]]
) -> dict[str, int]:
    """One facts reader over many ids, in chunks."""
    out: dict[str, int] = {}
    for i in range(0, len(ids), CHUNK):
        out.update(read(session, _waiting_of(ids[i : i + CHUNK])))
    return out


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
