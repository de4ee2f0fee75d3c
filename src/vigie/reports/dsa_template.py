"""The vocabulary of the DSA harmonised transparency templates (Implementing Regulation (EU)
2024/2835, Annex I), and how Vigie's decisions map onto it.

Why a module of its own: the template's rows are the regulation's list of content categories
and its columns the types of restriction, the same enumerations the statements of reasons use
(the Transparency Database was aligned with the regulation on 1 July 2025). Keeping them in one
place means a decision is counted in the transparency report exactly as its statement of
reasons described it, in the words a Digital Services Coordinator reads, not Vigie's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from vigie.reports.dsa import (
    CATEGORY_MINORS,
    DECISION_ACCOUNT,
    DECISION_MONETARY,
    DECISION_PROVISION,
    DECISION_VISIBILITY,
)

ILLEGAL = "DECISION_GROUND_ILLEGAL_CONTENT"
TERMS = "DECISION_GROUND_INCOMPATIBLE_CONTENT"
SOLELY_AUTOMATED = "AUTOMATED_DECISION_FULLY"

# The regulation's categories (code as in the Transparency Database, label as in the template).
_COMMON = {
    "STATEMENT_CATEGORY_ANIMAL_WELFARE": "Animal welfare",
    "STATEMENT_CATEGORY_CONSUMER_INFORMATION": "Consumer information infringements",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE": "Cyber violence",
    "STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN": "Cyber violence against women",
    "STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS": (
        "Data protection and privacy violations"
    ),
    "STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH": "Illegal or harmful speech",
    "STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS": (
        "Intellectual property infringements"
    ),
    "STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS": (
        "Negative effects on civic discourse or elections"
    ),
    CATEGORY_MINORS: "Protection of minors",
    "STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY": "Risk for public security",
    "STATEMENT_CATEGORY_SCAMS_AND_FRAUD": "Scams and/or fraud",
    "STATEMENT_CATEGORY_SELF_HARM": "Self-harm",
    "STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS": (
        "Unsafe, non-compliant or prohibited products"
    ),
    "STATEMENT_CATEGORY_VIOLENCE": "Violence",
}
OTHER_TERMS = "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"
NOT_SPECIFIED = "STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE"
LABELS: dict[str, str] = {
    **_COMMON,
    OTHER_TERMS: "Other violation of provider’s terms and conditions",
    NOT_SPECIFIED: "Type of alleged illegal content not specified by the notifier",
}
# Which rows each table has: illegal content has no "other terms" row; only a notice can leave
# the type unspecified.
ILLEGAL_ROWS = tuple(_COMMON)
TERMS_ROWS = (*_COMMON, OTHER_TERMS)
NOTICE_ROWS = (*_COMMON, NOT_SPECIFIED)

_VISIBILITY = {
    "DECISION_VISIBILITY_CONTENT_REMOVED": "Removal of content",
    "DECISION_VISIBILITY_CONTENT_DISABLED": "Disabling access to content",
    "DECISION_VISIBILITY_CONTENT_DEMOTED": "Demotion of content",
    "DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED": "Age restricted content",
    "DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED": "Restricting interaction with content",
    "DECISION_VISIBILITY_CONTENT_LABELLED": "Labelled content",
    "DECISION_VISIBILITY_OTHER": "Other restriction",
}
_MONETARY = {
    "DECISION_MONETARY_SUSPENSION": "Suspension of monetary payments",
    "DECISION_MONETARY_TERMINATION": "Termination of monetary payments",
    "DECISION_MONETARY_OTHER": "Other restriction",
}
_PROVISION = {
    "DECISION_PROVISION_PARTIAL_SUSPENSION": "Partial suspension of the provision of the service",
    "DECISION_PROVISION_TOTAL_SUSPENSION": "Total suspension of the provision of the service",
    "DECISION_PROVISION_PARTIAL_TERMINATION": (
        "Partial termination of the provision of the service"
    ),
    "DECISION_PROVISION_TOTAL_TERMINATION": "Total termination of the provision of the service",
}
_ACCOUNT = {
    "DECISION_ACCOUNT_SUSPENDED": "Suspension of the account",
    "DECISION_ACCOUNT_TERMINATED": "Termination of the account",
}
# One column per type of restriction, grouped as the template groups them.
RESTRICTION_HEADINGS: dict[str, str] = {
    **{k: f"Visibility restriction: {v}" for k, v in _VISIBILITY.items()},
    **{k: f"Monetary restriction: {v}" for k, v in _MONETARY.items()},
    **{k: f"Service restriction: {v}" for k, v in _PROVISION.items()},
    **{k: f"Account restriction: {v}" for k, v in _ACCOUNT.items()},
}
assert set(RESTRICTION_HEADINGS) == {
    *DECISION_VISIBILITY,
    *DECISION_MONETARY,
    *DECISION_PROVISION,
    *DECISION_ACCOUNT,
}
GROUND_LABELS = {ILLEGAL: "Illegal content", TERMS: "Incompatible with terms and conditions"}


def restriction_types(statement: Mapping[str, Any]) -> tuple[str, ...]:
    """Every type of restriction a statement of reasons (or its restriction fields) names."""
    found: list[str] = []
    for key in ("decision_visibility", "decision_monetary", "decision_provision"):
        found += _as_list(statement.get(key))
    found += _as_list(statement.get("decision_account"))
    return tuple(t for t in RESTRICTION_HEADINGS if t in found)


def _as_list(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable):
        return [str(v) for v in value]
    return []


def hours(seconds: Iterable[float]) -> str:
    """The median of durations, in hours (the template's unit); empty when there are none."""
    values = sorted(seconds)
    if not values:
        return ""
    mid = len(values) // 2
    med = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
    return f"{med / 3600:.2f}"
