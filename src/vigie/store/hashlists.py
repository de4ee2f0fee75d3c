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
    """One addition or removal of an entry, in the order the matchers apply them.

    ``entry_id`` names a ``hash_entries`` row without a foreign key: on PostgreSQL its
    trigger cost 16.5 s of a million-hash import, and it guarded against nothing that can
    happen, since entries are never deleted (removal sets ``removed_at``) and each change is
    written in the transaction that writes its entry (docs/media.md)."""

    __tablename__ = "hash_list_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(Integer, index=True)
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


# New entries of one import: hash type -> digest -> (value, quality), first listing wins.
Fresh = dict[str, dict[str, tuple[str, int]]]


def add_entries(
    session: Session, hash_list: HashListRow, items: Iterable[tuple[str, str, int]]
) -> int:
    """Add many (hash_type, value, quality) at once; returns how many were new or revived.

    A list of a million hashes has to go in within seconds, so no ORM object is made per
    hash: the list's existing entries are read once as plain rows, new ones go in through the
    driver's bulk path (``COPY`` on PostgreSQL, ``executemany`` on SQLite) and their change-log
    rows in one ``INSERT … SELECT``, all in the caller's one transaction. The list's row stays
    locked meanwhile (PostgreSQL), so two imports into one list take turns.
    """
    _lock_list(session, hash_list)
    known = _known_entries(session, hash_list.id)
    fresh, revived = _sort_out(items, known)
    now = _now()
    before = session.scalar(select(func.coalesce(func.max(HashEntryRow.id), 0)))
    _insert_fresh(session, hash_list.id, fresh, now)
    _log_added_since(session, hash_list.id, int(before or 0), now)
    _revive(session, revived, now)
    return sum(len(by_digest) for by_digest in fresh.values()) + len(revived)


def _sort_out(
    items: Iterable[tuple[str, str, int]], known: dict[tuple[str, str], tuple[int, bool]]
) -> tuple[Fresh, dict[int, int]]:
    """Which items are new to the list, and which were removed once (entry id: quality).

    The loop runs once per hash of the file, so it does no more than it must: one SHA-256,
    one look-up in what the list had (none for a new list), one dictionary insert."""
    sha256 = hashlib.sha256
    fresh: Fresh = {}
    revived: dict[int, int] = {}
    for hash_type, value, quality in items:
        digest = sha256(value.encode()).hexdigest()
        found = known.get((hash_type, digest)) if known else None
        if found is None:
            fresh.setdefault(hash_type, {}).setdefault(digest, (value, quality))
        elif not found[1]:
            revived.setdefault(found[0], quality)
    return fresh, revived


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


def _in_index_order(list_id: int, fresh: Fresh, at: Any) -> Iterator[tuple[Any, ...]]:
    """The new entries' rows in (type, digest) order: the unique index on them then grows at
    its end instead of at random pages. In file order, a million SQLite inserts spilled the
    index from the page cache and waited on the disk (35 s of wall time for 3 s of CPU at
    200,000 hashes). Sorting plain digests, one type at a time, costs a quarter of sorting
    (type, digest) tuples. Entry ids follow that order; nothing reads meaning into them."""
    for hash_type in sorted(fresh):
        by_digest = fresh[hash_type]
        for digest in sorted(by_digest):
            value, quality = by_digest[digest]
            yield list_id, hash_type, value, digest, quality, at


def _insert_fresh(session: Session, list_id: int, fresh: Fresh, at: datetime) -> None:
    """New entries through the driver's fastest path, in index order."""
    if not fresh:
        return
    driver: Any = session.connection().connection.driver_connection
    if session.get_bind().dialect.name == "postgresql":
        _copy_entries(driver, _in_index_order(list_id, fresh, at.isoformat(" ")))
        return
    text_at = at.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    places = ", ".join("?" * len(ENTRY_COLUMNS))
    cursor = driver.cursor()
    try:
        cursor.executemany(
            f"INSERT INTO hash_entries ({', '.join(ENTRY_COLUMNS)}) VALUES ({places})",
            _in_index_order(list_id, fresh, text_at),
        )
    finally:
        cursor.close()


COPY_ROWS = 10_000  # rows of COPY text sent at a time


def _copy_entries(driver: Any, rows: Iterator[tuple[Any, ...]]) -> None:
    """``COPY … FROM STDIN`` in PostgreSQL's text format, sent as ready text in chunks:
    psycopg's ``write_row``, one row at a time, took 2.5 times the CPU (0.75 s against 0.3 s
    for 200,000 rows). Only the value is free text (vPDQ JSON); the other fields are ids,
    hash types, hex digests, numbers and one time."""
    columns = ", ".join(ENTRY_COLUMNS)
    statement = f"COPY hash_entries ({columns}) FROM STDIN"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        chunk: list[str] = []
        for list_id, hash_type, value, digest, quality, at in rows:
            chunk.append(
                f"{list_id}\t{hash_type}\t{_copy_text(value)}\t{digest}\t{quality}\t{at}\n"
            )
            if len(chunk) == COPY_ROWS:
                copy.write("".join(chunk))
                chunk.clear()
        copy.write("".join(chunk))


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: str) -> str:
    """A text field in COPY's text format: backslash, tab and line ends escaped (hex hashes
    and vPDQ JSON hold none, but a value is checked rather than trusted)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_COPY_ESCAPES)
    return value


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
