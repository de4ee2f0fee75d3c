"""Text normalisation that undoes the usual evasions before patterns are matched.

People who groom children learn what filters catch and write around them: ``sn@p``,
``s n a p``, ``t3l3gram``, zero-width characters, Cyrillic look-alikes, emoji between
letters, ``treize`` instead of ``13``. Patterns are written once against the normalised
form; ``Normalized.origin`` maps every normalised character back to the original text so
evidence spans point at what the person actually typed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

# Invisible characters: zero-width spaces and joiners, soft hyphens, and the bidirectional
# controls, which can also be slipped inside a word without showing.
_ZERO_WIDTH = dict.fromkeys(
    map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\u2064\ufeff\u00ad"
             "\u034f\u180e\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)  # fmt: skip


def strip_invisible(text: str) -> str:
    """``text`` without its invisible characters. The sentence encoder reads them as tokens:
    one zero-width space in each of a few words took a sentence's vector to a cosine of 0.31
    with the same sentence without them, far from every example it should be close to."""
    return text.translate(_ZERO_WIDTH)


# Look-alike letters from other scripts, mapped to the Latin letter they imitate.
_HOMOGLYPHS = {
    "а": "a", "е": "e", "о": "o", "р": "p", "с": "c", "х": "x", "у": "y", "і": "i", "ј": "j",
    "ѕ": "s", "к": "k", "м": "m", "т": "t", "в": "b", "н": "h", "ԁ": "d", "ɡ": "g", "ո": "n",
    "α": "a", "ε": "e", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "ν": "v", "ι": "i", "κ": "k",
    "ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d",
    "’": "'", "‘": "'", "ʼ": "'", "´": "'", "`": "'", "€": "e", "£": "gbp",
}  # fmt: skip

# Leetspeak, applied only to digits and symbols *inside* words (so "13 ans" stays a number).
_LEET = {"4": "a", "@": "a", "3": "e", "1": "i", "!": "i", "0": "o", "5": "s", "$": "s",
         "7": "t", "8": "b", "9": "g", "€": "e", "|": "l", "+": "t"}  # fmt: skip

_NUMBER_WORDS = {
    # French
    "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8, "neuf": 9,
    "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16,
    "dix-sept": 17, "dixsept": 17, "dix sept": 17, "dix-huit": 18, "dixhuit": 18,
    "dix huit": 18, "dix-neuf": 19, "dix neuf": 19, "vingt": 20, "trente": 30, "quarante": 40,
    "cinquante": 50,
    # English
    "two": 2, "three": 3, "four": 4, "five": 5, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50,
}  # fmt: skip
# Whole-word SMS and chat spellings, expanded so patterns are written once (French, English).
_SMS = {
    # French
    "chui": "je suis", "chuis": "je suis", "jsuis": "je suis", "jte": "je te", "jvais": "je vais",
    "jveux": "je veux", "jpeux": "je peux", "g": "j'ai", "c": "c'est", "koi": "quoi", "kwa": "quoi",
    "ki": "qui", "pk": "pourquoi", "pq": "pourquoi", "pcq": "parce que", "ds": "dans", "ac": "avec",
    "avc": "avec", "pr": "pour", "tt": "tout", "tjr": "toujours", "tjrs": "toujours", "qd": "quand",
    "kan": "quand", "vrmt": "vraiment", "bcp": "beaucoup", "dsl": "desole", "tkt": "t'inquiete",
    "ya": "il y a", "mtn": "maintenant", "mnt": "maintenant", "auj": "aujourd'hui",
    "ajd": "aujourd'hui", "dmain": "demain", "msg": "message", "msgs": "messages",
    "tel": "telephone", "phone": "telephone", "rents": "parents", "stv": "si tu veux",
    "qqn": "quelqu'un",
    "qqun": "quelqu'un", "kelkun": "quelqu'un", "kelki": "quelqu'un", "kelk1": "quelqu'un",
    # English
    "cant": "can't", "wont": "won't", "b4": "before", "2nite": "tonight", "tonite": "tonight",
    "tmrw": "tomorrow", "tmr": "tomorrow", "2moro": "tomorrow", "luv": "love", "fone": "phone",
    "txt": "text", "ppl": "people", "skool": "school", "gurl": "girl", "grl": "girl", "pix": "pics",
    "cuz": "because", "bc": "because", "thx": "thanks", "parentz": "parents",
}  # fmt: skip
_SMS_RE = re.compile(
    r"(?<![\w'])(" + "|".join(sorted(map(re.escape, _SMS), key=len, reverse=True)) + r")(?![\w'])"
)
_NUMBER_RE = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, _NUMBER_WORDS), key=len, reverse=True)) + r")\b"
)
_UNIT_SUFFIX = re.compile(r"(ans|an|yo|y|yrs?|years?|h|min|mn|e|er|eme|th|st|nd|rd|k|am|pm)$")
# A run of three or more single characters separated by spaces, dots, dashes, stars...
_SPACED = re.compile(r"(?<![\w])(?:\w[ .\-_*·/]{1,2}){2,}\w(?![\w])")
_REPEAT = re.compile(r"(\w)\1{2,}")
_WORD_WITH_DIGITS = re.compile(r"(?:[\w@$€|+]|!(?=\w))*[a-z](?:[\w@$€|+]|!(?=\w))*")


@dataclass(slots=True, frozen=True)
class Normalized:
    """The normalised text and, for each of its characters, the index in the original."""

    text: str
    origin: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original-text span for a normalised span (end exclusive)."""
        if not self.origin:
            return (0, 0)
        last = min(end, len(self.origin)) - 1
        return (self.origin[min(start, len(self.origin) - 1)], self.origin[max(last, 0)] + 1)


