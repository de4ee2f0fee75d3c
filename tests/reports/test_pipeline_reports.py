"""Reports on a case the real pipeline opened (migrated schema, real detectors and policy)."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from vigie.events import AccountEvent, MessageEvent
from vigie.platforms import create_platform
from vigie.reports.audit import verify_chain
from vigie.reports.dsa import Grounds
from vigie.reports.dsa_client import record_statements
from vigie.reports.evidence import export_case, verify_package
from vigie.reports.retention import hold_confirmed_cases, purge_expired
from vigie.reports.transparency import Period, write_transparency
from vigie.runtime import build_pipeline
from vigie.settings import RetentionSettings, Settings
from vigie.store.sql import SqlStore

TEXTS = [
    "hey, good game",
    "how old are you?",
    "are your parents home?",
    "add me on snapchat, it's more private",
    "don't tell anyone about us, ok?",
    "send me a picture of you",
]


@pytest.mark.slow
def test_pipeline_case_to_reports(store: SqlStore, tmp_path: Path) -> None:
    pipeline = build_pipeline(Settings(database_url=str(store.engine.url)), store)
    with store.unit() as unit:
        platform = create_platform(unit, "p").platform
    events: list = [
        AccountEvent(type="account", id="a1", account="adult", age=31),
        AccountEvent(type="account", id="a2", account="kid", age=12),
    ]
    events += [
        MessageEvent(
            type="message",
            id=f"m{i}",
            conversation="c1",
            sender="adult",
            recipients=["kid"],
            text=t,
        )
        for i, t in enumerate(TEXTS)
    ]
    results = [pipeline.process_batch(platform, [ev])[0] for ev in events]
    case_id = next(r["case"] for r in results if r["case"])
    with store.unit() as unit:
        session = unit.session
        out = tmp_path / "pkg"
        export_case(session, case_id, out, actor="ref@x", keys_folder=tmp_path / "keys")
        manifest = verify_package(out)
        assert manifest["case"] == case_id
        statements = record_statements(session, Grounds())
        assert statements and all(s.payload["puid"].startswith("vigie-") for s in statements)
        today = datetime.now(UTC).date()
        write_transparency(session, Period.from_dates(date(2020, 1, 1), today), tmp_path / "t")
        with (tmp_path / "t" / "summary.csv").open(newline="", encoding="utf-8") as fh:
            summary = {r["metric"]: r["value"] for r in csv.DictReader(fh)}
        assert int(summary["restrictions_total"]) >= 1
        hold_confirmed_cases(session, RetentionSettings())
        purge_expired(session, RetentionSettings())
    with store.read() as unit:
        assert verify_chain(unit.session) is None
