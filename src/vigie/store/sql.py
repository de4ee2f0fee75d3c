"""The SQLAlchemy implementation of the storage interface, for SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import (
    AbstractAsyncContextManager,
    AbstractContextManager,
    contextmanager,
    nullcontext,
)
from datetime import UTC, datetime
from typing import Any, cast

import orjson
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from vigie.domain import (
    Account,
    AgeSource,
    Case,
    CaseStatus,
    Decision,
    MediaRef,
    Message,
    Platform,
    PriorMessage,
    Signal,
)
from vigie.store.audit import append_entry
from vigie.store.engine import make_engine
from vigie.store.outbox import enqueue_actions
from vigie.store.prepared import Runner, as_sqlite_returns
from vigie.store.row_cache import RowCache, Tail, freeze
from vigie.store.statements import (
    ACCOUNTS,
    ACTIVE_CASE_STATUSES,
    Statements,
    statements,
    table,
)
from vigie.store.tables import (
    ApiKeyRow,
    CaseRow,
    MediaRow,
    PlatformRow,
    UserReportRow,
)
from vigie.store.write_behind import PendingWrites
from vigie.store.write_lock import SqliteWriteLock


def _account(
    platform_id: str,
    pseudo_id: str,
    age: int | None,
    age_source: str,
    created_at: datetime | None,
    first_seen: datetime | None,
    restricted: bool,
) -> Account:
    return Account(
        platform_id,
        pseudo_id,
        age,
        AgeSource(age_source),
        _utc(created_at),
        _utc(first_seen),
        bool(restricted),
    )


def _utc(at: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; everything Vigie stores is UTC."""
    if at is None:
        return None
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at


def _platform(row: PlatformRow) -> Platform:
    return Platform(
        row.id,
        row.name,
        row.pseudonym_secret,
        row.webhook_url,
        row.webhook_secret,
        _utc(row.created_at),
    )


def _case(
    id: str,
    platform_id: str,
    subject: str,
    status: str,
    priority: int,
    risk: float,
    categories: list[str] | None,
    conversation_id: str | None,
    assignee: str | None,
    requires_report: bool,
    opened_at: datetime | None,
    updated_at: datetime | None,
) -> Case:
    return Case(
        platform_id=platform_id,
        subject=subject,
        id=id,
        status=CaseStatus(status),
        priority=priority,
        risk=risk,
        categories=list(categories or []),
        conversation_id=conversation_id,
        assignee=assignee,
        requires_report=bool(requires_report),
        opened_at=_utc(opened_at),
        updated_at=_utc(updated_at),
    )


def _case_row(row: CaseRow) -> Case:
    return _case(
        row.id,
        row.platform_id,
        row.subject,
        row.status,
        row.priority,
        row.risk,
        row.categories,
        row.conversation_id,
        row.assignee,
        row.requires_report,
        row.opened_at,
        row.updated_at,
    )


