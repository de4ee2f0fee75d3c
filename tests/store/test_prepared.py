"""The hot path's prepared statements read and write exactly what the ORM does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as hs
from sqlalchemy import insert, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.dialects.sqlite import DATETIME

from vigie.domain import Case, CaseStatus
from vigie.platforms import create_platform
from vigie.store.prepared import (
    _sqlite_datetime_bind,
    _sqlite_datetime_result,
    prepare,
)
from vigie.store.sql import SqlStore
from vigie.store.statements import CASES, MESSAGES
from vigie.store.tables import CaseRow, MessageRow

_SQLITE = sqlite.dialect()
_SA_BIND: Any = DATETIME().bind_processor(_SQLITE)
_SA_RESULT: Any = DATETIME().result_processor(_SQLITE, None)


@given(
    hs.datetimes(
        min_value=datetime(1, 1, 1),
        max_value=datetime(9999, 12, 31),
        timezones=hs.sampled_from([None, UTC, timezone(timedelta(hours=-5))]),
    )
)
def test_sqlite_datetimes_are_written_and_read_as_sqlalchemy_does(value: datetime) -> None:
    assert _SA_BIND is not None and _SA_RESULT is not None
    stored = _sqlite_datetime_bind(value)
    assert stored == _SA_BIND(value)
    assert _sqlite_datetime_result(stored) == _SA_RESULT(stored)


def test_remembered_datetime_texts_never_mix_up_equal_instants_with_other_offsets() -> None:
    utc = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    paris = utc.astimezone(timezone(timedelta(hours=2)))
    assert utc == paris  # the same instant: a cache keyed by the value alone would mix them
    for _ in range(2):  # the second round reads the remembered texts
        assert _sqlite_datetime_bind(utc) == "2026-11-28 08:00:00.000000" == _SA_BIND(utc)
        assert _sqlite_datetime_bind(paris) == "2026-11-28 10:00:00.000000" == _SA_BIND(paris)
        assert _sqlite_datetime_bind(utc.replace(tzinfo=None)) == "2026-11-28 08:00:00.000000"


def test_an_insert_that_would_skip_a_python_default_is_refused() -> None:
    with pytest.raises(ValueError, match="recipients"):
        prepare(insert(MESSAGES), _SQLITE, ("platform_id", "conversation_id", "sender", "text"))


def test_a_case_saved_on_the_hot_path_reads_back_through_the_orm(db_url: str) -> None:
    store = SqlStore(db_url)
    opened = datetime(2026, 11, 28, 17, 0, 5, 123456, tzinfo=UTC)
    with store.unit() as unit:
        pid = create_platform(unit, "prep").platform.id
        case = Case(pid, "subj", "case_p1", risk=0.75, categories=["secrecy"], opened_at=opened)
        case.requires_report = True
        unit.save_case(case)
    with store.unit() as unit:
        found = unit.open_case_for(pid, "subj")
        assert found is not None and found.id == "case_p1"
        assert found.requires_report is True and found.categories == ["secrecy"]
        assert found.opened_at == opened and found.status is CaseStatus.OPEN
        found.risk, found.categories = 0.9, ["secrecy", "threat"]
        unit.save_case(found)  # the same case, updated in place
    with store.read() as unit:
        row = unit.session.execute(select(CaseRow).where(CaseRow.platform_id == pid)).scalar_one()
        assert (row.risk, row.categories, row.requires_report) == (0.9, ["secrecy", "threat"], True)
        assert row.opened_at.replace(tzinfo=UTC) == opened
        assert unit.get_case(pid, "case_p1") == unit.open_case_for(pid, "subj")
    store.dispose()


def test_closed_cases_are_not_reopened_by_new_events(db_url: str) -> None:
    store = SqlStore(db_url)
    with store.unit() as unit:
        pid = create_platform(unit, "prep2").platform.id
        unit.save_case(Case(pid, "subj", "case_old", status=CaseStatus.DISMISSED))
        assert unit.open_case_for(pid, "subj") is None
    store.dispose()


def test_messages_written_on_the_hot_path_match_the_orm(db_url: str) -> None:
    from vigie.domain import Message

    store = SqlStore(db_url)
    at = datetime(2026, 11, 28, 17, 2, 11, tzinfo=UTC)
    with store.unit() as unit:
        pid = create_platform(unit, "prep3").platform.id
        mid = unit.add_message(Message(pid, "c", "s", "salut é", at, ["r1", "r2"], "ev"), 0.25)
    with store.read() as unit:
        row = unit.session.get(MessageRow, mid)
        assert row is not None
        assert (row.text, row.recipients, row.risk) == ("salut é", ["r1", "r2"], 0.25)
        assert row.sent_at.replace(tzinfo=UTC) == at
        assert [(m.sender, m.sent_at) for m in unit.history(pid, "c", 5)] == [("s", at)]
    store.dispose()


def test_case_columns_cover_the_table() -> None:
    """A column added to ``cases`` must be added to the hot path's statements too."""
    from vigie.store.statements import CASE_COLUMNS

    assert {c.key for c in CASE_COLUMNS} == {c.key for c in CASES.columns}
