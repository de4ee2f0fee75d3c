"""Transparency figures for a period, as CSV (RFC 4180, UTF-8, CRLF line ends).

The DSA files follow the harmonised templates of Implementing Regulation (EU) 2024/2835
(``transparency_template``: identification, orders, notices, own-initiative restrictions for
illegal content and for terms and conditions, complaints, out-of-court disputes, Art. 23
suspensions, automated means). Beside them: ``summary.csv``, Vigie's own totals with the audit
chain head, and the yearly figures of Regulation (EU) 2021/1232 (voluntary detection, interim).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from statistics import median

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigie.reports import transparency_template as template
from vigie.reports.audit import append_audit
from vigie.reports.transparency_data import CONFIRMED, Data, Period, load
from vigie.store.reports_tables import ReportSubmissionRow
from vigie.store.tables import AuditRow, PlatformRow

__all__ = ["FILES", "Period", "case_type", "write_transparency"]

FILES = (
    "identification.csv",
    "orders.csv",
    "notices.csv",
    "own_initiative_illegal_content.csv",
    "own_initiative_terms_and_conditions.csv",
    "complaints.csv",
    "out_of_court_disputes.csv",
    "suspensions_art_23.csv",
    "automated_means.csv",
    "summary.csv",
    "interim_regulation_2021_1232.csv",
)


def write_transparency(
    session: Session,
    period: Period,
    out: Path,
    *,
    actor: str = "system:transparency",
    provider: str = "",
    published: date | None = None,
) -> list[Path]:
    """Write every file of the report; audited, and the caller commits."""
    out.mkdir(parents=True, exist_ok=True)
    d = load(session, period)
    ident = template.Identification(
        provider, _services(session, period), published or datetime.now(UTC).date()
    )
    template.identification(out, period, ident)
    template.orders(out)
    template.notices(out, d)
    template.own_initiative(out, d)
    template.complaints(out, d)
    template.disputes(out)
    template.suspensions(out, d)
    errors = template.automated_means(out, d)
    _summary(session, d, period, out)
    _interim(session, d, period, out, errors)
    append_audit(
        session,
        actor,
        "transparency.export",
        str(out),
        {
            "from": period.start.isoformat(),
            "to": period.end.isoformat(),
            "platform": period.platform_id,
            "files": list(FILES),
        },
    )
    session.flush()
    return [out / name for name in FILES]


def _services(session: Session, p: Period) -> str:
    """The service reported on: the platform's name, or every platform's for a joint report."""
    stmt = p.scope(select(PlatformRow.name), PlatformRow.id).order_by(PlatformRow.name)
    return "; ".join(session.scalars(stmt)) or (p.platform_id or "")


def _median_seconds(deltas: list[float]) -> str:
    return f"{median(deltas):.0f}" if deltas else ""


def case_type(categories: set[str]) -> str:
    if "known_imagery" in categories:
        return "known_material"
    if categories & {"sextortion_threat", "payment_demand"}:
        return "sextortion"
    return "grooming"


def _interim(session: Session, d: Data, p: Period, out: Path, errors: dict[str, str]) -> None:
    rows: list[list[object]] = []
    types = Counter(case_type(set(c.categories or [])) for c in d.cases)
    rows += [["cases_opened", t, "", n] for t, n in sorted(types.items())]
    confirmed = Counter(
        case_type(set(c.categories or [])) for c in d.cases if c.status in CONFIRMED
    )
    rows += [["cases_confirmed", t, "", n] for t, n in sorted(confirmed.items())]
    subs = session.execute(
        p.scope(
            select(ReportSubmissionRow.authority, func.count()), ReportSubmissionRow.platform_id
        )
        .where(ReportSubmissionRow.at >= p.start, ReportSubmissionRow.at < p.end)
        .group_by(ReportSubmissionRow.authority)
    ).all()
    rows += [["reports_to_authorities", auth, "", n] for auth, n in sorted(subs)]
    exports = (
        session.scalar(
            p.scope(select(func.count()).select_from(AuditRow), AuditRow.platform_id).where(
                AuditRow.action == "evidence.export", AuditRow.at >= p.start, AuditRow.at < p.end
            )
        )
        or 0
    )
    rows.append(["evidence_packages_exported", "", "", exports])
    rows += [["false_positive_ratio", "", tool, rate] for tool, rate in sorted(errors.items())]
    rows.append(["complaints_received", "", "", len(d.complaints)])
    rows.append(
        ["complaints_overturned", "", "", sum(1 for c in d.complaints if c.outcome == "overturned")]
    )
    template.write_csv(
        out / "interim_regulation_2021_1232.csv", ["metric", "type", "technology", "value"], rows
    )


def _summary(session: Session, d: Data, p: Period, out: Path) -> None:
    """Vigie's own totals, and the audit chain head that proves later what was reported."""
    own = [r for r in d.restrictions if not r.from_notice]
    own_times = [
        (r.at - r.content_at).total_seconds()
        for r in own
        if r.decision_id is not None and r.content_at is not None
    ]
    notice_times = [a.delay_s for a in d.notice_actions if a is not None]
    officers = [r for r in d.restrictions if r.decision_id is None]
    head = session.scalar(select(AuditRow.hash).order_by(AuditRow.id.desc()).limit(1)) or ""
    rows: list[list[object]] = [
        ["period_start", p.start.date().isoformat()],
        ["period_end", (p.end - timedelta(days=1)).date().isoformat()],
        ["platform", p.platform_id or "all"],
        ["orders_received_art_9_10", "not recorded by Vigie"],
        ["notices_received_art_16", len(d.reports)],
        ["restrictions_total", len(d.restrictions)],
        ["restrictions_own_initiative", len(own)],
        ["restrictions_automated_detection", sum(r.automated_detection for r in d.restrictions)],
        ["restrictions_by_officers", len(officers)],
        ["median_seconds_to_action_notices", _median_seconds(notice_times)],
        ["median_seconds_to_action_own_initiative", _median_seconds(own_times)],
        ["complaints_received_art_20", len(d.complaints)],
        ["complaints_overturned", sum(1 for c in d.complaints if c.outcome == "overturned")],
        ["audit_chain_head", head],
    ]
    template.write_csv(out / "summary.csv", ["metric", "value"], rows)
