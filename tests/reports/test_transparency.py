from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from vigie.reports.transparency import FILES, Period, write_transparency
from vigie.store.console_tables import CaseActionRow
from vigie.store.reports_tables import ComplaintRow, ReportSubmissionRow
from vigie.store.tables import AuditRow, DecisionRow

from .conftest import T0


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _setup(session: Session, make_case) -> None:  # type: ignore[no-untyped-def]
    make_case(session, "case-1", "c-1", status="reported")
    make_case(session, "case-2", "c-2", status="dismissed", t0=T0 + timedelta(hours=2))
    blocked = session.query(DecisionRow).filter_by(case_id="case-2", kind="block").one()
    session.add(
        ComplaintRow(
            platform_id="demo",
            decision_id=blocked.id,
            case_id="case-2",
            received_at=T0 + timedelta(hours=3),
            decided_at=T0 + timedelta(hours=5),
            outcome="overturned",
        )
    )
    session.add(
        ReportSubmissionRow(
            platform_id="demo",
            case_id="case-1",
            authority="ncmec",
            external_id="1001",
            status="finished",
            actor="mod",
            at=T0 + timedelta(hours=1),
        )
    )
    session.commit()


def test_files_and_figures(session: Session, make_case, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _setup(session, make_case)
    paths = write_transparency(
        session, Period.from_dates(date(2026, 11, 1), date(2026, 11, 30)), tmp_path
    )
    assert [p.name for p in paths] == list(FILES)
    raw = (tmp_path / "summary.csv").read_bytes()
    assert raw.startswith(b"metric,value\r\n")  # RFC 4180 line ends
    summary = {r["metric"]: r["value"] for r in _read(tmp_path / "summary.csv")}
    assert summary["restrictions_total"] == "4"
    assert summary["notices_received_art_16"] == "2"
    assert summary["complaints_overturned"] == "1"
    assert summary["median_seconds_to_action_own_initiative"] == "2"  # median(1, 2, 1, 2) rounded
    means = {r["detector"]: r for r in _read(tmp_path / "automated_means.csv")}
    assert means["patterns"]["false_positive_ratio"] == "0.5000"
    assert means["semantic"]["overturned_on_complaint"] == "1"
    interim = _read(tmp_path / "interim_regulation_2021_1232.csv")
    assert {
        "metric": "reports_to_authorities",
        "type": "ncmec",
        "technology": "",
        "value": "1",
    } in interim
    own = _read(tmp_path / "own_initiative.csv")
    assert sum(int(r["count"]) for r in own) == 4
    assert own[0]["category"] == "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
    assert own[0]["ground"] == "DECISION_GROUND_INCOMPATIBLE_CONTENT"
    assert session.query(AuditRow).filter_by(action="transparency.export").count() == 1


def test_empty_period(session: Session, make_case, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _setup(session, make_case)
    write_transparency(session, Period.from_dates(date(2025, 1, 1), date(2025, 1, 31)), tmp_path)
    summary = {r["metric"]: r["value"] for r in _read(tmp_path / "summary.csv")}
    assert summary["restrictions_total"] == "0"
    assert summary["median_seconds_to_action_notices"] == ""


def test_one_platform(session: Session, make_case, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _setup(session, make_case)
    period = Period.from_dates(date(2026, 11, 1), date(2026, 11, 30), "other-platform")
    write_transparency(session, period, tmp_path)
    summary = {r["metric"]: r["value"] for r in _read(tmp_path / "summary.csv")}
    assert summary["platform"] == "other-platform"
    assert summary["restrictions_total"] == "0"
    period = Period.from_dates(date(2026, 11, 1), date(2026, 11, 30), "demo")
    write_transparency(session, period, tmp_path / "demo")
    summary = {r["metric"]: r["value"] for r in _read(tmp_path / "demo" / "summary.csv")}
    assert summary["restrictions_total"] == "4"


def test_officers_restrictions_are_counted(session: Session, make_case, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A suspension decided in the console is a restriction: one after the child's report is
    notice-driven, one on an account nobody reported is own initiative."""
    _setup(session, make_case)
    for subject, minutes in (("p-adult", 50), ("p-unreported", 55)):
        session.add(
            CaseActionRow(
                case_id="case-1",
                platform_id="demo",
                subject=subject,
                kind="suspend",
                rule="grooming-minor",
                reason="",
                actor="mod@x",
                at=T0 + timedelta(minutes=minutes),
            )
        )
    session.commit()
    write_transparency(session, Period.from_dates(date(2026, 11, 1), date(2026, 11, 30)), tmp_path)
    summary = {r["metric"]: r["value"] for r in _read(tmp_path / "summary.csv")}
    assert summary["restrictions_total"] == "6" and summary["restrictions_by_officers"] == "2"
    own = _read(tmp_path / "own_initiative.csv")
    officers = [r for r in own if r["actions"] == "officer"]
    assert [(r["restriction"], r["detection"], r["count"]) for r in officers] == [
        ("suspend", "automated", "1")
    ]
