from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from vigie.reports.audit import GENESIS, append_audit, verify_chain
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
