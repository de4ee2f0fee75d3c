"""Reports benchmark: audit chain append/verify, evidence export, retention purge, transparency.

On a temporary SQLite file (the default database), with synthetic, non-explicit rows:

    .venv/bin/python bench/bench_reports.py                 # defaults, a few seconds
    .venv/bin/python bench/bench_reports.py --audit 20000 --messages 200000

Writes bench/results/reports.json and bench/results/reports.md.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sqlalchemy import create_engine, insert
from sqlalchemy.orm import Session

import vigie.store.reports_tables  # noqa: F401
from vigie.reports.audit import append_audit, verify_chain
from vigie.reports.evidence import export_case, verify_package
from vigie.reports.retention import place_hold, purge_expired
from vigie.reports.transparency import Period, write_transparency
from vigie.settings import RetentionSettings
from vigie.store.tables import (
    AccountRow,
    Base,
    CaseRow,
    ConversationRow,
    DecisionRow,
    MessageRow,
    PlatformRow,
    SignalRow,
)

RESULTS = Path(__file__).resolve().parent / "results"
T0 = datetime(2026, 1, 1, tzinfo=UTC)
TEXTS = ["salut, tu joues à quoi ?", "tu as quel âge ?", "c'est notre secret", "on va sur snap ?"]


def _timed(fn: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def _seed(session: Session, conversations: int, per_conv: int) -> None:
    session.add(PlatformRow(id="demo", name="demo", pseudonym_secret="s", created_at=T0))
    for pid, age in (("adult", 34), ("child", 13)):
        session.add(
            AccountRow(
                platform_id="demo", pseudo_id=pid, age=age, age_source="declared", first_seen=T0
            )
        )
    rows, signals, decisions = [], [], []
    for c in range(conversations):
        conv = f"c{c}"
        session.add(
            ConversationRow(
                platform_id="demo", id=conv, started_at=T0, last_at=T0, message_count=per_conv
            )
        )
        for i in range(per_conv):
            rows.append(
                {
                    "platform_id": "demo",
                    "conversation_id": conv,
                    "sender": "adult",
                    "recipients": ["child"],
                    "text": TEXTS[i % 4],
                    "event_id": f"{conv}-{i}",
                    "sent_at": T0 + timedelta(minutes=i),
                }
            )
        signals.append(
            {
                "platform_id": "demo",
                "event_id": f"{conv}-2",
                "conversation_id": conv,
                "subject": "adult",
                "case_id": f"case-{c}",
                "detector": "patterns",
                "category": "secrecy",
                "score": 0.8,
                "explanation": "secrecy request",
                "at": T0 + timedelta(minutes=2),
                "details": {},
            }
        )
        decisions.append(
            {
                "platform_id": "demo",
                "event_id": f"{conv}-2",
                "kind": "hold",
                "actions": ["hold_message"],
                "case_id": f"case-{c}",
                "rules": ["r"],
                "subject": "adult",
                "at": T0 + timedelta(minutes=2, seconds=1),
            }
        )
        session.add(
            CaseRow(
                id=f"case-{c}",
                platform_id="demo",
                subject="adult",
                conversation_id=conv,
                status="reported" if c % 2 else "dismissed",
                categories=["secrecy"],
                opened_at=T0,
                updated_at=T0,
            )
        )
    session.execute(insert(MessageRow), rows)
    session.execute(insert(SignalRow), signals)
    session.execute(insert(DecisionRow), decisions)
    session.commit()


def run(audit_n: int, conversations: int, per_conv: int) -> dict[str, Any]:
    out: dict[str, Any] = {"python": platform.python_version(), "machine": platform.machine()}
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{tmp}/bench.db")
        Base.metadata.create_all(engine)
        with Session(engine) as session:
            _seed(session, conversations, per_conv)

            def append_many() -> None:
                for i in range(audit_n):
                    append_audit(session, "bench", "case.view", f"case-{i % 50}", {"i": i})
                session.commit()

            _, secs = _timed(append_many)
            out["audit_append_per_s"] = round(audit_n / secs)
            broken, secs = _timed(lambda: verify_chain(session))
            assert broken is None
            out["audit_verify_per_s"] = round(audit_n / secs)
            _, secs = _timed(
                lambda: export_case(
                    session, "case-1", Path(tmp) / "pkg", actor="bench", keys_folder=Path(tmp) / "k"
                )
            )
            out["evidence_export_s"] = round(secs, 3)
            _, secs = _timed(lambda: verify_package(Path(tmp) / "pkg"))
            out["evidence_verify_s"] = round(secs, 4)
            _, secs = _timed(
                lambda: write_transparency(
                    session, Period.from_dates(date(2026, 1, 1), date(2026, 1, 31)), Path(tmp) / "t"
                )
            )
            out["transparency_s"] = round(secs, 3)
            settings = RetentionSettings(retention_days=30, legal_hold_days=365)
            for c in range(1, conversations, 2):
                place_hold(session, f"case-{c}", actor="bench", settings=settings, now=T0)
            session.commit()
            report, secs = _timed(
                lambda: purge_expired(session, settings, now=T0 + timedelta(days=60))
            )
            session.commit()
            out["purge_s"] = round(secs, 3)
            out["purge_deleted_messages"] = report.deleted["messages"]
        engine.dispose()
    out.update(
        audit_entries=audit_n,
        messages=conversations * per_conv,
        conversations=conversations,
        held_conversations=conversations // 2,
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--audit", type=int, default=5000)
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument("--per-conv", type=int, default=50)
    args = parser.parse_args()
    result = run(args.audit, args.conversations, args.per_conv)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "reports.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = ["| measure | value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in result.items()]
    (RESULTS / "reports.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
