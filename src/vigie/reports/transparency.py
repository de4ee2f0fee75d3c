"""Transparency figures for a period, as CSV (RFC 4180, UTF-8, CRLF line ends).

The DSA harmonised templates (Implementing Regulation (EU) 2024/2835) ask for notices, own-
initiative moderation by type, ground and detection method, use of automated means and their
accuracy, median time to action, and complaints with their outcomes; Regulation (EU) 2021/1232
(voluntary detection, interim) asks yearly for cases by type, reports to authorities, error
rates per technology and complaints. Vigie writes the figures it knows; orders from authorities
(Art. 9/10) are not recorded by Vigie and say so in ``summary.csv``.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from statistics import median
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from vigie import csv_safe
from vigie.reports.audit import append_audit
from vigie.reports.dsa import CATEGORY_MINORS, keywords_for
from vigie.reports.dsa_client import CONSOLE_RESTRICTIONS, console_puid
from vigie.store.console_tables import CaseActionRow
from vigie.store.reports_tables import ComplaintRow, DsaStatementRow, ReportSubmissionRow
from vigie.store.tables import AuditRow, CaseRow, DecisionRow, MessageRow, SignalRow, UserReportRow

_S = TypeVar("_S", bound=Select)
# Decisions Vigie takes alone rest on the platform's terms (see dsa.build_statement).
DEFAULT_GROUND = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
CONFIRMED = ("report_pending", "reported", "actioned")
RESTRICTIVE = ("hold", "block")
FILES = (
    "summary.csv",
    "own_initiative.csv",
    "notices.csv",
    "automated_means.csv",
    "complaints.csv",
    "interim_regulation_2021_1232.csv",
)


@dataclass(slots=True)
class Period:
    start: datetime
    end: datetime  # exclusive
    # A transparency report is per service: one platform, or None for all of them together.
    platform_id: str | None = None

    @classmethod
    def from_dates(cls, first: date, last: date, platform_id: str | None = None) -> Period:
        """Whole days, ``last`` included, in UTC."""
        return cls(
            datetime.combine(first, time(), UTC),
            datetime.combine(last + timedelta(days=1), time(), UTC),
            platform_id,
        )

    def scope(self, stmt: _S, column: Any) -> _S:
        return stmt if self.platform_id is None else stmt.where(column == self.platform_id)


@dataclass(slots=True, frozen=True)
class _Officer:
    """A restriction an officer decided in the console (suspension, contact restriction)."""

    kind: str
    keyword: str
    ground: str
    automated_detection: bool
    from_notice: bool


@dataclass(slots=True)
class _Data:
    decisions: list[DecisionRow] = field(default_factory=list)
    officers: list[_Officer] = field(default_factory=list)
    signals: dict[tuple[str, str], list[SignalRow]] = field(default_factory=dict)
    reports: list[UserReportRow] = field(default_factory=list)
    complaints: list[ComplaintRow] = field(default_factory=list)
    cases: list[CaseRow] = field(default_factory=list)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _load(session: Session, p: Period) -> _Data:
    d = _Data()
    d.decisions = list(
        session.scalars(
            p.scope(select(DecisionRow), DecisionRow.platform_id)
            .where(DecisionRow.at >= p.start, DecisionRow.at < p.end)
            .order_by(DecisionRow.at)
        )
    )
    events = {(x.platform_id, x.event_id) for x in d.decisions}
    by_event: dict[tuple[str, str], list[SignalRow]] = defaultdict(list)
    ids = sorted({e for _, e in events})
    for start in range(0, len(ids), 500):
        stmt = select(SignalRow).where(SignalRow.event_id.in_(ids[start : start + 500]))
        for s in session.scalars(stmt):
            if (s.platform_id, s.event_id) in events:
                by_event[(s.platform_id, s.event_id)].append(s)
    d.signals = dict(by_event)
    d.reports = list(
        session.scalars(
            p.scope(select(UserReportRow), UserReportRow.platform_id).where(
                UserReportRow.at >= p.start, UserReportRow.at < p.end
            )
        )
    )
    d.complaints = list(
        session.scalars(
            p.scope(select(ComplaintRow), ComplaintRow.platform_id).where(
                ComplaintRow.received_at >= p.start, ComplaintRow.received_at < p.end
            )
        )
    )
    d.cases = list(
        session.scalars(
            p.scope(select(CaseRow), CaseRow.platform_id).where(
                CaseRow.opened_at >= p.start, CaseRow.opened_at < p.end
            )
        )
    )
    d.officers = _officers(session, p)
    return d


def _officers(session: Session, p: Period) -> list[_Officer]:
    """The console's restrictions in the period: they are restrictions as much as Vigie's own
    (their statements of reasons say the ground; a user report before them makes a notice)."""
    stmt = p.scope(select(CaseActionRow), CaseActionRow.platform_id).where(
        CaseActionRow.kind.in_(list(CONSOLE_RESTRICTIONS)),
        CaseActionRow.at >= p.start,
        CaseActionRow.at < p.end,
    )
    out = []
    for action in session.scalars(stmt):
        signals = list(
            session.scalars(select(SignalRow).where(SignalRow.case_id == action.case_id))
        )
        statement = session.get(DsaStatementRow, console_puid(action))
        reported = session.scalar(
            select(func.count())
            .select_from(UserReportRow)
            .where(
                UserReportRow.platform_id == action.platform_id,
                UserReportRow.subject == action.subject,
                UserReportRow.at <= action.at,
            )
        )
        out.append(
            _Officer(
                action.kind,
                ";".join(keywords_for({s.category for s in signals})) or "KEYWORD_OTHER",
                str(statement.payload.get("decision_ground")) if statement else DEFAULT_GROUND,
                any(s.category != "user_report" for s in signals),
                bool(reported),
            )
        )
    return out


def _signals_of(d: _Data, dec: DecisionRow) -> list[SignalRow]:
    return d.signals.get((dec.platform_id, dec.event_id), [])


def _is_notice(d: _Data, dec: DecisionRow) -> bool:
    return any(s.category == "user_report" for s in _signals_of(d, dec))


def _automated(d: _Data, dec: DecisionRow) -> bool:
    return any(s.category != "user_report" for s in _signals_of(d, dec))


def _median_seconds(deltas: list[float]) -> str:
    return f"{median(deltas):.0f}" if deltas else ""


def _write(path: Path, header: list[str], rows: Sequence[Sequence[object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(csv_safe.row(r) for r in rows)  # no formulas in a spreadsheet


def write_transparency(
    session: Session, period: Period, out: Path, *, actor: str = "system:transparency"
) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    d = _load(session, period)
    _own_initiative(session, d, out)
    notice_times = _notices(session, d, out)
    _automated_means(session, d, out)
    _complaints(d, out)
    _interim(session, d, period, out)
    _summary(session, d, period, out, notice_times)
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
    session.flush()  # the caller commits
    return [out / name for name in FILES]


def _grounds(session: Session, d: _Data) -> dict[int, str]:
    """Decision ground per decision, as its statement of reasons gave it."""
    ids = [x.id for x in d.decisions]
    grounds: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        stmt = select(DsaStatementRow.decision_id, DsaStatementRow.payload).where(
            DsaStatementRow.decision_id.in_(ids[start : start + 500])
        )
        for decision_id, payload in session.execute(stmt):
            grounds[decision_id] = str(payload.get("decision_ground", ""))
    return grounds


def _own_initiative(session: Session, d: _Data, out: Path) -> None:
    """Own-initiative restrictions by keyword, type, ground and detection method."""
    grounds = _grounds(session, d)
    counts: Counter[tuple[str, str, str, str, str]] = Counter()
    for dec in d.decisions:
        if dec.kind not in RESTRICTIVE or _is_notice(d, dec):
            continue
        cats = {s.category for s in _signals_of(d, dec)}
        keyword = ";".join(keywords_for(cats)) or "KEYWORD_OTHER"
        detection = "automated" if _automated(d, dec) else "manual"
        ground = grounds.get(dec.id, DEFAULT_GROUND)
        counts[(keyword, dec.kind, ground, detection, ";".join(sorted(dec.actions or [])))] += 1
    for o in d.officers:
        if not o.from_notice:
            detection = "automated" if o.automated_detection else "manual"
            counts[(o.keyword, o.kind, o.ground, detection, "officer")] += 1
    rows = [
        [CATEGORY_MINORS, k, kind, ground, det, acts, n]
        for (k, kind, ground, det, acts), n in sorted(counts.items())
    ]
    _write(
        out / "own_initiative.csv",
        ["category", "keywords", "restriction", "ground", "detection", "actions", "count"],
        rows,
    )


def _notices(session: Session, d: _Data, out: Path) -> list[float]:
    """Art. 16 notices (user reports): received, acted on, median time to the first action."""
    deltas: list[float] = []
    actioned = 0
    for rep in d.reports:
        first = session.scalar(
            select(func.min(DecisionRow.at)).where(
                DecisionRow.platform_id == rep.platform_id,
                DecisionRow.subject == rep.subject,
                DecisionRow.kind.in_(RESTRICTIVE),
                DecisionRow.at >= rep.at,
            )
        )
        if first is not None:
            actioned += 1
            deltas.append((_aware(first) - _aware(rep.at)).total_seconds())
    _write(
        out / "notices.csv",
        ["category", "notices_received", "notices_actioned", "median_seconds_to_action"],
        [[CATEGORY_MINORS, len(d.reports), actioned, _median_seconds(deltas)]],
    )
    return deltas


def _case_outcomes(session: Session) -> dict[str, str]:
    rows = session.execute(select(CaseRow.id, CaseRow.status)).all()
    return {
        cid: ("confirmed" if st in CONFIRMED else "dismissed" if st == "dismissed" else "open")
        for cid, st in rows
    }


def _automated_means(session: Session, d: _Data, out: Path) -> None:
    outcomes = _case_outcomes(session)
    stats: dict[str, Counter[str]] = defaultdict(Counter)
    for dec in d.decisions:
        for det in sorted({s.detector for s in _signals_of(d, dec)}):
            stats[det]["decisions"] += 1
            if dec.case_id:
                stats[det][f"case_{outcomes.get(dec.case_id, 'open')}"] += 1
    overturned = {c.decision_id for c in d.complaints if c.outcome == "overturned"}
    for dec in d.decisions:
        if dec.id in overturned:
            for det in {s.detector for s in _signals_of(d, dec)}:
                stats[det]["overturned"] += 1
    rows = []
    for det, c in sorted(stats.items()):
        judged = c["case_confirmed"] + c["case_dismissed"]
        fp = f"{c['case_dismissed'] / judged:.4f}" if judged else ""
        rate = f"{c['overturned'] / c['decisions']:.4f}" if c["decisions"] else ""
        rows.append(
            [
                det,
                c["decisions"],
                c["case_confirmed"],
                c["case_dismissed"],
                fp,
                c["overturned"],
                rate,
            ]
        )
    _write(
        out / "automated_means.csv",
        [
            "detector",
            "decisions",
            "decisions_in_confirmed_cases",
            "decisions_in_dismissed_cases",
            "false_positive_ratio",
            "overturned_on_complaint",
            "overturn_rate",
        ],
        rows,
    )


def _complaints(d: _Data, out: Path) -> None:
    rows = []
    for outcome in ("upheld", "overturned", "pending"):
        items = [c for c in d.complaints if (c.outcome or "pending") == outcome]
        deltas = [
            (_aware(c.decided_at) - _aware(c.received_at)).total_seconds()
            for c in items
            if c.decided_at
        ]
        rows.append([outcome, len(items), _median_seconds(deltas)])
    _write(out / "complaints.csv", ["outcome", "count", "median_seconds_to_decision"], rows)


def case_type(categories: set[str]) -> str:
    if "known_imagery" in categories:
        return "known_material"
    if categories & {"sextortion_threat", "payment_demand"}:
        return "sextortion"
    return "grooming"


def _interim(session: Session, d: _Data, p: Period, out: Path) -> None:
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
    with (out / "automated_means.csv").open(encoding="utf-8", newline="") as fh:
        for rec in csv.DictReader(fh):
            rows.append(["false_positive_ratio", "", rec["detector"], rec["false_positive_ratio"]])
    rows.append(["complaints_received", "", "", len(d.complaints)])
    rows.append(
        ["complaints_overturned", "", "", sum(1 for c in d.complaints if c.outcome == "overturned")]
    )
    _write(
        out / "interim_regulation_2021_1232.csv", ["metric", "type", "technology", "value"], rows
    )


def _summary(session: Session, d: _Data, p: Period, out: Path, notice_times: list[float]) -> None:
    own = [x for x in d.decisions if x.kind in RESTRICTIVE and not _is_notice(d, x)]
    own_times = []
    for dec in own:
        sent = [session.get(MessageRow, s.message_id) for s in _signals_of(d, dec) if s.message_id]
        first = min((_aware(m.sent_at) for m in sent if m), default=None)
        if first is not None:
            own_times.append((_aware(dec.at) - first).total_seconds())
    restrictive = [x for x in d.decisions if x.kind in RESTRICTIVE]
    head = session.scalar(select(AuditRow.hash).order_by(AuditRow.id.desc()).limit(1)) or ""
    rows: list[list[object]] = [
        ["period_start", p.start.date().isoformat()],
        ["period_end", (p.end - timedelta(days=1)).date().isoformat()],
        ["platform", p.platform_id or "all"],
        ["orders_received_art_9_10", "not recorded by Vigie"],
        ["notices_received_art_16", len(d.reports)],
        ["restrictions_total", len(restrictive) + len(d.officers)],
        ["restrictions_own_initiative", len(own) + sum(not o.from_notice for o in d.officers)],
        [
            "restrictions_automated_detection",
            sum(1 for x in restrictive if _automated(d, x))
            + sum(o.automated_detection for o in d.officers),
        ],
        ["restrictions_by_officers", len(d.officers)],
        ["median_seconds_to_action_notices", _median_seconds(notice_times)],
        ["median_seconds_to_action_own_initiative", _median_seconds(own_times)],
        ["complaints_received_art_20", len(d.complaints)],
        ["complaints_overturned", sum(1 for c in d.complaints if c.outcome == "overturned")],
        ["audit_chain_head", head],
    ]
    _write(out / "summary.csv", ["metric", "value"], rows)
