"""The sections of the DSA quantitative transparency template (Implementing Regulation (EU)
2024/2835, Annex I, Part II, section 1), one CSV file each, as Vigie can fill them.

Why one file per section: the template is a workbook of tables with different columns; a
CSV holds one table, so each section is a file with the table's rows and columns (category
rows, restriction-type columns, medians in hours). Figures Vigie does not record (orders,
trusted flaggers, out-of-court disputes, suspensions of notifiers and complainants) are left
empty, never zero: zero would claim a count nobody made.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from vigie import csv_safe
from vigie.reports.dsa import EU_COUNTRIES
from vigie.reports.dsa_template import (
    GROUND_LABELS,
    ILLEGAL,
    ILLEGAL_ROWS,
    LABELS,
    NOT_SPECIFIED,
    NOTICE_ROWS,
    RESTRICTION_HEADINGS,
    TERMS,
    TERMS_ROWS,
    hours,
)
from vigie.reports.transparency_data import Complaint, Data, Period, Restriction

TEMPLATE = "Commission Implementing Regulation (EU) 2024/2835, Annex I, quantitative template"
# How a complaint ended (``complaints.outcome``) -> the template's column.
COMPLAINT_OUTCOMES = {
    "upheld": "Decision upheld",
    "overturned": "Decision reversed",
    "partly_reversed": "Decision partially reversed",
    "omitted": "Decision omitted",
}
# Vigie's automated tools (``signals.detector``), described for a reader outside Vigie.
TOOLS = {
    "text.grooming": "Text model: warning signs of grooming, sextortion and exploitation",
    "known_imagery": "Hash matching against lists of known child sexual abuse imagery",
    "context.media_after_request": "Context rule: media a child sends after a request for images",
}


@dataclass(slots=True, frozen=True)
class Identification:
    provider: str
    services: str
    published: date


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """RFC 4180, UTF-8, CRLF; cells that a spreadsheet would run as formulas are defused."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(csv_safe.row(r) for r in rows)


def identification(out: Path, p: Period, ident: Identification) -> None:
    """Section 1.1: who reports, on what service, for which period."""
    rows = [
        ["Name of the provider", ident.provider],
        ["Name of the service", ident.services],
        ["Type of service", "Online platform"],
        ["Start of the reporting period", p.start.date().isoformat()],
        ["End of the reporting period", (p.end - timedelta(days=1)).date().isoformat()],
        ["Date of publication", ident.published.isoformat()],
        ["Template", TEMPLATE],
    ]
    write_csv(out / "identification.csv", ["Field", "Value"], rows)


def orders(out: Path) -> None:
    """Section 1.2: Member State orders (Art. 9 and 10) reach the provider, not Vigie: the
    table is laid out for the provider to fill."""
    header = [
        "Type of order",
        "Category",
        *EU_COUNTRIES,
        "Total",
        "Median time to confirm receipt (hours)",
        "Median time to give effect (hours)",
    ]
    blank = [""] * (len(EU_COUNTRIES) + 3)
    rows = [
        [kind, LABELS[c], *blank]
        for kind in ("Order to act against illegal content", "Order to provide information")
        for c in ILLEGAL_ROWS
    ]
    write_csv(out / "orders.csv", header, rows)


def notices(out: Path, d: Data) -> None:
    """Section 1.3: Art. 16 notices. A user report gives free text, not a category: every
    notice is under "not specified by the notifier"."""
    acted = [a for a in d.notice_actions if a is not None]
    counts = {
        NOT_SPECIFIED: [
            len(d.reports),
            "",
            sum(a.ground == ILLEGAL for a in acted),
            sum(a.ground == TERMS for a in acted),
            sum(a.solely_automated for a in acted),
            hours(a.delay_s for a in acted),
        ]
    }
    zero: list[object] = [0, "", 0, 0, 0, ""]
    rows = [[LABELS[c], *counts.get(c, zero)] for c in NOTICE_ROWS]
    header = [
        "Category",
        "Number of notices",
        "Notices submitted by trusted flaggers",
        "Actions taken on the basis of the law",
        "Actions taken on the basis of terms and conditions",
        "Notices processed by solely automated means",
        "Median time to take action (hours)",
    ]
    write_csv(out / "notices.csv", header, rows)


_OWN_TAIL = (
    "Total number of decisions",
    "Detected by automated means",
    "Not detected by automated means",
    "Decided solely by automated means",
)


