"""The human-readable side of an evidence package: one PDF built with fpdf2 from ``CaseFacts``.

It says the same as ``case.json`` (that file is the reference when they disagree, for instance
when a character cannot be drawn with the fonts available). Media appear as hashes only.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF

from vigie.reports.case_facts import CaseFacts

_FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))


class _Doc(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(format="A4")
        self.doc_title = title
        self.family = self._pick_font()
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(15, 15, 15)

    def _pick_font(self) -> str:
        """DejaVu when installed (all of Unicode we meet in chats); else Helvetica, Latin-1."""
        for folder in _FONT_DIRS:
            regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
            if regular.is_file() and bold.is_file():
                self.add_font("DejaVu", "", str(regular))
                self.add_font("DejaVu", "B", str(bold))
                return "DejaVu"
        return "Helvetica"

    def text_ok(self, value: str) -> str:
        if self.family == "DejaVu":
            return value
        return value.encode("latin-1", "replace").decode("latin-1")

    def header(self) -> None:
        self.set_font(self.family, "B", 9)
        self.cell(0, 6, self.text_ok(self.doc_title), new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family, "", 8)
        self.cell(0, 5, f"{self.page_no()}/{{nb}}", align="C")

    def heading(self, value: str) -> None:
        self.ln(3)
        self.set_font(self.family, "B", 12)
        self.multi_cell(0, 7, self.text_ok(value), new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.family, "", 9)

    def line_text(self, value: str, bold: bool = False) -> None:
        self.set_font(self.family, "B" if bold else "", 9)
        self.multi_cell(0, 5, self.text_ok(value), new_x="LMARGIN", new_y="NEXT")

    def rows(
        self, header: tuple[str, ...], rows: list[tuple[Any, ...]], widths: tuple[int, ...]
    ) -> None:
        self.set_font(self.family, "", 8)
        with self.table(col_widths=widths, text_align="LEFT", line_height=4.5) as table:
            head = table.row()
            for cell in header:
                head.cell(self.text_ok(cell))
            for values in rows:
                row = table.row()
                for cell in values:
                    row.cell(self.text_ok("" if cell is None else str(cell)))
        self.set_font(self.family, "", 9)


def _t(value: str) -> str:
    """Times to the second for reading ("2026-11-20 17:02:00"); case.json keeps them exact."""
    return value[:19].replace("T", " ") if len(value) >= 19 and value[10] == "T" else value


def render_pdf(
    facts: CaseFacts, *, generated_at: datetime, purpose: str, actions_log: list[dict[str, Any]]
) -> bytes:
    doc = _Doc(f"Vigie evidence package — case {facts.case_id} — {facts.platform_name}")
    doc.alias_nb_pages()
    doc.set_creation_date(generated_at)
    doc.add_page()
    _summary(doc, facts, generated_at, purpose)
    _parties(doc, facts)
    _indicators(doc, facts)
    _actions(doc, facts, actions_log)
    _media(doc, facts)
    _reports(doc, facts)
    _timeline(doc, facts)
    doc.heading("Integrity")
    doc.line_text(
        "manifest.json lists the SHA-256 of this PDF and of case.json; manifest.sig is its "
        "Ed25519 signature by the platform key in public_key.pem. Check with "
        "'vigie evidence verify DIR'. case.json is the reference text of every fact above."
    )
    return bytes(doc.output())


def _summary(doc: _Doc, f: CaseFacts, generated_at: datetime, purpose: str) -> None:
    doc.heading("Case")
    for label, value in (
        ("Purpose", purpose),
        ("Case", f.case_id),
        ("Platform", f"{f.platform_name} ({f.platform_id})"),
        ("Subject (pseudonym)", f.subject),
        ("Conversation", f.conversation_id or "-"),
        ("Status / priority / risk", f"{f.status} / {f.priority} / {f.risk}"),
        ("Indicator categories", ", ".join(f.categories) or "-"),
        ("Opened (UTC)", _t(f.opened_at)),
        ("Package generated", generated_at.isoformat()),
    ):
        doc.line_text(f"{label}: {value}")
    doc.line_text(
        "People are named by pseudonym; the platform maps them to accounts on "
        "lawful request. No media file is included, only hashes."
    )


def _parties(doc: _Doc, f: CaseFacts) -> None:
    doc.heading("Parties")
    doc.rows(
        ("Pseudonym", "Role", "Age", "Age source", "Account created (UTC)"),
        [
            (
                p.pseudo_id,
                p.role,
                p.age if p.age is not None else "unknown",
                p.age_source,
                _t(p.account_created) if p.account_created else "-",
            )
            for p in f.parties
        ],
        (40, 25, 20, 30, 65),
    )


def _indicators(doc: _Doc, f: CaseFacts) -> None:
    doc.heading("Indicators (warning signs found by Vigie, with their explanation)")
    if not f.indicators:
        doc.line_text("none recorded")
    for i in f.indicators:
        doc.line_text(f"{_t(i.at)} — {i.category} — {i.detector} — score {i.score}", bold=True)
        doc.line_text(
            f"Meaning: {i.meaning}. Why: {i.explanation}"
            + (f" (message {i.message_id})" if i.message_id else "")
            + (f" (media {i.media_id})" if i.media_id else "")
        )


def _actions(doc: _Doc, f: CaseFacts, log: list[dict[str, Any]]) -> None:
    doc.heading("Actions taken")
    rows = [(_t(a.at), a.decision, ", ".join(a.actions), ", ".join(a.rules)) for a in f.actions]
    if rows:
        doc.rows(("At (UTC)", "Decision", "Actions", "Policy rules"), rows, (45, 20, 70, 45))
    if log:
        doc.line_text("Audit trail entries for this case:", bold=True)
        doc.rows(
            ("At (UTC)", "Who", "What", "Entry hash"),
            [(_t(e["at"]), e["actor"], e["action"], e["hash"][:16] + "…") for e in log],
            (45, 45, 45, 45),
        )
    if not rows and not log:
        doc.line_text("none recorded")


def _media(doc: _Doc, f: CaseFacts) -> None:
    doc.heading("Media (hashes only, never the files)")
    if not f.media:
        doc.line_text("none")
    for m in f.media:
        doc.line_text(
            f"{_t(m.at)} — media {m.id} from {m.sender} to {', '.join(m.recipients)}", bold=True
        )
        for kind, value in sorted(m.hashes.items()):
            doc.line_text(f"{kind}: {value}")


def _reports(doc: _Doc, f: CaseFacts) -> None:
    doc.heading("Reports to authorities and legal holds")
    if not f.reports:
        doc.line_text("none recorded")
        return
    doc.rows(
        ("At (UTC)", "Kind", "Authority / reason", "Reference", "Held until"),
        [
            (_t(r.at), r.kind, r.authority_or_reason, r.reference or "-", _t(r.until or "-"))
            for r in f.reports
        ],
        (40, 25, 50, 30, 35),
    )


def _timeline(doc: _Doc, f: CaseFacts) -> None:
    doc.heading("Timeline")
    doc.rows(
        ("At (UTC)", "Kind", "What"),
        [(_t(e.at), e.kind, e.summary) for e in f.timeline],
        (45, 22, 113),
    )