class SqlUnit:
    """One transaction's worth of storage operations on one connection.

    The per-event hot path runs prepared statements on the driver's cursor (``prepared.py``);
    the rest (audit, outbox, user reports, console) uses an ORM session on the same connection and
    transaction, opened only when first needed.
    """

    def __init__(
        self, conn: Connection, cache: RowCache | None = None, *, write_behind: bool = False
    ) -> None:
        """``write_behind`` (PostgreSQL): ``cache`` is this transaction's own, and the rows of
        ``write_behind.py`` wait in ``pending`` until the unit ends."""
        self.conn = conn
        self.sql: Statements = statements(conn.dialect)
        self.raw = Runner(conn.connection.driver_connection)
        self._session: Session | None = None
        self.cache = cache  # rows this writer wrote itself (``row_cache.py``), when enabled
        bulk = self.sql.bulk
        self.pending = PendingWrites(bulk) if write_behind and bulk is not None else None
        self._sqlite = conn.dialect.name == "sqlite"

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = Session(bind=self.conn, expire_on_commit=False)
        return self._session

    def flush(self) -> None:
        """Write the rows held back and what the ORM session holds (before the transaction
        commits)."""
        if self.pending is not None:
            self.pending.flush(self.raw, self.sql)
        if self._session is not None:
            self._session.flush()

    def data_version(self) -> tuple[int, int]:
        """SQLite's count of commits made by other connections, as this connection sees it
        (with the connection, since each connection counts from its own start)."""
        row = self.raw.cursor.execute("PRAGMA data_version").fetchone()
        return id(self.raw.cursor.connection), int(row[0])

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
        self.raw.close()

    # Platforms and keys -------------------------------------------------------------------
    def add_platform(self, platform: Platform) -> None:
        self.session.add(
            PlatformRow(
                id=platform.id,
                name=platform.name,
                pseudonym_secret=platform.pseudonym_secret,
                webhook_url=platform.webhook_url,
                webhook_secret=platform.webhook_secret,
                created_at=platform.created_at or datetime.now(UTC),
            )
        )
        self.session.flush()

    def add_api_key(self, platform_id: str, prefix: str, key_hash: str) -> None:
        self.session.add(
            ApiKeyRow(
                platform_id=platform_id,
                prefix=prefix,
                key_hash=key_hash,
                created_at=datetime.now(UTC),
            )
        )

    def revoke_api_keys(self, platform_id: str) -> int:
        result = self.session.execute(
            update(ApiKeyRow)
            .where(ApiKeyRow.platform_id == platform_id, ApiKeyRow.revoked.is_(False))
            .values(revoked=True)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def platform_by_key_hash(self, key_hash: str) -> Platform | None:
        row = self.session.execute(
            select(PlatformRow)
            .join(ApiKeyRow, ApiKeyRow.platform_id == PlatformRow.id)
            .where(ApiKeyRow.key_hash == key_hash, ApiKeyRow.revoked.is_(False))
        ).scalar_one_or_none()
        return _platform(row) if row else None

    def get_platform(self, platform_id: str) -> Platform | None:
        row = self.session.get(PlatformRow, platform_id)
        return _platform(row) if row else None

    def platform_by_name(self, name: str) -> Platform | None:
        row = self.session.execute(
            select(PlatformRow).where(PlatformRow.name == name)
        ).scalar_one_or_none()
        return _platform(row) if row else None

    # Accounts and conversations -----------------------------------------------------------
    def get_accounts(self, platform_id: str, pseudo_ids: list[str]) -> dict[str, Account]:
        """One indexed look-up per id: events name two or three people, and a prepared
        statement per id is cheaper than building an ``IN`` list each time."""
        found = {}
        for pseudo_id in dict.fromkeys(pseudo_ids):
            row = self._account_row(platform_id, pseudo_id)
            if row is not None:
                found[pseudo_id] = _account(*row)
        return found

    def _account_row(self, platform_id: str, pseudo_id: str) -> tuple[Any, ...] | None:
        cache, pending, key = self.cache, self.pending, (platform_id, pseudo_id)
        if cache is not None:
            row = cache.accounts.get(key)
            if row is not None:
                return row
        if pending is not None and key in pending.absent:
            return None  # looked up already in this transaction (ensure_accounts looks again)
        row = self.raw.first(self.sql.account, {"platform_id": platform_id, "pseudo_id": pseudo_id})
        if cache is not None and row is not None:
            cache.accounts.put(key, row)
        elif pending is not None and row is None:
            pending.absent.add(key)
        return row

    def ensure_accounts(
        self, platform_id: str, refs: dict[str, str], seen_at: datetime
    ) -> dict[str, Account]:
        """The accounts for these pseudonyms, creating the missing ones (``refs``: sealed ids)."""
        found = self.get_accounts(platform_id, list(refs))
        missing = [p for p in refs if p not in found]
        if missing:
            self.raw.execute_many(
                self.sql.insert_account,
                [
                    {
                        "platform_id": platform_id,
                        "pseudo_id": p,
                        "external_ref": refs[p],
                        "age_source": "unknown",
                        "first_seen": seen_at,
                        "restricted": False,
                        "profile_state": {},
                    }
                    for p in missing
                ],
            )
            if self.pending is not None:
                self.pending.absent.difference_update((platform_id, p) for p in missing)
            found.update(self.get_accounts(platform_id, missing))
        return found

    def get_account(self, platform_id: str, pseudo_id: str) -> Account | None:
        return self.get_accounts(platform_id, [pseudo_id]).get(pseudo_id)

    def save_account(self, account: Account, external_ref: str | None = None) -> None:
        values: dict[str, Any] = {
            "age": account.age,
            "age_source": account.age_source.value,
            "created_at": account.created_at,
            "restricted": account.restricted,
        }
        if external_ref is not None:
            values["external_ref"] = external_ref
        dialect = self.conn.dialect.name
        upsert = pg_insert if dialect == "postgresql" else sqlite_insert
        stmt = upsert(ACCOUNTS).values(
            platform_id=account.platform_id,
            pseudo_id=account.pseudo_id,
            first_seen=account.first_seen or datetime.now(UTC),
            profile_state={},
            **values,
        )
        self.conn.execute(
            stmt.on_conflict_do_update(index_elements=["platform_id", "pseudo_id"], set_=values)
        )
        if self.cache is not None:  # read again next time, as the database now has it
            self.cache.accounts.pop((account.platform_id, account.pseudo_id))
        if self.pending is not None:
            self.pending.absent.discard((account.platform_id, account.pseudo_id))

    def external_ref(self, platform_id: str, pseudo_id: str) -> str | None:
        return self.conn.execute(
            select(ACCOUNTS.c.external_ref).where(
                ACCOUNTS.c.platform_id == platform_id, ACCOUNTS.c.pseudo_id == pseudo_id
            )
        ).scalar()

    def _lock_account(self, platform_id: str, pseudo_id: str) -> Any:
        """The account's profile state, its row locked until commit on PostgreSQL.

        Per-subject state (profile, the open case) spans conversations, so several bus workers
        can touch it at once; the lock makes their read-modify-write take turns. ``NO KEY
        UPDATE`` leaves foreign-key checks on the row unblocked. SQLite ignores the clause
        (it serialises writers itself).
        """
        return self.raw.first(
            self.sql.profile_for_update, {"platform_id": platform_id, "pseudo_id": pseudo_id}
        )

    def _locked_here(self, platform_id: str, pseudo_id: str) -> bool:
        """Whether this transaction already holds the account's row lock: with write-behind
        the cache is the transaction's own, and a profile enters it only once locked."""
        return (
            self.pending is not None
            and self.cache is not None
            and self.cache.profiles.peek((platform_id, pseudo_id)) is not None
        )

    def profile_state(self, platform_id: str, pseudo_id: str) -> dict[str, Any]:
        cache = self.cache
        if cache is not None:
            kept = cache.profiles.get((platform_id, pseudo_id))
            if kept is not None:
                return dict(orjson.loads(kept))
        row = self._lock_account(platform_id, pseudo_id)
        state = dict(row[0] or {}) if row else {}
        if cache is not None and row is not None:
            cache.profiles.put((platform_id, pseudo_id), freeze(state))
        return state

    def save_profile_state(self, platform_id: str, pseudo_id: str, state: dict[str, Any]) -> None:
        row = {"k_platform": platform_id, "k_pseudo": pseudo_id, "new_state": dict(state)}
        if self.pending is not None:
            self.pending.profiles[(platform_id, pseudo_id)] = row
        else:
            self.raw.execute(self.sql.save_profile, row)
        if self.cache is not None:
            self.cache.profiles.put((platform_id, pseudo_id), freeze(state))

    def touch_conversation(
        self, platform_id: str, conversation_id: str, at: datetime, external_ref: str | None
    ) -> int:
        """Count one more message; safe when two writers see a new conversation at once."""
        params = {
            "platform_id": platform_id,
            "conversation_id": conversation_id,
            "at": at,
            "external_ref": external_ref,
        }
        pending = self.pending
        if pending is not None:
            count = pending.touch(platform_id, conversation_id, at)
            if count is not None:
                return count
        row = self.raw.first(self.sql.touch_conversation, params)
        assert row is not None  # an upsert with RETURNING always answers one row
        if pending is not None:
            pending.touched(platform_id, conversation_id, at, int(row[0]))
        return int(row[0])

    def history(self, platform_id: str, conversation_id: str, limit: int) -> list[PriorMessage]:
        key = (platform_id, conversation_id)
        prior = self._kept_tail(key, limit)
        if prior is None:
            if self.pending is not None and self.pending.has_messages(*key):
                self.pending.flush_messages(self.raw)  # the read must see them
            params = {"platform_id": platform_id, "conversation_id": conversation_id}
            rows = self.raw.all(self.sql.history, {**params, "limit": limit})
            prior = [(sender, text, at) for sender, text, at in reversed(rows)]
            if self.cache is not None:
                self.cache.tails.put(key, Tail(prior, whole=len(rows) < limit))
        return [PriorMessage(sender, text, _utc(at)) for sender, text, at in prior]

    def _kept_tail(
        self, key: tuple[str, str], limit: int
    ) -> list[tuple[str, str, datetime | None]] | None:
        """The conversation's last ``limit`` messages from the cache, when it holds them."""
        if self.cache is None:
            return None
        tail = self.cache.tails.peek(key)
        prior = tail.last(limit) if tail is not None else None
        if prior is not None:
            self.cache.tails.get(key)  # a hit: counted, and kept longest
        return prior

    def participant_state(
        self, platform_id: str, conversation_id: str, pseudo_id: str
    ) -> tuple[dict[str, Any], float, list[str]]:
        cache = self.cache
        if cache is not None:
            kept = cache.states.get((platform_id, conversation_id, pseudo_id))
            if kept is not None:
                return dict(orjson.loads(kept[0])), kept[1], list(kept[2])
        params = {
            "platform_id": platform_id,
            "conversation_id": conversation_id,
            "pseudo_id": pseudo_id,
        }
        row = self.raw.first(self.sql.state, params)
        if row is None:
            return {}, 0.0, []
        state, risk, categories = row
        if cache is not None:
            kept = (freeze(state or {}), risk, tuple(categories or ()))
            cache.states.put((platform_id, conversation_id, pseudo_id), kept)
        return dict(state or {}), risk, list(categories or [])

    def save_participant_state(
        self,
        platform_id: str,
        conversation_id: str,
        pseudo_id: str,
        state: dict[str, Any],
        risk: float,
        categories: list[str],
    ) -> None:
        params = {
            "platform_id": platform_id,
            "conversation_id": conversation_id,
            "pseudo_id": pseudo_id,
            "state": dict(state),
            "risk": risk,
            "categories": list(categories),
        }
        if self.pending is not None:
            self.pending.states[(platform_id, conversation_id, pseudo_id)] = params
        else:
            self.raw.execute(self.sql.save_state, params)
        if self.cache is not None:
            kept = (freeze(state), risk, tuple(categories))
            self.cache.states.put((platform_id, conversation_id, pseudo_id), kept)

    # Content, signals, cases, decisions ---------------------------------------------------
    def add_message(self, message: Message, risk: float) -> int:
        row = {
            "platform_id": message.platform_id,
            "conversation_id": message.conversation_id,
            "sender": message.sender,
            "recipients": list(message.recipients),
            "text": message.text,
            "sent_at": message.sent_at,
            "event_id": message.event_id,
            "risk": risk,
        }
        if self.pending is not None:
            message_id = self.pending.add_message(self.raw, row)
        else:
            returned = self.raw.first(self.sql.add_message, row)
            assert returned is not None  # INSERT ... RETURNING id
            message_id = int(returned[0])
        if self.cache is not None:
            key = (message.platform_id, message.conversation_id)
            tail = self.cache.tails.peek(key)
            if tail is not None:  # the time as the database gives it back
                at = as_sqlite_returns(message.sent_at) if self._sqlite else message.sent_at
                tail.append((message.sender, message.text, at))
                self.cache.tails.put(key, tail)  # weighed again
        return message_id

    def add_media(self, media: MediaRef) -> int:
        media_table = table(MediaRow)
        stmt = (
            insert(media_table)
            .values(
                platform_id=media.platform_id,
                conversation_id=media.conversation_id,
                sender=media.sender,
                recipients=list(media.recipients),
                hashes=dict(media.hashes),
                sent_at=media.sent_at,
                event_id=media.event_id,
            )
            .returning(media_table.c.id)
        )
        return int(self.conn.execute(stmt).scalar_one())

    def add_user_report(
        self,
        platform_id: str,
        event_id: str,
        reporter: str,
        subject: str,
        conversation_id: str | None,
        reason: str,
        at: datetime,
    ) -> None:
        self.session.add(
            UserReportRow(
                platform_id=platform_id,
                event_id=event_id,
                reporter=reporter,
                subject=subject,
                conversation_id=conversation_id,
                reason=reason,
                at=at,
            )
        )

    def add_signals(
        self,
        platform_id: str,
        event_id: str,
        signals: list[Signal],
        *,
        conversation_id: str | None,
        subject: str | None,
        case_id: str | None,
        message_id: int | None = None,
        media_id: int | None = None,
        at: datetime,
    ) -> None:
        if not signals:
            return
        rows = [
            {
                "platform_id": platform_id,
                "event_id": event_id,
                "conversation_id": conversation_id,
                "subject": subject,
                "message_id": message_id,
                "media_id": media_id,
                "case_id": case_id,
                "detector": s.detector,
                "category": s.category,
                "score": s.score,
                "explanation": s.explanation,
                "span_start": s.span[0] if s.span else None,
                "span_end": s.span[1] if s.span else None,
                "model": s.model,
                "details": dict(s.details),
                "at": at,
            }
            for s in signals
        ]
        if self.pending is not None:
            self.pending.signals.extend(rows)
        else:
            self.raw.execute_many(self.sql.add_signal, rows)

    def open_case_for(self, platform_id: str, subject: str) -> Case | None:
        if self.pending is not None and (platform_id, subject) in self.pending.open_cases:
            return _case(**self.pending.open_cases[(platform_id, subject)])
        if not self._locked_here(platform_id, subject):
            self._lock_account(platform_id, subject)  # two workers never both open a case
        row = self.raw.first(self.sql.active_case, {"platform_id": platform_id, "subject": subject})
        return _case(*row) if row else None

    def save_case(self, case: Case) -> None:
        now = datetime.now(UTC)
        row = {
            "id": case.id,
            "platform_id": case.platform_id,
            "subject": case.subject,
            "status": case.status.value,
            "priority": case.priority,
            "risk": case.risk,
            "categories": list(case.categories),
            "conversation_id": case.conversation_id,
            "assignee": case.assignee,
            "requires_report": case.requires_report,
            "opened_at": case.opened_at or now,
            "updated_at": case.updated_at or now,
        }
        if self.pending is not None:
            self.pending.save_case(row, case.status.value in ACTIVE_CASE_STATUSES)
        else:
            self.raw.execute(self.sql.save_case, row)

    def get_case(self, platform_id: str, case_id: str) -> Case | None:
        self._flush_cases()
        row = self.session.get(CaseRow, case_id)
        return _case_row(row) if row is not None and row.platform_id == platform_id else None

    def _flush_cases(self) -> None:
        """Cases held back go to the table before the ORM reads it."""
        if self.pending is not None and self.pending.cases:
            self.raw.execute_many(self.sql.save_case, list(self.pending.cases.values()))
            self.pending.cases = {}

    def list_cases(self, platform_id: str, limit: int = 100) -> list[Case]:
        self._flush_cases()
        rows = self.session.execute(
            select(CaseRow)
            .where(CaseRow.platform_id == platform_id)
            .order_by(CaseRow.opened_at.desc(), CaseRow.id.desc())
            .limit(limit)
        ).scalars()
        return [_case_row(r) for r in rows]

    def record_decision(self, decision: Decision, subject: str | None, rules: list[str]) -> None:
        row = {
            "platform_id": decision.platform_id,
            "event_id": decision.event_id,
            "kind": decision.kind.value,
            "actions": list(decision.actions),
            "case_id": decision.case_id,
            "rules": list(rules),
            "subject": subject,
            "at": decision.at or datetime.now(UTC),
        }
        if self.pending is not None:
            self.pending.decisions.append(row)
        else:
            self.raw.execute(self.sql.add_decision, row)

    # Idempotency and audit ----------------------------------------------------------------
    def processed_result(self, platform_id: str, event_id: str) -> dict[str, Any] | None:
        if self.pending is not None:
            known, held = self.pending.processed_result(platform_id, event_id)
            if known:
                return cast(dict[str, Any] | None, held)
        params = {"platform_id": platform_id, "event_id": event_id}
        row = self.raw.first(self.sql.processed, params)
        return dict(row[0]) if row is not None and row[0] is not None else None

    def look_up_processed(self, platform_id: str, event_ids: list[str]) -> None:
        """A batch's events about to be processed: on PostgreSQL their earlier answers are
        read here in one statement, rather than one per event (SQLite: nothing to gain)."""
        if self.pending is not None and len(event_ids) > 1:
            self.pending.look_up(self.raw, platform_id, event_ids)

    def save_processed(self, platform_id: str, event_id: str, result: dict[str, Any]) -> None:
        row = {
            "platform_id": platform_id,
            "event_id": event_id,
            "result": result,
            "at": datetime.now(UTC),
        }
        if self.pending is not None:
            self.pending.processed[(platform_id, event_id)] = row
        else:
            self.raw.execute(self.sql.add_processed, row)

    def audit(
        self,
        actor: str,
        action: str,
        target: str,
        details: dict[str, Any] | None = None,
        platform_id: str | None = None,
    ) -> None:
        """An entry in the one audit chain (``audit.append_entry``), on this unit's cursor:
        cases open on the hot path, where an ORM session costs milliseconds."""
        if self._session is not None:
            self._session.flush()  # entries the session holds come first in the chain
        append_entry(
            self.raw, self.conn.dialect, actor, action, target, details, platform_id=platform_id
        )

    def enqueue_webhooks(
        self,
        platform: Platform,
        event_id: str,
        subject: str | None,
        case_id: str | None,
        actions: list[str],
        extra: dict[str, dict[str, Any]] | None = None,
    ) -> int:
        """Queue one webhook per action in this transaction, so a crash loses none."""
        return enqueue_actions(
            self.session,
            platform.id,
            platform.webhook_url,
            platform.webhook_secret,
            event_id,
            subject,
            case_id,
            actions,
            extra=extra,
        )


class SqlStore:
    """Hands out transactional units on one engine (SQLite or PostgreSQL)."""

    def __init__(self, url_or_engine: str | Engine, row_cache: bool = False) -> None:
        """``row_cache``: keep the rows this store's writer writes between transactions
        (``row_cache.py``); SQLite only, for a process whose only writer is the pipeline."""
        self.engine = (
            make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
        )
        # SQLite has one writer at a time; writers take turns here (write_lock.py).
        self._write_lock: AbstractContextManager[None] = (
            SqliteWriteLock(self.engine.url.database)
            if self.engine.dialect.name == "sqlite"
            else nullcontext()
        )

        self._writer: Connection | None = None
        self.row_cache = (
            RowCache() if row_cache and isinstance(self._write_lock, SqliteWriteLock) else None
        )

    @contextmanager
    def unit(self) -> Iterator[SqlUnit]:
        """A read-write transaction: committed when the block ends, rolled back on error."""
        behind = not isinstance(self._write_lock, SqliteWriteLock)
        # PostgreSQL: a cache of this transaction's own (its rows locked or written here)
        cache = RowCache() if behind else self.row_cache
        try:
            with self._write_lock, self._write_connection() as conn, conn.begin():
                unit = SqlUnit(conn, cache, write_behind=behind)
                try:
                    if cache is not None and not behind:
                        cache.check(unit.data_version())
                    yield unit
                    unit.flush()
                finally:
                    unit.close()
        except BaseException:
            if cache is not None:
                cache.drop()  # it holds what the rolled-back transaction wrote
            raise

    def write_turn(self) -> AbstractAsyncContextManager[None]:
        if isinstance(self._write_lock, SqliteWriteLock):
            return self._write_lock.turn()
        return nullcontext()

    @contextmanager
    def _write_connection(self) -> Iterator[Connection]:
        """On SQLite, writers take turns, so they share one connection that stays open (a pool
        checkout and return cost as much as a small event's statements); elsewhere each unit
        takes one from the pool."""
        if not isinstance(self._write_lock, SqliteWriteLock):
            with self.engine.connect() as conn:
                yield conn
            return
        if self._writer is None or self._writer.closed or self._writer.invalidated:
            self._writer = self.engine.connect()
        yield self._writer

    @contextmanager
    def read(self) -> Iterator[SqlUnit]:
        """A read-only look (rolled back at the end, so it can never write by accident)."""
        with self.engine.connect() as conn:
            unit = SqlUnit(conn)
            try:
                yield unit
            finally:
                unit.close()
                conn.rollback()

    def dispose(self) -> None:
        with self._write_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        self.engine.dispose()
