"""The human-readable side of an evidence package: one PDF built with fpdf2 from ``CaseFacts``.

It says the same as ``case.json`` (that file is the reference when they disagree, for instance
when a character cannot be drawn with the fonts available). Media appear as hashes only. French
authorities get it in French (``lang="fr"``): the labels change, the facts do not.
"""

from __future__ import annotations

from collections.abc import Callable
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


LABELS: dict[str, tuple[str, str]] = {
    "title": ("Vigie evidence package — case", "Dossier de preuves Vigie — affaire"),
    "case": ("Case", "Affaire"),
    "purpose": ("Purpose", "Objet"),
    "platform": ("Platform", "Plateforme"),
    "entity": ("Legal entity", "Personne morale"),
    "requisitions": ("Requisitions to", "Réquisitions à adresser à"),
    "subject": ("Subject (pseudonym)", "Personne mise en cause (pseudonyme)"),
    "conversation": ("Conversation", "Conversation"),
    "status": ("Status / priority / risk", "Statut / priorité / risque"),
    "categories": ("Indicator categories", "Catégories d'indicateurs"),
    "opened": ("Opened (UTC)", "Ouverte (UTC)"),
    "generated": ("Package generated", "Dossier généré"),
    "prepared": ("Prepared by", "Préparé par"),
    "approved": ("Approved by (four eyes)", "Approuvé par (double contrôle)"),
    "key": ("Signing key (SHA-256 of public key)", "Clé de signature (SHA-256 de la clé publique)"),
    "none": ("none recorded", "aucun"),
    "not_given": ("not given", "non renseigné"),
    "pseudonyms": (
        "People are named by pseudonym; the platform maps them to accounts on lawful request. "
        "No media file is included, only hashes.",
        "Les personnes sont désignées par pseudonyme ; la plateforme communique les comptes "
        "correspondants sur réquisition. Aucun fichier média n'est joint, seulement des "
        "empreintes.",
    ),
    "legal": (
        "Possible offences under French law (wording in French)",
        "Qualifications pénales envisageables",
    ),
    "parties": ("Parties", "Personnes"),
    "account_id": ("Account id on the platform", "Identifiant du compte"),
    "pseudonym": ("Pseudonym", "Pseudonyme"),
    "role": ("Role", "Rôle"),
    "age": ("Age", "Âge"),
    "age_source": ("Age source", "Source de l'âge"),
    "created": ("Account created (UTC)", "Compte créé (UTC)"),
    "unknown": ("unknown", "inconnu"),
    "indicators": (
        "Indicators (warning signs found by Vigie, with their explanation)",
        "Indicateurs (signaux d'alerte relevés par Vigie, avec leur explication)",
    ),
    "before_case": ("recorded before the case opened", "relevé avant l'ouverture de l'affaire"),
    "meaning": ("Meaning", "Signification"),
    "why": ("Why", "Motif"),
    "decisions": ("Decisions by people (console)", "Décisions humaines (console)"),
    "actions": ("Automated actions and audit trail", "Mesures automatiques et journal d'audit"),
    "media": ("Media (hashes only, never the files)", "Médias (empreintes seulement)"),
    "reports": ("Reports to authorities and legal holds", "Signalements et conservation"),
    "timeline": ("Timeline", "Chronologie"),
    "integrity": ("Integrity", "Intégrité"),
    "integrity_text": (
        "manifest.json lists the SHA-256 of this PDF and of case.json; manifest.sig is its "
        "Ed25519 signature by the platform key in public_key.pem. Check with 'vigie evidence "
        "verify DIR' or without Vigie (OpenSSL, PyNaCl: see the platform's documentation). "
        "case.json is the reference text of every fact above.",
        "manifest.json contient le SHA-256 de ce PDF et de case.json ; manifest.sig en est la "
        "signature Ed25519 par la clé de la plateforme (public_key.pem). Vérification avec "
        "'vigie evidence verify DIR' ou sans Vigie (OpenSSL, PyNaCl). case.json fait foi pour "
        "chacun des faits ci-dessus.",
    ),
    "at": ("At (UTC)", "Date (UTC)"),
    "kind": ("Kind", "Type"),
    "what": ("What", "Quoi"),
    "who": ("Who", "Qui"),
    "rule": ("Rule", "Règle"),
    "reason": ("Reason", "Motif"),
    "authority": ("Authority", "Autorité"),
    "review": ("Review", "Contrôle"),
    "decision": ("Decision", "Décision"),
    "policy": ("Policy rules", "Règles"),
    "entry_hash": ("Entry hash", "Empreinte"),
    "reference": ("Reference", "Référence"),
    "until": ("Held until", "Conservé jusqu'au"),
}


