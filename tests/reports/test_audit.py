from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from vigie.store.audit import GENESIS, append_audit, verify_chain
from vigie.store.tables import AuditRow


def test_chain_links_and_verifies(session: Session) -> None:
    first = append_audit(session, "alice", "case.view", "case-1", {"n": 1}, platform_id="demo")
    second = append_audit(session, "bob", "evidence.export", "case-1", {"files": ["a", "b"]})
    session.commit()
    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.hash
    assert verify_chain(session) is None


def test_empty_chain_is_intact(session: Session) -> None:
    assert verify_chain(session) is None


def test_edit_is_found_at_the_edited_entry(session: Session) -> None:
    for i in range(5):
        append_audit(session, "alice", "case.view", f"case-{i}", {"i": i})
    session.commit()
    session.execute(update(AuditRow).where(AuditRow.id == 3).values(target="case-x"))
    session.commit()
    broken = verify_chain(session)
    assert broken is not None and broken.id == 3
    assert "hash" in broken.reason


def test_deletion_is_found_at_the_next_entry(session: Session) -> None:
    for i in range(4):
        append_audit(session, "alice", "case.view", f"case-{i}")
    session.commit()
    session.delete(session.get(AuditRow, 2))
    session.commit()
    broken = verify_chain(session)
    assert broken is not None and broken.id == 3
    assert "prev_hash" in broken.reason


def test_concurrent_writers_keep_one_chain(db_url: str, session: Session) -> None:
    """Four connections appending at once: the chain stays a single line."""
    import threading

    from sqlalchemy import create_engine, func, select

    engine = create_engine(db_url, connect_args={"timeout": 30} if "sqlite" in db_url else {})
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(20):
                with Session(engine) as s:
                    append_audit(s, f"w{n}", "case.view", f"case-{i}")
                    s.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    assert not errors, errors[0]
    assert session.scalar(select(func.count()).select_from(AuditRow)) == 80
    assert verify_chain(session) is None
