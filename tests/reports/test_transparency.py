"""The transparency CSVs open as the 2024/2835 template's tables, with the seeded figures.

Column and row names are written out here rather than imported: a test that read them from
the code would agree with any rename.
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from vigie.reports.approvals import record_approval
from vigie.reports.dsa import Grounds
from vigie.reports.dsa_client import record_statements
from vigie.reports.transparency import FILES, Period, write_transparency
from vigie.store.console_tables import AppealRow, CaseActionRow, PracticeAttemptRow
from vigie.store.reports_tables import ComplaintRow, ReportSubmissionRow
from vigie.store.tables import AuditRow, DecisionRow, PlatformRow

from .conftest import T0

NOVEMBER = Period.from_dates(date(2026, 11, 1), date(2026, 11, 30))
PUBLISHED = date(2027, 1, 15)
CATEGORIES = [
    "Animal welfare",
    "Consumer information infringements",
    "Cyber violence",
    "Cyber violence against women",
    "Data protection and privacy violations",
    "Illegal or harmful speech",
    "Intellectual property infringements",
    "Negative effects on civic discourse or elections",
    "Protection of minors",
    "Risk for public security",
    "Scams and/or fraud",
    "Self-harm",
    "Unsafe, non-compliant or prohibited products",
    "Violence",
]
RESTRICTIONS = [
    "Visibility restriction: Removal of content",
    "Visibility restriction: Disabling access to content",
    "Visibility restriction: Demotion of content",
    "Visibility restriction: Age restricted content",
    "Visibility restriction: Restricting interaction with content",
    "Visibility restriction: Labelled content",
    "Visibility restriction: Other restriction",
    "Monetary restriction: Suspension of monetary payments",
    "Monetary restriction: Termination of monetary payments",
    "Monetary restriction: Other restriction",
    "Service restriction: Partial suspension of the provision of the service",
    "Service restriction: Total suspension of the provision of the service",
    "Service restriction: Partial termination of the provision of the service",
    "Service restriction: Total termination of the provision of the service",
    "Account restriction: Suspension of the account",
    "Account restriction: Termination of the account",
]
OWN_COLUMNS = [
    "Category",
    *RESTRICTIONS,
    "Total number of decisions",
    "Detected by automated means",
    "Not detected by automated means",
    "Decided solely by automated means",
]
MINORS = "Protection of minors"


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as fh:
        return next(csv.reader(fh))


def _row(path: Path, first_column: str, value: str) -> dict[str, str]:
    return next(r for r in _read(path) if r[first_column] == value)


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


def _officer(session: Session, kind: str, subject: str, minutes: int, **extra: object) -> None:
    session.add(
        CaseActionRow(
            case_id="case-1",
            platform_id="demo",
            subject=subject,
            kind=kind,
            rule="grooming-minor",
            reason="",
            actor="mod@x",
            at=T0 + timedelta(minutes=minutes),
            **extra,
        )
    )
    session.commit()


def _write(session: Session, out: Path, period: Period = NOVEMBER) -> None:
    write_transparency(session, period, out, provider="Demo Games SAS", published=PUBLISHED)


def test_files_and_identification(session: Session, make_case, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _setup(session, make_case)
    paths = write_transparency(session, NOVEMBER, tmp_path, provider="Demo Games SAS")
    assert [p.name for p in paths] == list(FILES)
    assert all(p.read_bytes().split(b"\r\n")[0] for p in paths)  # RFC 4180 line ends
    ident = {r["Field"]: r["Value"] for r in _read(tmp_path / "identification.csv")}
    assert ident["Name of the provider"] == "Demo Games SAS"
    assert ident["Name of the service"] == "demo-game"
    assert ident["Start of the reporting period"] == "2026-11-01"
    assert ident["End of the reporting period"] == "2026-11-30"
    assert "2024/2835" in ident["Template"]
    assert session.query(AuditRow).filter_by(action="transparency.export").count() == 1


def test_own_initiative_tables(session: Session, make_case, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Two cases, each with a hold and a block with a contact restriction, none approved:
    four decisions on the terms, none on illegal content."""
    _setup(session, make_case)
    _write(session, tmp_path)
    terms = tmp_path / "own_initiative_terms_and_conditions.csv"
    illegal = tmp_path / "own_initiative_illegal_content.csv"
    assert _header(terms) == OWN_COLUMNS and _header(illegal) == OWN_COLUMNS
    assert [r["Category"] for r in _read(illegal)] == CATEGORIES
    assert [r["Category"] for r in _read(terms)] == [
        *CATEGORIES,
        "Other violation of provider’s terms and conditions",
    ]
    row = _row(terms, "Category", MINORS)
    assert row["Visibility restriction: Removal of content"] == "2"  # the blocks
    assert row["Visibility restriction: Disabling access to content"] == "2"  # the holds
    assert row["Service restriction: Partial suspension of the provision of the service"] == "2"
    assert row["Total number of decisions"] == "4"
    assert row["Detected by automated means"] == "4"
    assert row["Decided solely by automated means"] == "4"
    others = _read(illegal) + [r for r in _read(terms) if r["Category"] != MINORS]
    assert all(v == "0" for r in others for k, v in r.items() if k != "Category")
    summary = {r["metric"]: r["value"] for r in _read(tmp_path / "summary.csv")}
    assert summary["restrictions_total"] == "4"
    assert summary["median_seconds_to_action_own_initiative"] == "2"  # median(1, 2, 1, 2)