def _fold_char(ch: str) -> str:
    """Lowercase, drop accents, map look-alikes; '' for zero-width and combining marks."""
    if ord(ch) < 128:
        return ch.lower()
    if ord(ch) in _ZERO_WIDTH or unicodedata.combining(ch):  # NFD text, "Zalgo" marks
        return ""
    low = ch.lower()
    if low in _HOMOGLYPHS:
        return _HOMOGLYPHS[low]
    decomposed = unicodedata.normalize("NFKD", low)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    if base and all(ord(c) < 128 for c in base):
        return base
    cat = unicodedata.category(ch)
    if cat.startswith(("S", "C")):  # emoji, symbols, controls: a separator marker
        return "\x00"
    return base or low


@lru_cache(maxsize=4096)
def _fold_cached(ch: str) -> str:
    return _fold_char(ch)


def _one_to_one() -> dict[int, str]:
    """Characters that fold to exactly one ASCII character (accents, look-alikes, quotes)."""
    table: dict[int, str] = {}
    for code in [*range(0x80, 0x250), *map(ord, _HOMOGLYPHS)]:
        ch = chr(code)
        out = _fold_char(ch)
        if len(out) == 1 and out.isascii() and out != "\x00":
            table[code] = out
    return table


_ONE_TO_ONE = _one_to_one()


def _fold(text: str) -> tuple[list[str], list[int]]:
    low = text.lower()
    if len(low) == len(text):  # fast path: every character folds to exactly one
        fast = low.translate(_ONE_TO_ONE)
        if fast.isascii():
            return list(fast), list(range(len(fast)))
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        out = ch.lower() if ch.isascii() else _fold_cached(ch)
        for c in out:
            chars.append(c)
            origin.append(i)
    return chars, origin


def _drop_markers(chars: list[str], origin: list[int]) -> tuple[list[str], list[int]]:
    """Emoji between two letters vanish (``sn🔥ap``); elsewhere they become a space."""
    out_c: list[str] = []
    out_o: list[int] = []
    n = len(chars)
    for i, c in enumerate(chars):
        if c != "\x00":
            out_c.append(c)
            out_o.append(origin[i])
            continue
        prev = out_c[-1] if out_c else " "
        j = i + 1
        while j < n and chars[j] == "\x00":
            j += 1
        nxt = chars[j] if j < n else " "
        if not (prev.isalpha() and nxt.isalpha()) and prev != " ":
            out_c.append(" ")
            out_o.append(origin[i])
    return out_c, out_o


def _rewrite(
    text: str,
    origin: list[int],
    pattern: re.Pattern[str],
    repl: Callable[[re.Match[str]], str | None],
) -> tuple[str, list[int]]:
    """Apply ``repl(match) -> str`` to each match, keeping the origin map in step."""
    out: list[str] = []
    out_o: list[int] = []
    pos = 0
    for m in pattern.finditer(text):
        new = repl(m)
        if new is None:
            continue
        out.append(text[pos : m.start()])
        out_o.extend(origin[pos : m.start()])
        out.append(new)
        # Spread the replacement over the matched original characters.
        width = max(m.end() - m.start(), 1)
        steps = max(len(new) - 1, 1)
        out_o.extend(origin[m.start() + round(k * (width - 1) / steps)] for k in range(len(new)))
        pos = m.end()
    out.append(text[pos:])
    out_o.extend(origin[pos:])
    return "".join(out), out_o


def _unleet(m: re.Match[str]) -> str | None:
    word = m.group(0)
    if word.isalpha():
        return None
    lead = len(word) - len(word.lstrip("0123456789"))
    if lead and (lead > 1 or _UNIT_SUFFIX.fullmatch(word[lead:]) or len(word) - lead < 3):
        return None  # "13ans", "14yo", "2h": a number with its unit
    return "".join(_LEET.get(c, c) for c in word)


def _unspace(m: re.Match[str]) -> str:
    return "".join(c for c in m.group(0) if c.isalnum())


def _number(m: re.Match[str]) -> str:
    return str(_NUMBER_WORDS[m.group(1)])


@lru_cache(maxsize=16384)
def normalize(text: str) -> Normalized:
    """The normalised form of a message, with its origin map (cached: texts repeat)."""
    chars, origin = _fold(text)
    if "\x00" in chars:
        chars, origin = _drop_markers(chars, origin)
    folded = "".join(chars)
    if _SPACED.search(folded):
        folded, origin = _rewrite(folded, origin, _SPACED, _unspace)
    if any(c in folded for c in "0123456789@$!€|+"):
        folded, origin = _rewrite(folded, origin, _WORD_WITH_DIGITS, _unleet)
    if _REPEAT.search(folded):
        folded, origin = _rewrite(folded, origin, _REPEAT, lambda m: m.group(1))
    folded, origin = _rewrite(folded, origin, _NUMBER_RE, _number)
    folded, origin = _rewrite(folded, origin, _SMS_RE, lambda m: _SMS[m.group(1)])
    return Normalized(folded, tuple(origin))
