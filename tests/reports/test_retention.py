from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from vigie.reports.audit import verify_chain
from vigie.reports.evidence import export_case
from vigie.reports.retention import (
    active_hold,
    hold_confirmed_cases,
    on_case_status,
    place_hold,
    purge_expired,
    reclaim_space,
    release_hold,
)
from vigie.settings import RetentionSettings
from vigie.store.reports_tables import LegalHoldRow
from vigie.store.tables import AuditRow, CaseRow, MediaRow, MessageRow, SignalRow

from .conftest import T0

SETTINGS = RetentionSettings(retention_days=180, legal_hold_days=365)


def _count(session: Session, table: type, **where: object) -> int:
    stmt = select(func.count()).select_from(table).filter_by(**where)
    return session.scalar(stmt) or 0


def test_confirmed_case_is_held_for_the_configured_period(session: Session, make_case) -> None:  # type: ignore[no-untyped-def]
    make_case(session, "case-1", "c-1", status="reported")
    make_case(session, "case-2", "c-2", status="dismissed")
    held = hold_confirmed_cases(session, SETTINGS, now=T0)
    session.commit()
    assert held == ["case-1"]
    hold = active_hold(session, "case-1", T0)
    assert hold is not None
    assert hold.until.replace(tzinfo=None) == (T0 + timedelta(days=365)).replace(tzinfo=None)
    assert hold_confirmed_cases(session, SETTINGS, now=T0) == []  # idempotent
    assert _count(session, AuditRow, action="legal_hold.place") == 1


def test_purge_keeps_held_evidence_and_deletes_the_rest(session: Session, make_case) -> None:  # type: ignore[no-untyped-def]
    make_case(session, "case-1", "c-1", status="reported")
    make_case(session, "case-2", "c-2", status="dismissed")
    place_hold(session, "case-1", actor="referent@x", settings=SETTINGS, now=T0)
    session.commit()
    later = T0 + timedelta(days=200)  # past retention (180), inside the hold (365)
    report = purge_expired(session, SETTINGS, now=later)
    session.commit()
    assert _count(session, MessageRow, conversation_id="c-1") == 6
    assert _count(session, MediaRow, conversation_id="c-1") == 1
    assert _count(session, SignalRow, case_id="case-1") == 5
    assert session.get(CaseRow, "case-1") is not None
    assert _count(session, MessageRow, conversation_id="c-2") == 0
    assert _count(session, SignalRow, case_id="case-2") == 0
    assert session.get(CaseRow, "case-2") is None
    assert report.deleted["messages"] == 6 and report.deleted["cases"] == 1
    entry = session.scalars(select(AuditRow).filter_by(action="retention.purge")).one()
    assert entry.details["deleted"]["messages"] == 6
    assert verify_chain(session) is None


def test_nothing_young_is_purged(session: Session, make_case) -> None:  # type: ignore[no-untyped-def]
    make_case(session, "case-2", "c-2", status="dismissed")
    report = purge_expired(session, SETTINGS, now=T0 + timedelta(days=10))
    assert report.total == 0
    assert _count(session, MessageRow) == 6


def test_expired_or_released_hold_no_longer_protects(session: Session, make_case) -> None:  # type: ignore[no-untyped-def]
    make_case(session, "case-1", "c-1", status="reported")
    place_hold(session, "case-1", actor="referent@x", settings=SETTINGS, now=T0)
    session.commit()
    purge_expired(session, SETTINGS, now=T0 + timedelta(days=400))
    session.commit()
    assert _count(session, MessageRow) == 0
    assert session.get(CaseRow, "case-1") is None


def test_release_is_audited(session: Session, make_case) -> None:  # type: ignore[no-untyped-def]
    make_case(session, "case-1", "c-1", status="reported")
    place_hold(session, "case-1", actor="referent@x", settings=SETTINGS, now=T0)
    assert (
        release_hold(
            session, "case-1", actor="admin@x", reason="order lifted", now=T0 + timedelta(days=1)
        )
        == 1
    )
    session.commit()
    assert active_hold(session, "case-1", T0 + timedelta(days=2)) is None
    assert _count(session, AuditRow, action="legal_hold.release") == 1


def test_hold_extends_never_shortens(session: Session, make_case) -> None:  # type: ignore[no-untyped-def]
    make_case(session, "case-1", "c-1", status="reported")
    long = place_hold(session, "case-1", actor="a", settings=SETTINGS, days=700, now=T0)
    same = place_hold(session, "case-1", actor="a", settings=SETTINGS, days=10, now=T0)
    assert same is long
    assert _count(session, LegalHoldRow) == 1


def test_dry_run_deletes_nothing(session: Session, make_case) -> None:  # type: ignore[no-untyped-def]
    make_case(session, "case-2", "c-2", status="dismissed")
    report = purge_expired(session, SETTINGS, now=T0 + timedelta(days=200), dry_run=True)
    session.commit()
    assert report.deleted["messages"] == 6
    assert _count(session, MessageRow) == 6


def test_confirmation_places_the_hold_at_once(session: Session, make_case) -> None:  # type: ignore[no-untyped-def]
    make_case(session, "case-1", "c-1", status="in_review")
    assert on_case_status(session, "case-1", "in_review", actor="m", settings=SETTINGS) is None
    hold = on_case_status(session, "case-1", "reported", actor="ref@x", settings=SETTINGS, now=T0)
    assert hold is not None and hold.placed_by == "ref@x"


