"""DSA Article 17 statements of reasons, in the DSA Transparency Database API format.

Field names and enumerations are those of the Transparency Database API
(``POST /api/v1/statement``, ``POST /api/v1/statements`` with up to 100 per call). Statements
carry no personal data (Art. 24(5)): facts are stated by indicator category, never by quoting
messages or naming pseudonyms; the PUID points back into Vigie (``vigie-<platform>-<decision>``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vigie.domain.categories import CATEGORIES, Category

DECISION_VISIBILITY = (
    "DECISION_VISIBILITY_CONTENT_REMOVED",
    "DECISION_VISIBILITY_CONTENT_DISABLED",
    "DECISION_VISIBILITY_CONTENT_DEMOTED",
    "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED",
    "DECISION_VISIBILITY_CONTENT_LABELLED",
    "DECISION_VISIBILITY_OTHER",
)
DECISION_MONETARY = (
    "DECISION_MONETARY_SUSPENSION",
    "DECISION_MONETARY_TERMINATION",
    "DECISION_MONETARY_OTHER",
)
DECISION_ACCOUNT = ("DECISION_ACCOUNT_SUSPENDED", "DECISION_ACCOUNT_TERMINATED")
DECISION_PROVISION = (
    "DECISION_PROVISION_PARTIAL_SUSPENSION",
    "DECISION_PROVISION_TOTAL_SUSPENSION",
    "DECISION_PROVISION_PARTIAL_TERMINATION",
    "DECISION_PROVISION_TOTAL_TERMINATION",
)
DECISION_GROUNDS = ("DECISION_GROUND_ILLEGAL_CONTENT", "DECISION_GROUND_INCOMPATIBLE_CONTENT")
CONTENT_TYPES = (
    "CONTENT_TYPE_APP",
    "CONTENT_TYPE_AUDIO",
    "CONTENT_TYPE_IMAGE",
    "CONTENT_TYPE_PRODUCT",
    "CONTENT_TYPE_SYNTHETIC_MEDIA",
    "CONTENT_TYPE_TEXT",
    "CONTENT_TYPE_VIDEO",
    "CONTENT_TYPE_OTHER",
)
CATEGORY_MINORS = "STATEMENT_CATEGORY_PROTECTION_OF_MINORS"
MINORS_KEYWORDS = (
    "KEYWORD_AGE_SPECIFIC_RESTRICTIONS_MINORS",
    "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL",
    "KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL_DEEPFAKE",
    "KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS",
    "KEYWORD_UNSAFE_CHALLENGES",
    "KEYWORD_OTHER",
)
SOURCE_TYPES = (
    "SOURCE_ARTICLE_16",
    "SOURCE_TRUSTED_FLAGGER",
    "SOURCE_TYPE_OTHER_NOTIFICATION",
    "SOURCE_VOLUNTARY",
)
AUTOMATED_DECISIONS = (
    "AUTOMATED_DECISION_FULLY",
    "AUTOMATED_DECISION_PARTIALLY",
    "AUTOMATED_DECISION_NOT_AUTOMATED",
)
EU_COUNTRIES = (
    "AT",
    "BE",
    "BG",
    "CY",
    "CZ",
    "DE",
    "DK",
    "EE",
    "ES",
    "FI",
    "FR",
    "GR",
    "HR",
    "HU",
    "IE",
    "IT",
    "LT",
    "LU",
    "LV",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SE",
    "SI",
    "SK",
)
EEA_COUNTRIES = (*EU_COUNTRIES, "IS", "LI", "NO")
LIMITS = {
    "decision_facts": 5000,
    "illegal_content_legal_ground": 500,
    "illegal_content_explanation": 2000,
    "incompatible_content_ground": 500,
    "incompatible_content_explanation": 2000,
    "decision_visibility_other": 500,
    "puid": 500,
}
_PUID = re.compile(r"^[A-Za-z0-9_-]{1,500}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class StatementError(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(slots=True)
class Grounds:
    """The platform's wording of why it acts; configured once, reused by every statement."""

    terms_ground: str = "Terms of service, child safety section"
    terms_explanation: str = (
        "Contacting a minor with behaviour that child-protection guidance "
        "identifies as grooming or exploitation is not allowed."
    )
    legal_ground: str = "Directive 2011/93/EU art. 5-6; French Penal Code art. 227-22-1, 227-23"
    legal_explanation: str = (
        "Solicitation of a child or child sexual abuse material, confirmed by a trained reviewer."
    )
    reference_url: str | None = None
    territorial_scope: tuple[str, ...] = EEA_COUNTRIES


def keywords_for(categories: set[str]) -> list[str]:
    keywords = []
    if "known_imagery" in categories:
        keywords.append("KEYWORD_CHILD_SEXUAL_ABUSE_MATERIAL")
    if categories - {"known_imagery"}:
        keywords.append("KEYWORD_GROOMING_SEXUAL_ENTICEMENT_MINORS")
    return keywords


def _facts_text(categories: list[str]) -> str:
    def meaning(cat: str) -> str:
        try:
            return CATEGORIES[Category(cat)]
        except ValueError:
            return cat

    signs = "; ".join(f"{c}: {meaning(c)}" for c in sorted(set(categories)))
    return f"Warning signs found in the conversation with a minor: {signs}."


