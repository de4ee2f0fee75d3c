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

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    inspect,
    select,
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

    Existing entries of the list are read once, so a large import costs one query plus
    the inserts rather than one query per hash.
    """
    known = {
        (r.hash_type, r.digest): r
        for r in session.scalars(select(HashEntryRow).where(HashEntryRow.list_id == hash_list.id))
    }
    fresh: list[HashEntryRow] = []
    revived: list[HashEntryRow] = []
    for hash_type, value, quality in items:
        digest = _digest(value)
        row = known.get((hash_type, digest))
        if row is not None and row.removed_at is None:
            continue
        if row is None:
            row = HashEntryRow(
                list_id=hash_list.id,
                hash_type=hash_type,
                value=value,
                digest=digest,
                quality=quality,
                added_at=_now(),
            )
            known[(hash_type, digest)] = row
            fresh.append(row)
        else:
            row.removed_at, row.quality, row.added_at = None, quality, _now()
            revived.append(row)
    session.add_all(fresh)
    session.flush()
    now = _now()
    session.add_all([HashListChangeRow(entry_id=r.id, op="add", at=now) for r in fresh + revived])
    session.flush()
    return len(fresh) + len(revived)


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