def own_initiative(out: Path, d: Data) -> None:
    """Section 1.4: own-initiative restrictions, one table for illegal content and one for
    terms and conditions; a row per category, a column per type of restriction."""
    own = [r for r in d.restrictions if not r.from_notice]
    for ground, rows, name in (
        (ILLEGAL, ILLEGAL_ROWS, "own_initiative_illegal_content.csv"),
        (TERMS, TERMS_ROWS, "own_initiative_terms_and_conditions.csv"),
    ):
        mine = [r for r in own if r.ground == ground]
        table = [[LABELS[c], *_own_row([r for r in mine if r.category == c])] for c in rows]
        write_csv(out / name, ["Category", *RESTRICTION_HEADINGS.values(), *_OWN_TAIL], table)


def _own_row(items: list[Restriction]) -> list[int]:
    types = Counter(t for r in items for t in r.types)
    detected = sum(r.automated_detection for r in items)
    return [
        *(types[t] for t in RESTRICTION_HEADINGS),
        len(items),
        detected,
        len(items) - detected,
        sum(r.solely_automated for r in items),
    ]


def complaints(out: Path, d: Data) -> None:
    """Section 1.5: Art. 20 complaints by the ground of the contested decision."""
    header = [
        "Basis of the complaint",
        "Number of complaints received",
        *COMPLAINT_OUTCOMES.values(),
        "Pending",
        "Median time to decide (hours)",
    ]
    rows = [
        [GROUND_LABELS[g], *_complaint_row([c for c in d.complaints if c.ground == g])]
        for g in (ILLEGAL, TERMS)
    ]
    rows.append(["Total", *_complaint_row(d.complaints)])
    write_csv(out / "complaints.csv", header, rows)


def _complaint_row(items: list[Complaint]) -> list[object]:
    outcomes = Counter(c.outcome for c in items)
    delays = [(c.decided_at - c.received_at).total_seconds() for c in items if c.decided_at]
    return [
        len(items),
        *(outcomes[o] for o in COMPLAINT_OUTCOMES),
        sum(1 for c in items if c.outcome not in COMPLAINT_OUTCOMES),
        hours(delays),
    ]


def disputes(out: Path) -> None:
    """Art. 21 out-of-court disputes are settled outside Vigie: the table is for the provider."""
    header = [
        "Number of disputes submitted",
        "Settled in favour of the recipient of the service",
        "Settled in favour of the provider",
        "Ended without a decision",
        "Median time to complete the procedure (hours)",
        "Share of decisions implemented by the provider (%)",
    ]
    write_csv(out / "out_of_court_disputes.csv", header, [[""] * len(header)])


def suspensions(out: Path, d: Data) -> None:
    """Art. 23 suspensions: an officer's account suspension once a person confirmed the
    content illegal counts for manifestly illegal content; Vigie never suspends notifiers or
    complainants, so those rows are the provider's to fill."""
    illegal = sum(
        1
        for r in d.restrictions
        if r.decision_id is None and r.ground == ILLEGAL and "DECISION_ACCOUNT_SUSPENDED" in r.types
    )
    rows: list[list[object]] = [
        ["Provision of manifestly illegal content", illegal],
        ["Submission of manifestly unfounded notices", ""],
        ["Submission of manifestly unfounded complaints", ""],
    ]
    write_csv(
        out / "suspensions_art_23.csv", ["Reason for the suspension", "Number of suspensions"], rows
    )


def automated_means(out: Path, d: Data) -> dict[str, str]:
    """Section 1.6: each automated tool's restrictions, how many were solely automated, and
    its accuracy where a person reviewed them. Returns the error rate per tool."""
    complained = {c.decision_id for c in d.complaints if c.outcome == "overturned"}
    own = [r for r in d.restrictions if r.decision_id is not None and r.detectors]
    groups: dict[tuple[str, str], list[Restriction]] = {}
    for r in own:
        for tool in sorted(r.detectors):
            groups.setdefault((tool, r.category), []).append(r)
    rows, errors = [], {}
    for (tool, cat), items in sorted(groups.items()):
        row = _means_row(d, items, complained)
        rows.append([TOOLS.get(tool, tool), LABELS.get(cat, cat), *row])
        errors[tool] = str(row[-2])
    rows.append(["All automated means", "", *_means_row(d, own, complained)])
    header = [
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
    write_csv(out / "automated_means.csv", header, rows)
    return errors


def _means_row(d: Data, items: list[Restriction], complained: set[int | None]) -> list[object]:
    verdicts = Counter(d.reviews.get(r.decision_id or 0) for r in items)
    reviewed = verdicts["confirmed"] + verdicts["reversed"]
    return [
        len(items),
        sum(r.solely_automated for r in items),
        reviewed,
        verdicts["confirmed"],
        verdicts["reversed"],
        f"{verdicts['confirmed'] / reviewed:.4f}" if reviewed else "",
        f"{verdicts['reversed'] / reviewed:.4f}" if reviewed else "",
        sum(1 for r in items if r.decision_id in complained),
    ]
