"""Platform scope for a session: what a console officer may read and change, enforced once.

Why here, on the session, and not in each query: one Vigie may serve several platforms, and
an officer of one must never see another's cases. A filter written into forty console queries
is forgotten in the forty-first; this one is added by SQLAlchemy to every ORM SELECT, UPDATE
and DELETE the session runs, for every table that belongs to a platform (its ``platform_id``)
or to a case (its ``case_id``, through the case's platform), in joins and subqueries too.

What it does not cover, on purpose: INSERTs (a row is written for a case already read in
scope), raw SQL text and Core ``Table`` statements (the console uses neither), and reads that
must see every platform to stay correct, which say so with :data:`UNSCOPED` (the audit
chain's previous hash and its verification).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import ORMExecuteState, Session, with_loader_criteria
from sqlalchemy.orm.util import LoaderCriteriaOption

from vigie.store import schema
from vigie.store.tables import Base, CaseRow, PlatformRow

_KEY = "vigie.platform_scope"
# execution_options(**{UNSCOPED: True}): this statement reads across platforms on purpose.
UNSCOPED = "vigie_unscoped"


def restrict(session: Session, platforms: Iterable[str]) -> None:
    """From now on this session sees only ``platforms`` (none at all when empty)."""
    ids = tuple(sorted(set(platforms)))
    session.info[_KEY] = _criteria(ids)


def scoped(session: Session) -> bool:
    return _KEY in session.info


def _criteria(ids: tuple[str, ...]) -> list[LoaderCriteriaOption]:
    """One loader criterion per table that belongs to a platform or to a case."""
    options: list[LoaderCriteriaOption] = [
        with_loader_criteria(PlatformRow, lambda cls: cls.id.in_(ids), include_aliases=True)
    ]
    in_scope = select(CaseRow.id).where(CaseRow.platform_id.in_(ids)).scalar_subquery()
    for mapper in Base.registry.mappers:
        cls: Any = mapper.class_
        columns = mapper.columns
        if "platform_id" in columns:
            crit = lambda c: c.platform_id.in_(ids)  # noqa: E731
        elif "case_id" in columns:
            crit = lambda c: c.case_id.in_(in_scope)  # noqa: E731
        else:
            continue
        options.append(with_loader_criteria(cls, crit, include_aliases=True))
    return options


@event.listens_for(Session, "do_orm_execute")
def _add_scope(state: ORMExecuteState) -> None:
    options = state.session.info.get(_KEY)
    if options is None or state.execution_options.get(UNSCOPED):
        return
    if state.is_select or state.is_update or state.is_delete:
        state.statement = state.statement.options(*options)


assert schema  # every table module is imported, so every mapper is known before the first scope