def render_pdf(
    facts: CaseFacts, body: dict[str, Any], *, generated_at: datetime, lang: str = "en"
) -> bytes:
    """The package's PDF from the same ``body`` as case.json, in English or French."""
    tr = _translator(lang)
    doc = _Doc(f"{tr('title')} {facts.case_id} — {facts.platform_name}")
    doc.alias_nb_pages()
    doc.set_creation_date(generated_at)
    doc.add_page()
    _summary(doc, tr, facts, body, generated_at)
    _legal(doc, tr, body)
    _parties(doc, tr, facts, body.get("account_ids") or {})
    _indicators(doc, tr, facts)
    _decisions(doc, tr, facts)
    _actions(doc, tr, facts, body.get("audit") or [])
    _media(doc, tr, facts)
    _reports(doc, tr, facts)
    _timeline(doc, tr, facts)
    doc.heading(tr("integrity"))
    doc.line_text(tr("integrity_text"))
    return bytes(doc.output())


def _translator(lang: str) -> Callable[[str], str]:
    index = 1 if lang == "fr" else 0
    return lambda key: LABELS[key][index]


def _summary(
    doc: _Doc, tr: Callable[[str], str], f: CaseFacts, body: dict[str, Any], at: datetime
) -> None:
    doc.heading(tr("case"))
    identity = body.get("platform_identity") or {}
    approvals = ", ".join(f"{a.approver} ({a.authority}, {_t(a.at)})" for a in f.approvals)
    for label, value in (
        ("purpose", body.get("purpose", "")),
        ("case", f.case_id),
        ("platform", f"{f.platform_name} ({f.platform_id})"),
        ("entity", identity.get("legal_entity") or tr("not_given")),
        ("requisitions", identity.get("requisition_contact") or tr("not_given")),
        ("subject", f.subject),
        ("conversation", f.conversation_id or "-"),
        ("status", f"{f.status} / {f.priority} / {f.risk}"),
        ("categories", ", ".join(f.categories) or "-"),
        ("opened", _t(f.opened_at)),
        ("generated", at.isoformat()),
        ("prepared", body.get("prepared_by", "")),
        ("approved", approvals or tr("none")),
        ("key", body.get("key_sha256", "")),
    ):
        doc.line_text(f"{tr(label)}: {value}")
    doc.line_text(tr("pseudonyms"))


def _legal(doc: _Doc, tr: Callable[[str], str], body: dict[str, Any]) -> None:
    legal = body.get("legal_qualification") or {}
    doc.heading(tr("legal"))
    doc.line_text(legal.get("note", ""))
    offences = legal.get("offences") or []
    if not offences:
        doc.line_text(tr("none"))
    for q in offences:
        doc.line_text(f"{q['article']} — {q['title']}", bold=True)
        doc.line_text(f"« {q['wording']} »")
        doc.line_text(f"Motif : {q['motif']}")