def test_a_held_conversation_keeps_its_unlinked_signals(session: Session, make_case) -> None:  # type: ignore[no-untyped-def]
    make_case(session, "case-1", "c-1", status="reported")
    place_hold(session, "case-1", actor="referent@x", settings=SETTINGS, now=T0)
    session.add(
        SignalRow(
            platform_id="demo",
            event_id="c-1-ev-early",
            conversation_id="c-1",
            subject="p-adult",
            detector="patterns",
            category="flattery",
            score=0.4,
            explanation="compliments before the case opened",
            at=T0,
        )
    )
    session.commit()
    purge_expired(session, SETTINGS, now=T0 + timedelta(days=200))
    session.commit()
    assert _count(session, SignalRow, event_id="c-1-ev-early") == 1


def test_an_open_case_keeps_its_evidence_without_a_hold(session: Session, make_case) -> None:  # type: ignore[no-untyped-def]
    make_case(session, "case-1", "c-1", status="in_review")
    purge_expired(session, SETTINGS, now=T0 + timedelta(days=200))
    session.commit()
    assert _count(session, MessageRow, conversation_id="c-1") == 6
    assert _count(session, SignalRow, case_id="case-1") == 5
    assert session.get(CaseRow, "case-1") is not None
    case = session.get(CaseRow, "case-1")
    assert case is not None
    case.status = "dismissed"  # closed: nothing keeps it any more
    session.commit()
    purge_expired(session, SETTINGS, now=T0 + timedelta(days=200))
    session.commit()
    assert _count(session, MessageRow, conversation_id="c-1") == 0


def test_outbox_packages_are_purged_unless_kept(
    session: Session,
    make_case,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    make_case(session, "case-1", "c-1", status="reported")
    make_case(session, "case-2", "c-2", status="dismissed")
    place_hold(session, "case-1", actor="referent@x", settings=SETTINGS, now=T0)
    outbox = tmp_path / "outbox"
    for case_id in ("case-1", "case-2"):
        export_case(session, case_id, outbox / case_id, actor="a@x", keys_folder=tmp_path, now=T0)
    (outbox / "notes").mkdir()  # not a package: never touched
    session.commit()
    later = T0 + timedelta(days=200)
    dry = purge_expired(session, SETTINGS, now=later, outbox=outbox, dry_run=True)
    assert dry.deleted["evidence_packages"] == 1 and (outbox / "case-2").is_dir()
    report = purge_expired(session, SETTINGS, now=later, outbox=outbox)
    session.commit()
    assert report.deleted["evidence_packages"] == 1
    assert sorted(p.name for p in outbox.iterdir()) == ["case-1", "notes"]


def test_deleted_rows_are_overwritten_or_vacuumed(session: Session, make_case) -> None:  # type: ignore[no-untyped-def]
    make_case(session, "case-2", "c-2", status="dismissed")
    purge_expired(session, SETTINGS, now=T0 + timedelta(days=200))
    if session.get_bind().dialect.name == "sqlite":
        assert session.execute(text("PRAGMA secure_delete")).scalar() == 1
        session.commit()
        assert reclaim_space(session) == []
    else:
        session.commit()
        assert "messages" in reclaim_space(session)


def test_purged_text_leaves_the_sqlite_files_in_wal_mode(tmp_path: Path) -> None:
    """On Vigie's own SQLite engine (WAL), purged messages must be gone from the database
    file and from its write-ahead log, even on a SQLite built without SECURE_DELETE (each
    new connection here starts with it off): the log keeps old page images until truncated."""
    from sqlalchemy import event
    from sqlalchemy.orm import sessionmaker

    from vigie.store.engine import make_engine
    from vigie.store.tables import Base

    from .conftest import add_case

    path = tmp_path / "vigie.db"
    engine = make_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", lambda conn, _r: conn.execute("PRAGMA secure_delete = OFF"))
    Base.metadata.create_all(engine)
    with sessionmaker(engine)() as session:
        add_case(session, "case-2", "c-2", status="dismissed")
        purge_expired(session, SETTINGS, now=T0 + timedelta(days=200))
        session.commit()
        assert _count(session, MessageRow) == 0
        reclaim_space(session)
        files = [path, tmp_path / "vigie.db-wal"]
        leftovers = [f.name for f in files if f.exists() and b"ne dis rien" in f.read_bytes()]
        assert leftovers == []
    engine.dispose()


def test_a_log_still_read_is_said_not_ignored(tmp_path: Path) -> None:
    """A reader in an old snapshot keeps the log: the purge stands, and the caller is told
    (``vigie retention run`` exits 1 saying to run again) rather than reading success."""
    import sqlite3

    import pytest
    from sqlalchemy import event
    from sqlalchemy.orm import sessionmaker

    from vigie.reports.retention import ReclaimBusy
    from vigie.store.engine import make_engine
    from vigie.store.tables import Base

    from .conftest import add_case

    path = tmp_path / "vigie.db"
    engine = make_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", lambda conn, _r: conn.execute("PRAGMA busy_timeout = 50"))
    Base.metadata.create_all(engine)
    reader = sqlite3.connect(path, isolation_level=None)
    with sessionmaker(engine)() as session:
        add_case(session, "case-2", "c-2", status="dismissed")
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM messages").fetchone()  # holds its snapshot
        purge_expired(session, SETTINGS, now=T0 + timedelta(days=200))
        session.commit()
        with pytest.raises(ReclaimBusy):
            reclaim_space(session)
        reader.execute("COMMIT")
        assert reclaim_space(session) == ["write-ahead log"]
    reader.close()
    engine.dispose()
