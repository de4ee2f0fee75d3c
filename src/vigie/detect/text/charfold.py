"""What each Unicode code point becomes before patterns are matched: one table, built once.

Disguises work one character at a time (a Cyrillic ``а`` for ``a``, ``ᴛ`` for ``t``, a
variation selector or a Hangul filler slipped between letters), so the answer is a table with
one entry per code point (all 1,114,112 of them), looked up with NumPy in one pass over a
message. The table is derived from Unicode data rather than written by hand:

- **Default ignorable code points** (Unicode's ``Default_Ignorable_Code_Point``, read with
  the ``regex`` module's ``\\p{DI}``) and combining marks are dropped: zero-width spaces and
  joiners, bidirectional controls, variation selectors (U+FE0F), the Hangul fillers (U+3164),
  Mongolian free variation selectors (U+180B), tags, accents in decomposed text.
- **Compatibility decomposition and case folding** (NFKD, ``str.casefold``, accents off):
  fullwidth and mathematical letters, circled and parenthesised letters, ligatures,
  superscripts, wide spaces (U+3000, U+2003) and every other space separator.
- **Confusable skeletons** from Unicode's UTS #39 ``confusables.txt``, as shipped by the
  ``confusable-homoglyphs`` package: Cyrillic, Greek, Armenian, Cherokee... look-alikes of
  Latin letters. Chosen over ``confusables`` (Unicode 13 data, last release 2021) because it is
  maintained, has no dependencies and ships the data as one JSON file; ``regex`` has no
  confusable data. The JSON lists look-alikes both ways; a character with exactly one entry is
  a source whose entry is its prototype (a prototype lists all its sources), and only
  prototypes that fold to ASCII are used. Symbols (``S*``) are not skeletonised: ``©`` is a
  copyright sign to its writer, not a ``c``.
- **Latin letters by name** for the forms UTS #39 leaves as their own prototypes: small
  capitals (``ᴛᴇʟᴇɢʀᴀᴍ``), regional indicators (``🇸🇳🇦🇵``), negative squared and circled
  letters (``🅢🅝🅐🅟``), dotless ``ı``/``ȷ``: any character named "... LATIN ... LETTER X".
- Decimal digits of every script become ASCII digits (``١٣`` → ``13``).
- Everything else that is a symbol or not a character (emoji, ``©``, private use,
  unassigned, surrogates, other controls) becomes ``MARKER``; ``normalize`` decides whether
  a marker vanishes (between letters) or separates words.

The few letters whose UTS #39 prototype is not a Latin letter but which are used for one
(Cyrillic ``к``, Greek ``ε`` and ``κ``, prototypes ``ĸ`` and ``ꞓ``) and two currency signs the
payment patterns read as words (``€`` → ``e``, ``£`` → ``gbp``) are listed in ``_CONVENTIONS``.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from importlib.resources import files

import numpy as np
import numpy.typing as npt
import regex

MARKER = 0  # the code point of "\x00": a symbol or non-character, resolved by normalize
SIZE = 0x110000

_CONVENTIONS = {"€": "e", "£": "gbp"}
_LATIN_NAME = regex.compile(
    r"(?:.* )?(?:LATIN|REGIONAL INDICATOR SYMBOL) (?:.* )?"
    r"LETTER (?:SMALL CAPITAL |DOTLESS )?([A-Z])"
)
_DROPPED = regex.compile(r"[\p{DI}\p{Mn}\p{Me}]")
_SYMBOL_CATEGORIES = ("Sm", "Sc", "So")


def _load_confusables() -> dict[str, list[dict[str, str]]]:
    """UTS #39 look-alikes, read from the package data without importing its module (which
    imports ``urllib`` for its updater and honours an environment variable for the path)."""
    text = files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    data: dict[str, list[dict[str, str]]] = json.loads(text)
    return data


_CONFUSABLES = _load_confusables()


def _compat(text: str) -> str:
    """Compatibility form, case folded, without accents or ignorables (``Ｔ`` → ``t``)."""
    out = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    return _DROPPED.sub("", out)


def _named_latin(ch: str) -> str | None:
    """``t`` for ``ᴛ``, ``🇹``, ``🅣``: characters whose Unicode name makes them Latin letters."""
    m = _LATIN_NAME.fullmatch(unicodedata.name(ch, ""))
    return m.group(1).lower() if m else None


def _plain(text: str) -> str:
    """Canonical decomposition without accents or ignorables (``é`` → ``e``, ``l̸`` → ``l``)."""
    return _DROPPED.sub("", unicodedata.normalize("NFD", text))


def _prototype(ch: str) -> str | None:
    """The ASCII a character imitates according to UTS #39 (``а`` → ``a``, ``т`` → ``ᴛ`` →
    ``t``), or ``None``. A character with several entries is a prototype itself."""
    entries = _CONFUSABLES.get(ch, [])
    if len(entries) != 1:
        return None
    proto = _plain(entries[0]["c"])
    if proto.isascii():
        return proto or None
    return _named_latin(proto) if len(proto) == 1 else None


def _skeleton(ch: str) -> str:
    """``ch`` as the Latin it imitates. UTS #39 compares shapes in the case they are written
    and a message is read case-folded, so the letter is tried lowercase, as written, then
    capitalised: Greek ``Ι`` reads ``i`` (its lowercase ``ι``), not ``l``; Cyrillic ``м`` and
    ``к``, whose lowercase shapes have no Latin prototype, read as their capitals ``M``, ``K``."""
    for form in dict.fromkeys((ch.lower(), ch, ch.upper())):
        proto = _prototype(form) if len(form) == 1 else None
        if proto:
            return proto
    return ch


def fold_char(ch: str) -> str:
    """What one character becomes: ``""`` (dropped), ``"\\x00"`` (a marker) or its text.
    Compatibility folding first when it gives ASCII letters or digits (fullwidth,
    mathematical, circled letters: UTS #39 would make ``𝐦`` the two letters ``rn``), else
    UTS #39's skeleton (decompose, map look-alikes), then compatibility folding again."""
    if ch.isascii():
        return ch.lower()
    if _DROPPED.match(ch):
        return ""
    if ch in _CONVENTIONS:
        return _CONVENTIONS[ch]
    category = unicodedata.category(ch)
    if category == "Nd":
        return str(unicodedata.decimal(ch))
    if category.startswith("Z"):
        return " "
    text = _compat(ch)
    if not (text.isascii() and any(map(str.isalnum, text))):
        text = _plain(ch)
        if category not in _SYMBOL_CATEGORIES:  # ``©`` is a copyright sign, not a ``c``
            text = "".join(c if c.isascii() else _skeleton(c) for c in text)
    text = "".join(c if c.isascii() else _named_latin(c) or c for c in _compat(text)).lower()
    if category.startswith(("S", "C")) and not (text and text.isascii()):
        return chr(MARKER)
    return text


def _all_code_points() -> str:
    return np.arange(SIZE, dtype="<u4").tobytes().decode("utf-32-le", "surrogatepass")


_ALL = _all_code_points()


def has_property(pattern: str) -> npt.NDArray[np.bool_]:
    """A mask over all code points: which ones match a one-character ``regex`` class. One
    C-speed pass over a string of every code point instead of a million Python calls."""
    mask = np.zeros(SIZE, dtype=bool)
    for m in regex.finditer(f"(?:{pattern})+", _ALL):
        mask[m.start() : m.end()] = True
    return mask


@dataclass(frozen=True, slots=True)
class FoldTable:
    """``code[cp]`` is what code point ``cp`` becomes when that is one code point (itself
    for most); a negative ``code[cp]`` is ``-1 - k`` for the k-th special, which becomes
    ``pool[start[k] : start[k] + length[k]]``: nothing (ignorables) or several (``ß``)."""

    code: npt.NDArray[np.int32]
    start: npt.NDArray[np.int32]
    length: npt.NDArray[np.int32]
    pool: npt.NDArray[np.int32]


def _candidates() -> npt.NDArray[np.intp]:
    """Code points that may fold to something else. The rest are either left alone (letters
    of other scripts, CJK ideographs, Hangul syllables) or markers (unassigned, private use)."""
    may_change = has_property(
        r"[\P{dt=none}\p{CWCF}\p{Nd}\p{Latin}\p{S}\p{Z}\p{C}\p{Mn}\p{Me}\p{DI}]"
    )
    may_change &= ~has_property(r"[\p{Hangul}\p{Han}\p{Cn}\p{Co}\p{Cs}]")
    may_change |= has_property(r"[\p{DI}\p{Mn}\p{Me}]")  # the Hangul fillers are Hangul
    for key in _CONFUSABLES:
        if len(key) == 1:
            may_change[ord(key)] = True
    for key in _CONVENTIONS:
        may_change[ord(key)] = True
    return np.flatnonzero(may_change)


def build_table() -> FoldTable:
    """The fold table; a fraction of a second, once per process."""
    code = np.arange(SIZE, dtype=np.int32)
    code[has_property(r"[\p{Cn}\p{Co}\p{Cs}]")] = MARKER
    specials: list[str] = []
    for cp in _candidates().tolist():
        out = fold_char(chr(cp))
        if len(out) == 1:
            code[cp] = ord(out)
        else:
            code[cp] = -1 - len(specials)
            specials.append(out)
    length = np.array([len(s) for s in specials], dtype=np.int32)
    pool = np.frombuffer("".join(specials).encode("utf-32-le"), dtype="<i4").astype(np.int32)
    return FoldTable(code, (np.cumsum(length) - length).astype(np.int32), length, pool)
