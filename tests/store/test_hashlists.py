"""Hash lists in the database: bulk additions (COPY on PostgreSQL), revivals, the change log."""

from __future__ import annotations

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from vigie.store import hashlists as repo
from vigie.store.hashlists import HashListChangeRow, SqlHashLists

PDQ = [f"{n:064x}" for n in range(1, 6)]


def _add(url: str, items: list[tuple[str, str, int]], name: str = "hotline") -> int:
    with Session(create_engine(url)) as session, session.begin():
        return repo.add_entries(session, repo.get_or_create_list(session, name), items)


def _remove(url: str, value: str) -> None:
    with Session(create_engine(url)) as session, session.begin():
        repo.remove_entry(session, repo.get_or_create_list(session, "hotline"), "pdq", value)


def test_bulk_add_skips_duplicates_revives_removed_and_logs_each_change(db_url: str) -> None:
    assert _add(db_url, [("pdq", v, 90) for v in [*PDQ[:3], PDQ[0]]]) == 3
    assert _add(db_url, [("pdq", PDQ[2], 90), ("md5", "a" * 32, 100)]) == 1
    _remove(db_url, PDQ[1])
    assert _add(db_url, [("pdq", PDQ[1], 70), ("pdq", PDQ[1], 60)]) == 1
    source = SqlHashLists(create_engine(db_url))
    live = {(e.hash_type, e.value): e.quality for e in source.live_entries()}
    assert live == {("pdq", PDQ[0]): 90, ("pdq", PDQ[1]): 70, ("pdq", PDQ[2]): 90,
                    ("md5", "a" * 32): 100}  # fmt: skip
    changes = source.changes_since(0)
    assert [op for _, op, _ in changes] == ["add"] * 4 + ["remove", "add"]
    assert sorted(e.value for _, _, e in changes[:3]) == PDQ[:3]
    assert [c[0] for c in changes] == sorted(c[0] for c in changes)


def test_lists_do_not_see_each_others_entries(db_url: str) -> None:
    _add(db_url, [("pdq", PDQ[0], 100)], name="one")
    assert _add(db_url, [("pdq", PDQ[0], 100)], name="two") == 1
    with Session(create_engine(db_url)) as session:
        logged = session.scalars(select(HashListChangeRow.entry_id)).all()
    assert len(logged) == len(set(logged)) == 2


def test_values_go_in_as_they_are_whatever_their_characters(db_url: str) -> None:
    """COPY's text format (PostgreSQL) escapes backslash, tab and line ends; vPDQ JSON, with
    its quotes and commas, and any such character come back as they went in."""
    vpdq = '["' + PDQ[0] + ',100,0.000", "' + PDQ[1] + ',90,1.000"]'
    odd = "a\\b\tc\nd\re\\\\N"
    assert _add(db_url, [("vpdq", vpdq, 100), ("pdq", odd, 100), ("pdq", "\\N", 100)]) == 3
    live = {e.value for e in SqlHashLists(create_engine(db_url)).live_entries()}
    assert live == {vpdq, odd, "\\N"}
