"""Hot-path statements compiled once and run straight on the database driver's cursor.

``Connection.execute`` spends about 60 µs per statement on execution contexts, parameter
processing and result objects: ten times what SQLite needs for the small indexed statements an
event runs, about a dozen per event. Here SQLAlchemy still compiles each statement, once per
dialect, so the SQL text, placeholders and casts are the dialect's own; and the column types'
own bind and result processors (JSON, SQLite's datetime strings, booleans) are applied, so
values read and written here are the same as through the ORM.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import DateTime, Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import TypeEngine

Processor = Callable[[Any], Any]


@dataclass(slots=True)
class Prepared:
    """One compiled statement: its SQL, how to pass its parameters, how to read its rows."""

    sql: str
    plan: tuple[tuple[str, Processor | None], ...]  # each parameter, and what converts it
    positional: bool  # the driver takes a tuple in placeholder order, else a mapping
    constants: dict[str, Any]  # values written in the statement itself
    dialect: Dialect
    columns: tuple[TypeEngine[Any], ...]  # the result columns' types

    results: tuple[Processor | None, ...] | None = None  # one per column, once rows come

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        if self.constants:
            values = {**self.constants, **values}
        args = [values[n] if p is None else p(values[n]) for n, p in self.plan]
        if self.positional:
            return args
        return dict(zip((n for n, _ in self.plan), args, strict=True))

    def rows(self, raws: Sequence[Sequence[Any]], description: Any) -> list[tuple[Any, ...]]:
        if self.results is None:
            # Some processors depend on the type the driver reports (PostgreSQL numerics).
            self.results = tuple(
                _result_processor(t, self.dialect, d[1])
                for t, d in zip(self.columns, description, strict=True)
            )
        results = self.results
        return [
            tuple(
                value if process is None or value is None else process(value)
                for value, process in zip(raw, results, strict=True)
            )
            for raw in raws
        ]


def prepare(stmt: ClauseElement, dialect: Dialect, keys: Sequence[str] = ()) -> Prepared:
    """Compile ``stmt`` for ``dialect``; ``keys`` names the columns an INSERT receives.

    An INSERT given ``keys`` must still set every column with a Python-side default: those
    defaults are applied by SQLAlchemy's execution, which this path skips.
    """
    _check_defaults(stmt, keys)
    compiled = cast(SQLCompiler, stmt.compile(dialect=dialect, column_keys=list(keys) or None))
    binds = compiled.binds
    names = compiled.positiontup if dialect.positional else list(binds)
    plan = tuple((name, _bind_processor(binds[name].type, dialect)) for name in names or ())
    constants = {n: b.value for n, b in binds.items() if not b.required}
    columns: Any = getattr(stmt, "selected_columns", None)
    if columns is None:
        columns = getattr(stmt, "exported_columns", ())
    types = tuple(c.type for c in columns)
    return Prepared(compiled.string, plan, dialect.positional, constants, dialect, types)


def _bind_processor(type_: TypeEngine[Any], dialect: Dialect) -> Processor | None:
    if dialect.name == "sqlite" and isinstance(type_, DateTime):
        return _sqlite_datetime_bind
    return type_.dialect_impl(dialect).bind_processor(dialect)


def _result_processor(type_: TypeEngine[Any], dialect: Dialect, coltype: Any) -> Processor | None:
    if dialect.name == "sqlite" and isinstance(type_, DateTime):
        return _sqlite_datetime_result
    return type_.dialect_impl(dialect).result_processor(dialect, coltype)


# SQLAlchemy stores SQLite datetimes as "YYYY-MM-DD HH:MM:SS.ffffff" (time zone dropped) and
# parses them with a regular expression; the same format through ``datetime``'s own C code
# costs a tenth, and the hot path converts a few dozen per event. Most of those are the
# event's own time again and again, so recent texts are remembered: a look-up costs a
# sixth of ``replace`` and ``isoformat``. The key holds the zone too: two times with
# different offsets can be equal instants and still have different texts here.
_RECENT_TEXTS: dict[tuple[datetime, Any], str] = {}
_RECENT_MAX = 512


def _sqlite_datetime_bind(value: Any) -> Any:
    if not isinstance(value, datetime):
        return value
    key = (value, value.tzinfo)
    text = _RECENT_TEXTS.get(key)
    if text is None:
        if len(_RECENT_TEXTS) >= _RECENT_MAX:
            _RECENT_TEXTS.clear()
        text = _RECENT_TEXTS[key] = value.replace(tzinfo=None).isoformat(" ", "microseconds")
    return text


def _sqlite_datetime_result(value: Any) -> Any:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def as_sqlite_returns(value: datetime | None) -> datetime | None:
    """A datetime as SQLite gives it back once written (naive, to the microsecond)."""
    return cast(datetime | None, _sqlite_datetime_result(_sqlite_datetime_bind(value)))


def _check_defaults(stmt: ClauseElement, keys: Sequence[str]) -> None:
    table = getattr(stmt, "table", None)
    if not keys or table is None or not getattr(stmt, "is_insert", False):
        return
    missing = [
        c.key
        for c in table.columns
        if c.default is not None and c.key not in keys and not c.primary_key
    ]
    if missing:
        raise ValueError(f"insert into {table.name} must set {', '.join(missing)}")


class Runner:
    """Runs prepared statements on one transaction's driver connection."""

    def __init__(self, driver_connection: Any) -> None:
        self.cursor = driver_connection.cursor()

    def execute(self, stmt: Prepared, values: Mapping[str, Any]) -> None:
        self.cursor.execute(stmt.sql, stmt.parameters(values))

    def execute_many(self, stmt: Prepared, rows: Sequence[Mapping[str, Any]]) -> None:
        self.cursor.executemany(stmt.sql, [stmt.parameters(r) for r in rows])

    def first(self, stmt: Prepared, values: Mapping[str, Any]) -> tuple[Any, ...] | None:
        self.cursor.execute(stmt.sql, stmt.parameters(values))
        raw = self.cursor.fetchone()
        return None if raw is None else stmt.rows([raw], self.cursor.description)[0]

    def all(self, stmt: Prepared, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        self.cursor.execute(stmt.sql, stmt.parameters(values))
        return stmt.rows(self.cursor.fetchall(), self.cursor.description)

    def all_planned_anew(self, stmt: Prepared, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Like :meth:`all`, never as a server-side prepared statement (psycopg): a look-up of
        a list of keys planned once, when the table was empty, stays a sequential scan as the
        table grows; planned with each list it takes the index."""
        self.cursor.execute(stmt.sql, stmt.parameters(values), prepare=False)
        return stmt.rows(self.cursor.fetchall(), self.cursor.description)

    def close(self) -> None:
        self.cursor.close()