def _parties(doc: _Doc, tr: Callable[[str], str], f: CaseFacts, ids: dict[str, str]) -> None:
    doc.heading(tr("parties"))
    header = ("pseudonym", "role", "age", "age_source", "created")
    rows = [
        [
            p.pseudo_id,
            p.role,
            p.age if p.age is not None else tr("unknown"),
            p.age_source,
            _t(p.account_created) if p.account_created else "-",
        ]
        for p in f.parties
    ]
    widths: tuple[int, ...] = (40, 25, 20, 30, 65)
    labels = [tr(h) for h in header]
    if ids:
        for row, p in zip(rows, f.parties, strict=True):
            row.insert(1, ids.get(p.pseudo_id, "-"))
        labels.insert(1, tr("account_id"))
        widths = (35, 35, 20, 15, 25, 50)
    doc.rows(tuple(labels), [tuple(r) for r in rows], widths)


def _indicators(doc: _Doc, tr: Callable[[str], str], f: CaseFacts) -> None:
    doc.heading(tr("indicators"))
    if not f.indicators:
        doc.line_text(tr("none"))
    for i in f.indicators:
        early = f" — {tr('before_case')}" if i.before_case else ""
        doc.line_text(
            f"{_t(i.at)} — {i.category} — {i.detector} — score {i.score}{early}", bold=True
        )
        doc.line_text(
            f"{tr('meaning')}: {i.meaning}. {tr('why')}: {i.explanation}"
            + (f" (message {i.message_id})" if i.message_id else "")
            + (f" (media {i.media_id})" if i.media_id else "")
        )


def _decisions(doc: _Doc, tr: Callable[[str], str], f: CaseFacts) -> None:
    doc.heading(tr("decisions"))
    if not f.human_decisions:
        doc.line_text(tr("none"))
        return
    doc.rows(
        (tr("at"), tr("who"), tr("decision"), tr("rule"), tr("reason"), tr("review")),
        [
            (
                _t(d.at),
                d.actor,
                d.kind + (f" → {d.authority}" if d.authority else ""),
                d.rule,
                d.reason,
                f"{d.report_status or ''} {d.reviewed_by or ''}".strip() or "-",
            )
            for d in f.human_decisions
        ],
        (28, 32, 30, 30, 35, 25),
    )


def _actions(doc: _Doc, tr: Callable[[str], str], f: CaseFacts, log: list[dict[str, Any]]) -> None:
    doc.heading(tr("actions"))
    rows = [(_t(a.at), a.decision, ", ".join(a.actions), ", ".join(a.rules)) for a in f.actions]
    if rows:
        doc.rows((tr("at"), tr("decision"), "Actions", tr("policy")), rows, (45, 20, 70, 45))
    if log:
        doc.rows(
            (tr("at"), tr("who"), tr("what"), tr("entry_hash")),
            [(_t(e["at"]), e["actor"], e["action"], e["hash"][:16] + "…") for e in log],
            (45, 45, 45, 45),
        )
    if not rows and not log:
        doc.line_text(tr("none"))


def _media(doc: _Doc, tr: Callable[[str], str], f: CaseFacts) -> None:
    doc.heading(tr("media"))
    if not f.media:
        doc.line_text(tr("none"))
    for m in f.media:
        doc.line_text(
            f"{_t(m.at)} — media {m.id}: {m.sender} → {', '.join(m.recipients)}", bold=True
        )
        for kind, value in sorted(m.hashes.items()):
            doc.line_text(f"{kind}: {value}")


def _reports(doc: _Doc, tr: Callable[[str], str], f: CaseFacts) -> None:
    doc.heading(tr("reports"))
    if not f.reports:
        doc.line_text(tr("none"))
        return
    doc.rows(
        (tr("at"), tr("kind"), tr("authority"), tr("reference"), tr("until")),
        [
            (_t(r.at), r.kind, r.authority_or_reason, r.reference or "-", _t(r.until or "-"))
            for r in f.reports
        ],
        (40, 25, 50, 30, 35),
    )


def _timeline(doc: _Doc, tr: Callable[[str], str], f: CaseFacts) -> None:
    doc.heading(tr("timeline"))
    doc.rows(
        (tr("at"), tr("kind"), tr("what")),
        [(_t(e.at), e.kind, e.summary) for e in f.timeline],
        (45, 22, 113),
    )
