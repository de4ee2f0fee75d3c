"""The offences of the French Code pénal the facts of a case may constitute, in French.

Why: an investigator at PHAROS or OFMIN reads a package against the law; naming the articles
the indicators point to, with their wording, saves a step and says why each one is named. It
is an indication for the authority, never a legal finding: the qualification is for the
prosecutor and the judge. The wording quoted is the first paragraph of each article as in
force in 2026 (Légifrance); the full text there is authoritative.
"""

from __future__ import annotations

from dataclasses import dataclass

from vigie.reports.case_facts import CaseFacts

GROOMING = {
    "age_probing",
    "personal_info",
    "supervision_probing",
    "secrecy",
    "isolation",
    "flattery",
    "gift_offer",
    "platform_migration",
    "meeting_request",
    "pressure",
}
IMAGES = {"image_request", "camera_request", "known_imagery"}
EXTORTION = {"sextortion_threat", "payment_demand"}


@dataclass(slots=True, frozen=True)
class Offence:
    article: str
    title: str
    wording: str


ART_227_22_1 = Offence(
    "Code pénal, art. 227-22-1",
    "Propositions sexuelles faites à un mineur de quinze ans par un moyen de communication "
    "électronique",
    "Le fait pour un majeur de faire des propositions sexuelles à un mineur de quinze ans ou à "
    "une personne se présentant comme telle en utilisant un moyen de communication électronique "
    "est puni de deux ans d'emprisonnement et de 30 000 euros d'amende. Ces peines sont portées "
    "à cinq ans d'emprisonnement et 75 000 euros d'amende lorsque les propositions ont été "
    "suivies d'une rencontre.",
)
ART_227_23 = Offence(
    "Code pénal, art. 227-23",
    "Image ou représentation pornographique d'un mineur",
    "Le fait, en vue de sa diffusion, de fixer, d'enregistrer ou de transmettre l'image ou la "
    "représentation d'un mineur lorsque cette image ou cette représentation présente un "
    "caractère pornographique est puni de cinq ans d'emprisonnement et de 75 000 euros "
    "d'amende.",
)
ART_227_22 = Offence(
    "Code pénal, art. 227-22",
    "Corruption de mineur",
    "Le fait de favoriser ou de tenter de favoriser la corruption d'un mineur est puni de cinq "
    "ans d'emprisonnement et de 75 000 euros d'amende.",
)
ART_312_10 = Offence(
    "Code pénal, art. 312-10",
    "Chantage",
    "Le chantage est le fait d'obtenir, en menaçant de révéler ou d'imputer des faits de nature "
    "à porter atteinte à l'honneur ou à la considération, soit une signature, un engagement ou "
    "une renonciation, soit la révélation d'un secret, soit la remise de fonds, de valeurs ou "
    "d'un bien quelconque. Le chantage est puni de cinq ans d'emprisonnement et de 75 000 euros "
    "d'amende.",
)
CAVEAT = (
    "Qualifications envisageables au vu des indicateurs relevés, données à titre indicatif : "
    "la qualification des faits relève de l'autorité judiciaire."
)


@dataclass(slots=True, frozen=True)
class Qualification:
    article: str
    title: str
    wording: str
    motif: str  # why it is named: the indicators and ages behind it, in French


def qualify(facts: CaseFacts) -> list[Qualification]:
    """The articles the case's indicators and the parties' ages point to, in article order."""
    found = set(facts.categories) | {i.category for i in facts.indicators}
    subject = facts.party(facts.subject)
    adult = subject is not None and subject.age is not None and subject.age >= 18
    ages = [p.age for p in facts.parties if p.role != "subject" and p.age is not None]
    minors = [a for a in ages if a < 18]
    out = []
    if found & GROOMING and adult and any(a < 15 for a in minors):
        out.append(_q(ART_227_22_1, found & GROOMING, "majeur, mineur de moins de quinze ans"))
    if found & GROOMING and minors:
        out.append(_q(ART_227_22, found & GROOMING, "destinataire mineur"))
    if found & IMAGES and minors:
        out.append(_q(ART_227_23, found & IMAGES, "images d'un mineur demandées ou échangées"))
    if found & EXTORTION:
        out.append(_q(ART_312_10, found & EXTORTION, "menace de révélation contre remise"))
    return sorted(out, key=lambda q: q.article)


def _q(offence: Offence, categories: set[str], why: str) -> Qualification:
    motif = f"indicateurs : {', '.join(sorted(categories))} ; {why}"
    return Qualification(offence.article, offence.title, offence.wording, motif)