def test_illegal_content_once_a_person_confirmed_it(
    session: Session,
    make_case,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    """An approved report makes the ground illegal content (as the statements say); the
    officer's suspension of that account counts under Art. 23 as manifestly illegal content."""
    _setup(session, make_case)
    record_approval(
        session, "case-1", authority="pharos", author="mod@x", approver="ref@x", role="referent"
    )
    _officer(session, "suspend", "p-unreported", 55)
    record_statements(session, Grounds())
    session.commit()
    _write(session, tmp_path)
    row = _row(tmp_path / "own_initiative_illegal_content.csv", "Category", MINORS)
    assert row["Visibility restriction: Removal of content"] == "1"
    assert row["Account restriction: Suspension of the account"] == "1"
    assert row["Total number of decisions"] == "3"
    assert row["Decided solely by automated means"] == "2"  # the officer's is not automated
    terms = _row(tmp_path / "own_initiative_terms_and_conditions.csv", "Category", MINORS)
    assert terms["Total number of decisions"] == "2"  # case-2, dismissed, stays on the terms
    art23 = {
        r["Reason for the suspension"]: r["Number of suspensions"]
        for r in _read(tmp_path / "suspensions_art_23.csv")
    }
    assert art23 == {
        "Provision of manifestly illegal content": "1",
        "Submission of manifestly unfounded notices": "",
        "Submission of manifestly unfounded complaints": "",
    }


def test_notices(session: Session, make_case, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Two child reports; the first is followed by case-2's hold 1 h 58 min 1 s later."""
    _setup(session, make_case)
    _write(session, tmp_path)
    notices = tmp_path / "notices.csv"
    assert _header(notices) == [
        "Category",
        "Number of notices",
        "Notices submitted by trusted flaggers",
        "Actions taken on the basis of the law",
        "Actions taken on the basis of terms and conditions",
        "Notices processed by solely automated means",
        "Median time to take action (hours)",
    ]
    assert [r["Category"] for r in _read(notices)] == [
        *CATEGORIES,
        "Type of alleged illegal content not specified by the notifier",
    ]
    row = _row(notices, "Category", "Type of alleged illegal content not specified by the notifier")
    assert row["Number of notices"] == "2"
    assert row["Notices submitted by trusted flaggers"] == ""  # Vigie does not know them
    assert row["Actions taken on the basis of the law"] == "0"
    assert row["Actions taken on the basis of terms and conditions"] == "1"
    assert row["Notices processed by solely automated means"] == "1"
    assert row["Median time to take action (hours)"] == "1.97"


def test_complaints_with_every_outcome(session: Session, make_case, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _setup(session, make_case)
    hold = session.query(DecisionRow).filter_by(case_id="case-1", kind="hold").one()
    for hours_taken, outcome in (
        (1, "upheld"),
        (4, "partly_reversed"),
        (6, "omitted"),
        (0, None),
    ):
        session.add(
            ComplaintRow(
                platform_id="demo",
                decision_id=hold.id,
                case_id="case-1",
                received_at=T0 + timedelta(hours=1),
                decided_at=T0 + timedelta(hours=1 + hours_taken) if outcome else None,
                outcome=outcome,
            )
        )
    session.commit()
    _write(session, tmp_path)
    path = tmp_path / "complaints.csv"
    assert _header(path) == [
        "Basis of the complaint",
        "Number of complaints received",
        "Decision upheld",
        "Decision reversed",
        "Decision partially reversed",
        "Decision omitted",
        "Pending",
        "Median time to decide (hours)",
    ]
    total = _row(path, "Basis of the complaint", "Total")
    assert [total[k] for k in _header(path)[1:]] == ["5", "1", "1", "1", "1", "1", "3.00"]
    assert (
        _row(path, "Basis of the complaint", "Illegal content")["Number of complaints received"]
        == "0"
    )


def test_appeal_against_an_officer_takes_its_ground(
    session: Session,
    make_case,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    """A user's appeal is against the officer's measure; its ground is that statement's."""
    _setup(session, make_case)
    record_approval(
        session, "case-1", authority="pharos", author="mod@x", approver="ref@x", role="referent"
    )
    _officer(session, "suspend", "p-adult", 50)
    action = session.query(CaseActionRow).one()
    complaint = ComplaintRow(
        platform_id="demo", case_id="case-1", received_at=T0 + timedelta(hours=1)
    )
    session.add(complaint)
    session.flush()
    session.add(
        AppealRow(
            case_id="case-1",
            action_id=action.id,
            complaint_id=complaint.id,
            statement="not me",
            recorded_by="mod@x",
            recorded_at=T0 + timedelta(hours=1),
        )
    )
    session.commit()
    _write(session, tmp_path)
    row = _row(tmp_path / "complaints.csv", "Basis of the complaint", "Illegal content")
    assert row["Number of complaints received"] == "1" and row["Pending"] == "1"


def test_automated_means_accuracy(session: Session, make_case, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """case-1 confirmed, case-2 dismissed: each tool half right; an officer who releases
    case-1's held message reverses that hold."""
    _setup(session, make_case)
    _write(session, tmp_path / "before")
    path = tmp_path / "before" / "automated_means.csv"
    assert _header(path) == [
        "Automated tool",
        "Category",
        "Restrictions with the tool's detection",
        "Decided solely by automated means",
        "Reviewed by a person",
        "Confirmed on review",
        "Reversed on review",
        "Accuracy (confirmed / reviewed)",
        "Error rate (reversed / reviewed)",
        "Reversed on complaint",
    ]
    patterns = _row(path, "Automated tool", "patterns")
    assert patterns["Category"] == MINORS
    assert [patterns[k] for k in _header(path)[2:]] == [
        "4",
        "4",
        "4",
        "2",
        "2",
        "0.5000",
        "0.5000",
        "1",  # case-2's block, reversed on complaint, was detected by both tools
    ]
    assert _row(path, "Automated tool", "semantic")["Reversed on complaint"] == "1"
    assert (
        _row(path, "Automated tool", "All automated means")[
            "Restrictions with the tool's detection"
        ]
        == "4"
    )
    interim = _read(tmp_path / "before" / "interim_regulation_2021_1232.csv")
    assert {
        "metric": "false_positive_ratio",
        "type": "",
        "technology": "patterns",
        "value": "0.5000",
    } in interim
    _officer(session, "release_held", "p-adult", 20, event_id="c-1-ev-4")
    _write(session, tmp_path / "after")
    patterns = _row(tmp_path / "after" / "automated_means.csv", "Automated tool", "patterns")
    assert (patterns["Confirmed on review"], patterns["Reversed on review"]) == ("1", "3")


def test_officers_restrictions_are_counted(session: Session, make_case, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A suspension after the child's report is notice-driven; one on an account nobody
    reported is own initiative, detected by Vigie's signals, decided by a person."""
    _setup(session, make_case)
    _officer(session, "suspend", "p-adult", 50)
    _officer(session, "suspend", "p-unreported", 55)
    _officer(session, "warn", "p-unreported", 56)  # restricts nothing
    _write(session, tmp_path)
    summary = {r["metric"]: r["value"] for r in _read(tmp_path / "summary.csv")}
    assert summary["restrictions_total"] == "6" and summary["restrictions_by_officers"] == "2"
    row = _row(tmp_path / "own_initiative_terms_and_conditions.csv", "Category", MINORS)
    assert row["Account restriction: Suspension of the account"] == "1"
    assert row["Total number of decisions"] == "5"
    assert row["Detected by automated means"] == "5"
    assert row["Decided solely by automated means"] == "4"


def test_practice_never_counts(session: Session, make_case, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _setup(session, make_case)
    _write(session, tmp_path / "before")
    for decision in ("suspend", "restrict_contact", "prepare_report"):
        session.add(
            PracticeAttemptRow(
                user_id=1,
                case_key="grooming-stage-3",
                decision=decision,
                channel="pharos",
                signs=["secrecy"],
                verdict="right",
                channel_ok=True,
                passed=True,
                at=T0 + timedelta(minutes=30),
            )
        )
    session.commit()
    _write(session, tmp_path / "after")
    for name in FILES:
        if name != "summary.csv":  # its audit chain head moves with each export
            assert (tmp_path / "after" / name).read_bytes() == (
                tmp_path / "before" / name
            ).read_bytes(), name


def test_provider_tables_stay_empty(session: Session, make_case, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Orders and out-of-court disputes never reach Vigie: laid out, left for the provider."""
    _setup(session, make_case)
    _write(session, tmp_path)
    orders = _read(tmp_path / "orders.csv")
    assert _header(tmp_path / "orders.csv")[:4] == ["Type of order", "Category", "AT", "BE"]
    assert len(orders) == 2 * len(CATEGORIES)
    assert all(
        v == "" for r in orders for k, v in r.items() if k not in ("Type of order", "Category")
    )
    disputes = _read(tmp_path / "out_of_court_disputes.csv")
    assert len(disputes) == 1 and set(disputes[0].values()) == {""}
    assert "Median time to complete the procedure (hours)" in disputes[0]


def test_empty_period(session: Session, make_case, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _setup(session, make_case)
    _write(session, tmp_path, Period.from_dates(date(2025, 1, 1), date(2025, 1, 31)))
    summary = {r["metric"]: r["value"] for r in _read(tmp_path / "summary.csv")}
    assert summary["restrictions_total"] == "0"
    assert summary["median_seconds_to_action_notices"] == ""
    row = _row(
        tmp_path / "notices.csv",
        "Category",
        "Type of alleged illegal content not specified by the notifier",
    )
    assert row["Number of notices"] == "0" and row["Median time to take action (hours)"] == ""


def test_one_platform(session: Session, make_case, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _setup(session, make_case)
    session.add(PlatformRow(id="other", name="other-app", pseudonym_secret="x", created_at=T0))
    session.commit()
    _write(
        session,
        tmp_path / "other",
        Period.from_dates(date(2026, 11, 1), date(2026, 11, 30), "other"),
    )
    ident = {r["Field"]: r["Value"] for r in _read(tmp_path / "other" / "identification.csv")}
    assert ident["Name of the service"] == "other-app"
    row = _row(tmp_path / "other" / "own_initiative_terms_and_conditions.csv", "Category", MINORS)
    assert row["Total number of decisions"] == "0"
    _write(
        session, tmp_path / "demo", Period.from_dates(date(2026, 11, 1), date(2026, 11, 30), "demo")
    )
    row = _row(tmp_path / "demo" / "own_initiative_terms_and_conditions.csv", "Category", MINORS)
    assert row["Total number of decisions"] == "4"
