"""The authorities Vigie prepares reports for: one list, for the console and the exports.

Why one list: the console's "prepare a report" choice and ``vigie evidence export
--authority`` used to name authorities differently (``police`` here, ``ofmin`` there), so an
approval in the console never matched what was exported. ``generic`` is not an authority:
it is the package for anyone else, in English.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True, frozen=True)
class Authority:
    key: str
    purpose: str  # printed at the top of the package
    lang: str  # the language of the package's PDF
    account_ids: bool = False  # the platform's own account ids are included (requisitions)


AUTHORITY_LIST = (
    Authority("ncmec", "CyberTipline report (NCMEC)", "en"),
    Authority("pharos", "Signalement PHAROS (internet-signalement.gouv.fr)", "fr"),
    Authority("pointdecontact", "Signalement Point de Contact (INHOPE)", "fr"),
    Authority("ofmin", "Réponse à réquisition judiciaire (OFMIN)", "fr", account_ids=True),
)
AUTHORITIES = tuple(a.key for a in AUTHORITY_LIST)
GENERIC = Authority("generic", "Evidence package for a competent authority", "en")
PACKAGES = {a.key: a for a in (*AUTHORITY_LIST, GENERIC)}


def package_for(key: str) -> Authority:
    """The package settings for ``key``; ValueError naming the choices otherwise."""
    try:
        return PACKAGES[key]
    except KeyError:
        raise ValueError(f"unknown authority {key!r}; one of {sorted(PACKAGES)}") from None