def build_statement(
    *,
    puid: str,
    decision: str,
    actions: list[str],
    categories: list[str],
    content_at: datetime,
    applied_at: datetime,
    automated_detection: bool,
    automated_decision: str,
    from_notice: bool,
    confirmed_illegal: bool,
    has_media: bool,
    grounds: Grounds,
    restriction: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One statement for one restrictive decision (hold, block, contact restriction, or an
    officer's suspension: ``restriction`` then names the account/provision restriction)."""
    statement = restriction_fields(decision, actions, restriction)
    if confirmed_illegal:
        statement |= {
            "decision_ground": "DECISION_GROUND_ILLEGAL_CONTENT",
            "illegal_content_legal_ground": grounds.legal_ground,
            "illegal_content_explanation": grounds.legal_explanation,
        }
    else:
        statement |= {
            "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
            "incompatible_content_ground": grounds.terms_ground,
            "incompatible_content_explanation": grounds.terms_explanation,
        }
    if grounds.reference_url:
        statement["decision_ground_reference_url"] = grounds.reference_url
    statement |= {
        "content_type": ["CONTENT_TYPE_TEXT"] + (["CONTENT_TYPE_IMAGE"] if has_media else []),
        "category": CATEGORY_MINORS,
        "category_specification": keywords_for(set(categories)),
        "territorial_scope": list(grounds.territorial_scope),
        "content_date": content_at.strftime("%Y-%m-%d"),
        "application_date": applied_at.strftime("%Y-%m-%d"),
        "decision_facts": _facts_text(categories),
        "source_type": "SOURCE_ARTICLE_16" if from_notice else "SOURCE_VOLUNTARY",
        "automated_detection": "Yes" if automated_detection else "No",
        "automated_decision": automated_decision,
        "puid": puid,
    }
    validate_statement(statement)
    return statement


def restriction_fields(
    decision: str, actions: list[str], restriction: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The restriction fields of a statement, in one place so the transparency figures count
    a decision the way its statement of reasons describes it (a block removes the message, a
    hold disables it until an officer looks, a contact restriction partly suspends the
    service; an officer's measure names its own account or provision restriction)."""
    fields: dict[str, Any] = dict(restriction or {})
    if restriction is None:
        fields["decision_visibility"] = [
            "DECISION_VISIBILITY_CONTENT_REMOVED"
            if decision == "block"
            else "DECISION_VISIBILITY_CONTENT_DISABLED"
        ]
    if "restrict_contact" in actions:
        fields["decision_provision"] = "DECISION_PROVISION_PARTIAL_SUSPENSION"
    return fields


def make_puid(platform_id: str, decision_id: int | str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"vigie-{platform_id}-{decision_id}")


def validate_statement(s: dict[str, Any]) -> None:
    """What the Transparency Database would answer 422 to, found before sending."""
    errors: dict[str, str] = {}
    restrictions = (
        "decision_visibility",
        "decision_monetary",
        "decision_provision",
        "decision_account",
    )
    if not any(s.get(k) for k in restrictions):
        errors["decision_visibility"] = "one of " + " / ".join(restrictions) + " is required"
    _enum_list(s, "decision_visibility", DECISION_VISIBILITY, errors, required=False)
    _enum(s, "decision_account", DECISION_ACCOUNT, errors, required=False)
    _enum(s, "decision_provision", DECISION_PROVISION, errors, required=False)
    _enum(s, "decision_ground", DECISION_GROUNDS, errors)
    ground = s.get("decision_ground")
    needed = {
        "DECISION_GROUND_ILLEGAL_CONTENT": (
            "illegal_content_legal_ground",
            "illegal_content_explanation",
        ),
        "DECISION_GROUND_INCOMPATIBLE_CONTENT": (
            "incompatible_content_ground",
            "incompatible_content_explanation",
        ),
    }
    for key in needed.get(ground or "", ()):
        if not s.get(key):
            errors[key] = f"required when decision_ground is {ground}"
    _enum_list(s, "content_type", CONTENT_TYPES, errors)
    if s.get("category") != CATEGORY_MINORS:
        errors["category"] = f"Vigie only files {CATEGORY_MINORS}"
    _enum_list(s, "category_specification", MINORS_KEYWORDS, errors, required=False)
    _enum_list(s, "territorial_scope", EEA_COUNTRIES, errors)
    for key in ("content_date", "application_date"):
        if not _DATE.match(str(s.get(key, ""))):
            errors[key] = "required, YYYY-MM-DD"
    if str(s.get("content_date", "")) < "2000-01-01":
        errors.setdefault("content_date", "must be on or after 2000-01-01")
    if str(s.get("application_date", "")) < "2020-01-01":
        errors.setdefault("application_date", "must be on or after 2020-01-01")
    _enum(s, "source_type", SOURCE_TYPES, errors)
    _enum(s, "automated_detection", ("Yes", "No"), errors)
    _enum(s, "automated_decision", AUTOMATED_DECISIONS, errors)
    if not s.get("decision_facts"):
        errors["decision_facts"] = "required"
    if not _PUID.match(str(s.get("puid", ""))):
        errors["puid"] = "required: letters, digits, '-' and '_' only, at most 500"
    for key, limit in LIMITS.items():
        if len(str(s.get(key) or "")) > limit:
            errors[key] = f"longer than {limit} characters"
    if errors:
        raise StatementError(errors)


def _enum(
    s: dict[str, Any],
    key: str,
    allowed: tuple[str, ...],
    errors: dict[str, str],
    required: bool = True,
) -> None:
    value = s.get(key)
    if value is None:
        if required:
            errors[key] = "required"
    elif value not in allowed:
        errors[key] = f"{value!r} is not allowed"


def _enum_list(
    s: dict[str, Any],
    key: str,
    allowed: tuple[str, ...],
    errors: dict[str, str],
    required: bool = True,
) -> None:
    value = s.get(key)
    if value is None or value == []:
        if required:
            errors[key] = "required, a non-empty list"
        return
    if not isinstance(value, list):
        errors[key] = "must be a list"
        return
    bad = [v for v in value if v not in allowed]
    if bad:
        errors[key] = f"{bad[0]!r} is not allowed"
