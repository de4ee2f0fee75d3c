"""Hash lists kept in the database: the lists, their entries, and a change log.

Why a change log: the API and worker processes keep an in-memory PDQ index; they poll
``hash_list_changes`` (monotonic ids) to apply additions and removals made by
``vigie lists import`` in another process, so a new hash is matchable within a second
without reloading millions of entries. Only hashes are stored, never media.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    inspect,
    literal,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from vigie.detect.media.source import Change, EntryView, ListInfo
from vigie.store.tables import Base

__all__ = ["EntryView", "SqlHashLists"]

DEFAULT_PDQ_THRESHOLD = 31


class HashListRow(Base):
    __tablename__ = "hash_lists"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    source: Mapped[str] = mapped_column(String(200), default="")
    label: Mapped[str] = mapped_column(String(64), default="known_imagery")
    pdq_threshold: Mapped[int] = mapped_column(Integer, default=DEFAULT_PDQ_THRESHOLD)
    action: Mapped[str] = mapped_column(String(32), default="block")
    requires_report: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HashEntryRow(Base):
    __tablename__ = "hash_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("hash_lists.id"), index=True)
    hash_type: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))  # sha256 of value: vPDQ values are long
    quality: Mapped[int] = mapped_column(Integer, default=100)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    __table_args__ = (UniqueConstraint("list_id", "hash_type", "digest", name="uq_hash_entry"),)


class HashListChangeRow(Base):
    __tablename__ = "hash_list_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("hash_entries.id"), index=True)
    op: Mapped[str] = mapped_column(String(8))  # "add" or "remove"
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


HASHLIST_TABLES: list[Table] = [
    HashListRow.__table__,  # type: ignore[list-item]
    HashEntryRow.__table__,  # type: ignore[list-item]
    HashListChangeRow.__table__,  # type: ignore[list-item]
]


def _now() -> datetime:
    return datetime.now(UTC)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def get_or_create_list(
    session: Session,
    name: str,
    *,
    source: str = "",
    label: str = "",
    threshold: int | None = None,
    action: str | None = None,
) -> HashListRow:
    """The list called ``name``; created with the given settings when new."""
    row = session.scalars(select(HashListRow).where(HashListRow.name == name)).first()
    if row is None:
        row = HashListRow(
            name=name,
            source=source,
            label=label or "known_imagery",
            pdq_threshold=DEFAULT_PDQ_THRESHOLD if threshold is None else threshold,
            action=action or "block",
            requires_report=True,
            created_at=_now(),
        )
        session.add(row)
        session.flush()
    return row


def all_lists(session: Session) -> list[HashListRow]:
    return list(session.scalars(select(HashListRow).order_by(HashListRow.id)))


def add_entry(
    session: Session, hash_list: HashListRow, hash_type: str, value: str, quality: int = 100
) -> HashEntryRow | None:
    """Add one hash; ``None`` when it is already live in that list (re-adding revives it)."""
    digest = _digest(value)
    row = session.scalars(
        select(HashEntryRow).where(
            HashEntryRow.list_id == hash_list.id,
            HashEntryRow.hash_type == hash_type,
            HashEntryRow.digest == digest,
        )
    ).first()
    if row is not None and row.removed_at is None:
        return None
    if row is None:
        row = HashEntryRow(
            list_id=hash_list.id,
            hash_type=hash_type,
            value=value,
            digest=digest,
            quality=quality,
            added_at=_now(),
        )
        session.add(row)
    else:
        row.removed_at, row.quality, row.added_at = None, quality, _now()
    session.flush()
    session.add(HashListChangeRow(entry_id=row.id, op="add", at=_now()))
    return row


def add_entries(
    session: Session, hash_list: HashListRow, items: Iterable[tuple[str, str, int]]
) -> int:
    """Add many (hash_type, value, quality) at once; returns how many were new or revived.

    A list of a million hashes has to go in within seconds, so no ORM object is made per
    hash: the list's existing entries are read once as plain rows, new ones go in through the
    driver's bulk path (``COPY`` on PostgreSQL, ``executemany`` on SQLite) and their change-log
    rows in one ``INSERT … SELECT``. The list's row stays locked meanwhile (PostgreSQL), so two
    imports into one list take turns.
    """
    _lock_list(session, hash_list)
    known = _known_entries(session, hash_list.id)
    now = _now()
    fresh: dict[tuple[str, str], tuple[Any, ...]] = {}
    revived: dict[int, int] = {}  # entry id: quality
    for hash_type, value, quality in items:
        digest = _digest(value)
        found = known.get((hash_type, digest))
        if found is None:
            fresh.setdefault((hash_type, digest), (hash_list.id, hash_type, value, digest,
                                                   quality, now))  # fmt: skip
        elif not found[1]:
            revived.setdefault(found[0], quality)
    before = session.scalar(select(func.coalesce(func.max(HashEntryRow.id), 0)))
    _insert_fresh(session, list(fresh.values()))
    _log_added_since(session, hash_list.id, int(before or 0), now)
    _revive(session, revived, now)
    return len(fresh) + len(revived)


def _lock_list(session: Session, hash_list: HashListRow) -> None:
    """Hold the list's row until commit (PostgreSQL; SQLite has one writer): the change log
    is written for the ids above the largest one seen, so no other import into this list may
    slip in between."""
    session.flush()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            select(HashListRow.id).where(HashListRow.id == hash_list.id).with_for_update()
        )


def _known_entries(session: Session, list_id: int) -> dict[tuple[str, str], tuple[int, bool]]:
    """(hash_type, digest): (entry id, live) for every entry the list ever had."""
    stmt = select(
        HashEntryRow.hash_type, HashEntryRow.digest, HashEntryRow.id, HashEntryRow.removed_at
    ).where(HashEntryRow.list_id == list_id)
    return {(t, d): (i, removed is None) for t, d, i, removed in session.execute(stmt)}


ENTRY_COLUMNS = ("list_id", "hash_type", "value", "digest", "quality", "added_at")


def _insert_fresh(session: Session, rows: list[tuple[Any, ...]]) -> None:
    """New entries through the driver's fastest path, in (type, digest) order: the unique
    index on them then grows at its end instead of at random pages. In file order, a million
    SQLite inserts spilled the index from the page cache and waited on the disk (35 s of wall
    time for 3 s of CPU at 200,000 hashes). Entry ids follow that order; nothing reads
    meaning into them."""
    if not rows:
        return
    rows.sort(key=lambda row: (row[1], row[3]))
    driver: Any = session.connection().connection.driver_connection
    if session.get_bind().dialect.name == "postgresql":
        columns = ", ".join(ENTRY_COLUMNS)
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY hash_entries ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    at = rows[0][5].astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    places = ", ".join("?" * len(ENTRY_COLUMNS))
    driver.cursor().executemany(
        f"INSERT INTO hash_entries ({', '.join(ENTRY_COLUMNS)}) VALUES ({places})",
        [(*row[:5], at) for row in rows],
    )


def _log_added_since(session: Session, list_id: int, before: int, at: datetime) -> None:
    """One "add" change per entry the import just inserted (ids above ``before``), in order."""
    added = (
        select(HashEntryRow.id, literal("add"), literal(at, DateTime(timezone=True)))
        .where(HashEntryRow.list_id == list_id, HashEntryRow.id > before)
        .order_by(HashEntryRow.id)
    )
    session.execute(insert(HashListChangeRow).from_select(["entry_id", "op", "at"], added))


def _revive(session: Session, revived: dict[int, int], at: datetime) -> None:
    """Entries removed once and listed again: live again, with a change each."""
    if not revived:
        return
    session.execute(
        update(HashEntryRow),
        [{"id": i, "removed_at": None, "quality": q, "added_at": at} for i, q in revived.items()],
    )
    session.execute(
        insert(HashListChangeRow), [{"entry_id": i, "op": "add", "at": at} for i in revived]
    )


def remove_entry(
    session: Session, hash_list: HashListRow, hash_type: str, value: str
) -> HashEntryRow | None:
    """Mark a hash removed (kept for audit); ``None`` when it was not live."""
    row = session.scalars(
        select(HashEntryRow).where(
            HashEntryRow.list_id == hash_list.id,
            HashEntryRow.hash_type == hash_type,
            HashEntryRow.digest == _digest(value),
            HashEntryRow.removed_at.is_(None),
        )
    ).first()
    if row is None:
        return None
    row.removed_at = _now()
    session.add(HashListChangeRow(entry_id=row.id, op="remove", at=_now()))
    session.flush()
    return row


def live_entries(session: Session, batch: int = 50_000) -> Iterator[EntryView]:
    """Every live entry, streamed (lists can hold millions)."""
    stmt = (
        select(
            HashEntryRow.id,
            HashEntryRow.list_id,
            HashEntryRow.hash_type,
            HashEntryRow.value,
            HashEntryRow.quality,
        )
        .where(HashEntryRow.removed_at.is_(None))
        .order_by(HashEntryRow.id)
        .execution_options(yield_per=batch)
    )
    for row in session.execute(stmt):
        yield EntryView(*row)


def last_change_id(session: Session) -> int:
    ids = session.scalars(
        select(HashListChangeRow.id).order_by(HashListChangeRow.id.desc()).limit(1)
    ).first()
    return int(ids or 0)


def changes_since(session: Session, change_id: int, limit: int = 100_000) -> list[Change]:
    """(change id, op, entry) after ``change_id``, oldest first."""
    stmt = (
        select(
            HashListChangeRow.id,
            HashListChangeRow.op,
            HashEntryRow.id,
            HashEntryRow.list_id,
            HashEntryRow.hash_type,
            HashEntryRow.value,
            HashEntryRow.quality,
        )
        .join(HashEntryRow, HashEntryRow.id == HashListChangeRow.entry_id)
        .where(HashListChangeRow.id > change_id)
        .order_by(HashListChangeRow.id)
        .limit(limit)
    )
    return [(r[0], r[1], EntryView(*r[2:])) for r in session.execute(stmt)]


def list_info(row: HashListRow) -> ListInfo:
    return ListInfo(
        row.id,
        row.name,
        row.label,
        row.source,
        row.pdq_threshold,
        row.action,
        row.requires_report,
    )


def entries_for(session: Session, ids: Iterable[int]) -> list[EntryView]:
    stmt = select(
        HashEntryRow.id,
        HashEntryRow.list_id,
        HashEntryRow.hash_type,
        HashEntryRow.value,
        HashEntryRow.quality,
    ).where(HashEntryRow.id.in_(list(ids)))
    return [EntryView(*row) for row in session.execute(stmt)]


class SqlHashLists:
    """The media matcher's :class:`~vigie.detect.media.source.HashListSource` on these tables.

    Each call is its own short session, so the matcher holds no connection between polls.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._have_tables = False

    def ready(self) -> bool:
        """Before ``vigie db upgrade`` (or the first import) there are no lists to read."""
        if not self._have_tables:
            self._have_tables = inspect(self.engine).has_table("hash_list_changes")
        return self._have_tables

    def last_change_id(self) -> int:
        with Session(self.engine) as session:
            return last_change_id(session)

    def lists(self) -> list[ListInfo]:
        with Session(self.engine) as session:
            return [list_info(row) for row in all_lists(session)]

    def live_entries(self) -> Iterator[EntryView]:
        with Session(self.engine) as session:
            yield from live_entries(session)

    def changes_since(self, change_id: int) -> list[Change]:
        with Session(self.engine) as session:
            return changes_since(session, change_id)
