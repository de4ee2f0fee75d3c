"""Text normalisation that undoes the usual evasions before patterns are matched.

People who groom children learn what filters catch and write around them: ``sn@p``,
``s n a p``, ``s,n,a,p``, ``t3l3gram``, zero-width characters, variation selectors, Cyrillic
or Armenian look-alikes, small capitals, regional-indicator letters, emoji between letters,
``treize`` instead of ``13``. Patterns are written once against the normalised form;
``Normalized.origin`` maps every normalised character back to the original text so evidence
spans point at what the person actually typed.

Every step is a handful of NumPy operations over the whole message (character classes from
lookup tables, runs found with ``cumsum``), never a Python loop over characters or regex
matches, so the cost is linear in the length whatever the content: a message of 40 KB of
``©`` used to take seconds (a scan ahead for every symbol), and one user's message must not
stall everyone's. ``bench/bench_normalize.py`` measures it (about 1 MiB in tens of ms).

Near-miss spellings of key words (``snapp``, ``telegrame``) are left to the patterns.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from vigie.detect.text import charfold
from vigie.detect.text.charfold import MARKER, has_property

Codes = npt.NDArray[np.uint8] | npt.NDArray[np.int32]  # uint8 while the text is ASCII
Index = npt.NDArray[np.int32]
Mask = npt.NDArray[np.bool_]
Flags = npt.NDArray[np.uint8]

_TABLE = charfold.build_table()

# Invisible characters: every default-ignorable code point (zero-width spaces and joiners,
# soft hyphens, bidirectional controls, variation selectors, fillers, tags).
_INVISIBLE = dict.fromkeys(np.flatnonzero(has_property(r"\p{DI}")).tolist())


def strip_invisible(text: str) -> str:
    """``text`` without its invisible characters. The sentence encoder reads them as tokens:
    one zero-width space in each of a few words took a sentence's vector to a cosine of 0.31
    with the same sentence without them, far from every example it should be close to."""
    return text.translate(_INVISIBLE)


# Character classes of folded text, one byte of flags per code point.
_ALNUM, _ALPHA, _SPACE, _WORD, _LATIN, _DIGIT, _LEET, _APOSTROPHE = (1 << i for i in range(8))


def _classes() -> Flags:
    flags = np.zeros(charfold.SIZE, dtype=np.uint8)
    for flag, pattern in [(_ALNUM | _WORD, r"[\p{L}\p{N}]"), (_ALPHA, r"\p{L}"), (_SPACE, r"\s")]:
        flags[has_property(pattern)] |= flag
    for flag, chars in [
        (_WORD, "_"),
        (_LATIN, "abcdefghijklmnopqrstuvwxyz"),
        (_DIGIT, "0123456789"),
        (_LEET, "@$|+!"),
        (_APOSTROPHE, "'"),
    ]:
        flags[[ord(c) for c in chars]] |= flag
    return flags


_CLASS = _classes()
_CLASS_ASCII = _CLASS[:256].copy()  # a small table for ASCII text: stays in cache


def _classes_of(codes: Codes) -> Flags:
    table = _CLASS_ASCII if codes.dtype == np.uint8 else _CLASS
    flags: Flags = table[codes]
    return flags


@dataclass(slots=True, frozen=True, eq=False)
class Normalized:
    """The normalised text and, for each of its characters, the index in the original.
    ``origin`` is a read-only sequence of ints (a memoryview over 4-byte integers, not a tuple:
    a tuple of a megabyte-long message's indexes costs tens of ms and of MB); compare
    ``text`` and ``list(origin)`` rather than the objects."""

    text: str
    origin: Sequence[int]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original-text span for a normalised span (end exclusive)."""
        if not self.origin:
            return (0, 0)
        last = min(end, len(self.origin)) - 1
        return (self.origin[min(start, len(self.origin) - 1)], self.origin[max(last, 0)] + 1)


def _prev(mask: Mask, fill: bool = False) -> Mask:
    """``out[i] = mask[i - 1]``: the property of each character's left neighbour."""
    return np.concatenate(([fill], mask[:-1]))


def _next(mask: Mask, fill: bool = False) -> Mask:
    """``out[i] = mask[i + 1]``: the property of each character's right neighbour."""
    return np.concatenate((mask[1:], [fill]))


def _runs(mask: Mask) -> tuple[Index, Index]:
    """Starts and ends (exclusive) of the runs of ``True`` in ``mask``."""
    starts = np.flatnonzero(mask & ~_prev(mask)).astype(np.int32)
    ends = np.flatnonzero(mask & ~_next(mask)).astype(np.int32) + 1
    return starts, ends


def _expand(lengths: Index) -> tuple[Index, Index]:
    """For output built from ``lengths[i]`` pieces of input ``i``: each output's input index
    and its rank among that input's pieces."""
    ends = np.cumsum(lengths, dtype=np.int32)
    source = np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)
    total = int(ends[-1]) if len(ends) else 0
    rank = np.arange(total, dtype=np.int32) - np.repeat(ends - lengths, lengths)
    return source, rank


def _narrow(codes: npt.NDArray[np.int32]) -> Codes:
    """One byte per character when the folded text is ASCII (most of the time)."""
    return codes.astype(np.uint8) if not len(codes) or codes.max() < 128 else codes


def _fold(text: str) -> tuple[Codes, Index]:
    """Every character through the fold table (``charfold``): look-alikes, case, accents,
    ignorables, symbols to markers. One table lookup per character."""
    if text.isascii():
        ascii_codes = np.frombuffer(text.lower().encode("ascii"), dtype=np.uint8)
        return ascii_codes, np.arange(len(text), dtype=np.int32)
    codes = _TABLE.code[np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")]
    special = codes < 0
    if not special.any():
        return _narrow(codes), np.arange(len(codes), dtype=np.int32)
    lengths = np.ones(len(codes), dtype=np.int32)
    lengths[special] = _TABLE.length[-1 - codes[special]]
    source, rank = _expand(lengths)
    codes = codes[source]
    special = np.flatnonzero(codes < 0)
    which = -1 - codes[special]
    codes[special] = _TABLE.pool[_TABLE.start[which] + rank[special]]
    return _narrow(codes), source


def _keep(codes: Codes, origin: Index, drop: Mask) -> tuple[Codes, Index]:
    keep = ~drop
    return codes[keep], origin[keep]


def _resolve_markers(codes: Codes, origin: Index) -> tuple[Codes, Index]:
    """Emoji and symbols between two letters vanish (``sn🔥ap``); a run of them elsewhere
    becomes one space, or nothing after a space or at the start."""
    marker = codes == MARKER
    if not marker.any():
        return codes, origin
    starts, ends = _runs(marker)
    n = len(codes)
    before = np.where(starts > 0, _classes_of(codes[starts - 1]), _SPACE)
    after = np.where(ends < n, _classes_of(codes[np.minimum(ends, n - 1)]), _SPACE)
    between_letters = (before & after & _ALPHA) != 0
    as_space = starts[~between_letters & ((before & _SPACE) == 0)]
    codes = codes.copy()
    codes[as_space] = ord(" ")
    marker[as_space] = False
    return _keep(codes, origin, marker)


def _with_neighbour(mask: Mask, values: Index) -> Mask:
    """``mask`` where the previous or next entry has the same value and is in ``mask`` too:
    a run of at least two."""
    same_prev = _prev(mask) & (values == _prev_values(values))
    same_next = _next(mask) & (values == _next_values(values))
    return mask & (same_prev | same_next)


def _prev_values(values: Index) -> Index:
    return np.concatenate((values[:1], values[:-1]))


def _next_values(values: Index) -> Index:
    return np.concatenate((values[1:], values[-1:]))


def _join_spaced(codes: Codes, origin: Index) -> tuple[Codes, Index]:
    """Letters written one at a time are joined: ``s n a p``, ``s,n,a,p``, ``t+e+l+e+g+r+a+m``,
    ``s . n . a . p``. Three or more single letters or digits whose gaps are all blank or all
    contain punctuation: in ``a p,h,o,t,o`` and ``o|l|d r u`` the blanks next to the split
    word are word breaks."""
    cls = _classes_of(codes)
    breaker = (cls & (_ALNUM | _APOSTROPHE)) != 0
    single = (cls & _ALNUM) != 0
    single &= ~_prev(breaker) & ~_next(breaker)
    at = np.flatnonzero(single).astype(np.int32)
    if len(at) < 3:
        return codes, origin
    left, right = at[:-1] + 1, at[1:]  # each gap between two single letters
    breakers = np.concatenate(([0], np.cumsum(breaker, dtype=np.int32)))
    blank = np.concatenate(([0], np.cumsum((cls & _SPACE) != 0, dtype=np.int32)))
    clean = breakers[right] == breakers[left]
    kind = np.where(clean, 1 + (blank[right] - blank[left] < right - left), 0).astype(np.int32)
    punct = kind == 2  # a blank next to a run split by punctuation is a word break
    kind[(kind == 1) & (_prev(punct) | _next(punct))] = 0
    joined = _with_neighbour(kind > 0, kind)
    if not joined.any():
        return codes, origin
    return _keep(codes, origin, _spans_mask(len(codes), left[joined], right[joined]))


def _spans_mask(n: int, starts: Index, ends: Index) -> Mask:
    """A mask of the characters inside sorted, non-overlapping spans."""
    depth = np.zeros(n + 1, dtype=np.int8)
    depth[starts] += 1
    depth[ends] -= 1
    return np.cumsum(depth[:-1], dtype=np.int8) > 0


_LEET_LETTERS = {"4": "a", "@": "a", "3": "e", "1": "i", "!": "i", "0": "o", "5": "s", "$": "s",
         "7": "t", "8": "b", "9": "g", "|": "l", "+": "t"}  # fmt: skip
_LEET_CODES = np.arange(128, dtype=np.int32)
_LEET_CODES[[ord(k) for k in _LEET_LETTERS]] = [ord(v) for v in _LEET_LETTERS.values()]
# Units after a number ("13ans", "14yo", "2h") keep the number a number; the shorter ones are
# covered by the rule that a digit followed by fewer than three characters is a number.
_UNITS = ("ans", "yrs", "year", "years", "min", "eme")


def _packed(word: str) -> int:
    return sum(ord(c) << (7 * i) for i, c in enumerate(word))


def _pack(codes: Codes, starts: Index, lengths: Index) -> npt.NDArray[np.int64]:
    """Each word as one integer (7 bits a character, up to 9 characters), -1 for words that
    are longer or not ASCII: words are compared to dictionaries without Python strings."""
    packed = np.where(lengths <= 9, 0, -1).astype(np.int64)
    for i in range(min(int(lengths.max(initial=0)), 9)):
        at = np.flatnonzero((lengths > i) & (packed >= 0))
        char = codes[starts[at] + i].astype(np.int64)
        packed[at] = np.where(char < 128, packed[at] | (char << (7 * i)), -1)
    return packed


_UNIT_CODES = np.array(sorted(map(_packed, _UNITS)), dtype=np.int64)


def _number_with_unit(codes: Codes, cls: Flags, starts: Index, ends: Index) -> Mask:
    """Words that are a number and its unit: two leading digits or more, or one digit and
    fewer than three characters (``2h``, ``14yo``), or one digit and a longer unit (``13ans``)."""
    digit = (cls & _DIGIT) != 0
    lead = digit[starts]
    lead_two = lead & (ends - starts > 1) & digit[np.minimum(starts + 1, len(codes) - 1)]
    rest = ends - starts - 1
    maybe_unit = np.flatnonzero(lead & ~lead_two & (rest >= 3) & (rest <= 5))
    unit = np.zeros(len(starts), dtype=bool)
    packed = _pack(codes, starts[maybe_unit] + 1, rest[maybe_unit])
    unit[maybe_unit] = np.isin(packed, _UNIT_CODES)
    return lead_two | (lead & ((rest < 3) | unit))


def _unleet(codes: Codes, origin: Index) -> tuple[Codes, Index]:
    """Digits and symbols inside words become the letters they imitate (``sn@p``, ``t3l3gram``,
    ``ph0to``), but a number with its unit stays (``13ans``, ``14yo``, ``2h``, ``18+``)."""
    cls = _classes_of(codes)
    leet = (cls & (_LEET | _DIGIT)) != 0
    at = np.flatnonzero(leet).astype(np.int32)
    if not len(at):
        return codes, origin
    word = (cls & _WORD) != 0
    word |= leet & ((codes != ord("!")) | _next(word))  # "!" only before a word character
    starts, ends = _runs(word)
    if not len(starts):  # only "!" and the like: no word to read them in
        return codes, origin
    owner = np.searchsorted(starts, at, side="right").astype(np.int32) - 1
    inside = (owner >= 0) & (at < ends[np.maximum(owner, 0)])
    at, starts, ends = at[inside], starts[owner[inside]], ends[owner[inside]]
    latin = np.concatenate(([0], np.cumsum((cls & _LATIN) != 0, dtype=np.int32)))
    at = at[(latin[ends] > latin[starts]) & ~_number_with_unit(codes, cls, starts, ends)]
    codes = codes.copy()
    codes[at] = _LEET_CODES[np.minimum(codes[at], 127)]
    return codes, origin


def _collapse_repeats(codes: Codes, origin: Index) -> tuple[Codes, Index]:
    """A letter repeated three times or more counts once (``pleeeease``); digits are left
    alone (``1000``)."""
    same = np.concatenate(([False], codes[1:] == codes[:-1]))
    if not same.any():
        return codes, origin
    same &= (_classes_of(codes) & _ALPHA) != 0
    return _keep(codes, origin, same & (_prev(same) | _next(same)))


_NUMBER_WORDS = {
    # French
    "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "sept": 7, "huit": 8, "neuf": 9,
    "dix": 10, "onze": 11, "douze": 12, "treize": 13, "quatorze": 14, "quinze": 15, "seize": 16,
    "dixsept": 17, "dixhuit": 18, "vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50,
    # English
    "two": 2, "three": 3, "four": 4, "five": 5, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40,
    "fifty": 50,
}  # fmt: skip
# "dix-sept", "dix sept": "dix" and one of these, one hyphen or space apart.
_TEENS = {"sept": "17", "huit": "18", "neuf": "19"}
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


@dataclass(frozen=True, slots=True)
class _Dictionary:
    """Words (packed, sorted) and what each becomes, as slices of one code-point pool, with
    a table of (length, first two characters) that rules out most words in one lookup."""

    keys: npt.NDArray[np.int64]
    start: Index
    length: Index
    pool: npt.NDArray[np.int32]
    heads: Mask

    @classmethod
    def of(cls, words: dict[str, str], offset: int = 0) -> _Dictionary:
        keys = sorted(words, key=_packed)
        texts = [words[k] for k in keys]
        length = np.array([len(t) for t in texts], dtype=np.int32)
        pool = np.frombuffer("".join(texts).encode("utf-32-le"), dtype="<i4").astype(np.int32)
        heads = np.zeros(16 << 14, dtype=bool)
        for key in keys:
            heads[_head(len(key), ord(key[0]), ord(key[1]) if len(key) > 1 else 0)] = True
        packed = np.array([_packed(k) for k in keys], dtype=np.int64)
        start = (np.cumsum(length) - length + offset).astype(np.int32)
        return cls(packed, start, length, pool, heads)

    def find(self, codes: Codes, starts: Index, lengths: Index) -> Index:
        """Index of each word in the dictionary, -1 where absent."""
        first = codes[starts].astype(np.int32)
        second = np.where(lengths > 1, codes[np.minimum(starts + 1, len(codes) - 1)], 0)
        ascii_ = (first < 128) & (second < 128) & (lengths < 16)
        head = _head(np.minimum(lengths, 15), first & 127, second.astype(np.int32) & 127)
        maybe = np.flatnonzero(ascii_ & self.heads[head])
        found = np.full(len(starts), -1, dtype=np.int32)
        packed = _pack(codes, starts[maybe], lengths[maybe])
        at = np.minimum(np.searchsorted(self.keys, packed), len(self.keys) - 1)
        found[maybe] = np.where(self.keys[at] == packed, at, -1)
        return found


def _head(length: Index | int, first: Index | int, second: Index | int) -> Index | int:
    return (length << 14) | (first << 7) | second


_NUMBERS = _Dictionary.of({k: str(v) for k, v in _NUMBER_WORDS.items()})
_CHAT = _Dictionary.of(_SMS, offset=len(_NUMBERS.pool))
_DIX = _Dictionary.of({"dix": ""})
_TEEN = _Dictionary.of(_TEENS, offset=len(_NUMBERS.pool) + len(_CHAT.pool))
_POOL = np.concatenate((_NUMBERS.pool, _CHAT.pool, _TEEN.pool))
_POOLS = (_POOL, _POOL.astype(np.uint8))  # indexed by "the text is ASCII"


def _splice(
    codes: Codes, origin: Index, spans: tuple[Index, Index], pieces: tuple[Index, Index]
) -> tuple[Codes, Index]:
    """Replace the sorted, non-overlapping ``spans`` (starts, ends) by slices of ``_POOL``
    (starts, lengths). A replacement's characters point at the replaced ones, spread evenly."""
    starts, ends = spans
    piece_start, piece_length = pieces
    n = len(codes)
    lengths = np.where(_spans_mask(n, starts, ends), 0, 1).astype(np.int32)
    lengths[starts] = piece_length
    source = np.repeat(np.arange(n, dtype=np.int32), lengths)
    which = np.full(n, -1, dtype=np.int32)
    which[starts] = np.arange(len(starts), dtype=np.int32)
    out = codes[source]
    owner = which[source]
    replaced = np.flatnonzero(owner >= 0).astype(np.int32)
    p = owner[replaced]
    first_out = (np.cumsum(lengths, dtype=np.int32) - lengths)[starts]
    r = replaced - first_out[p]  # rank of each character within its replacement
    out[replaced] = _POOLS[out.dtype == np.uint8][piece_start[p] + r]
    spread = (ends - starts - 1) / np.maximum(piece_length - 1, 1)
    source[replaced] = starts[p] + (r * spread[p] + 0.5).astype(np.int32)
    return out, origin[source]


def _teens(codes: Codes, starts: Index, ends: Index) -> tuple[Index, Index]:
    """``dix-sept``, ``dix sept``: the index of each such ``dix`` and of its teen word."""
    lengths = ends - starts
    first = np.flatnonzero(_DIX.find(codes, starts[:-1], lengths[:-1]) >= 0)
    first = first[starts[first + 1] == ends[first] + 1]
    gap = codes[ends[first]]
    first = first[(gap == ord(" ")) | (gap == ord("-"))]
    teen = _TEEN.find(codes, starts[first + 1], lengths[first + 1])
    return first[teen >= 0], teen[teen >= 0]


def _expand_words(codes: Codes, origin: Index) -> tuple[Codes, Index]:
    """Number words become digits (``treize``, ``thirteen`` → ``13``) and whole-word chat
    spellings are spelt out (``chui`` → ``je suis``; not next to an apostrophe)."""
    cls = _classes_of(codes)
    starts, ends = _runs((cls & _WORD) != 0)
    lengths = ends - starts
    number = _NUMBERS.find(codes, starts, lengths)
    apostrophe = (cls & _APOSTROPHE) != 0
    beside = _prev(apostrophe)[starts] | _next(apostrophe)[ends - 1]
    chat = np.where((number < 0) & ~beside, _CHAT.find(codes, starts, lengths), -1)
    first, teen = _teens(codes, starts, ends)
    for hits in (number, chat):
        hits[first] = hits[first + 1] = -1
    is_number, is_chat = number >= 0, chat >= 0
    if not (is_number.any() or is_chat.any() or len(first)):
        return codes, origin
    span_starts = np.concatenate((starts[first], starts[is_number], starts[is_chat]))
    span_ends = np.concatenate((ends[first + 1], ends[is_number], ends[is_chat]))
    piece_start = np.concatenate(
        (_TEEN.start[teen], _NUMBERS.start[number[is_number]], _CHAT.start[chat[is_chat]])
    )
    piece_length = np.concatenate(
        (_TEEN.length[teen], _NUMBERS.length[number[is_number]], _CHAT.length[chat[is_chat]])
    )
    order = np.argsort(span_starts, kind="stable")
    spans = (span_starts[order], span_ends[order])
    return _splice(codes, origin, spans, (piece_start[order], piece_length[order]))


_STEPS = (_resolve_markers, _join_spaced, _unleet, _collapse_repeats, _expand_words)


def _normalize(text: str) -> Normalized:
    folded, origin = _normalize_arrays(text)
    origin.flags.writeable = False
    return Normalized(folded, memoryview(origin.data))


def _normalize_arrays(text: str) -> tuple[str, Index]:
    codes, origin = _fold(text)
    for step in _STEPS:
        if not len(codes):
            break
        codes, origin = step(codes, origin)
    if codes.dtype == np.uint8:
        folded = codes.tobytes().decode("ascii")
    else:
        folded = codes.astype("<i4").tobytes().decode("utf-32-le")
    return folded, origin


class _Recent:
    """The normal forms of recent short texts (chat lines repeat: "ok", "lol", "wesh").
    A dictionary kept in insertion order, oldest dropped first; the lock because the
    PostgreSQL route decides on a thread pool."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: dict[str, Normalized] = {}
        self.lock = threading.Lock()

    def get(self, text: str) -> Normalized | None:
        return self.items.get(text)

    def put(self, text: str, norm: Normalized) -> None:
        with self.lock:
            self.items[text] = norm
            while len(self.items) > self.size:
                del self.items[next(iter(self.items))]

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


_recent = _Recent(16384)
CACHED_LENGTH = 4096  # longer texts rarely repeat, and the cache must not hold megabytes


def normalize(text: str) -> Normalized:
    """The normalised form of a message, with its origin map (cached: short texts repeat)."""
    if len(text) > CACHED_LENGTH:
        return _normalize(text)
    found = _recent.get(text)
    if found is None:
        found = _normalize(text)
        _recent.put(text, found)
    return found


# Between two messages normalised together: a two-letter word no rule reads (not a single
# letter to join, not a number, chat or teen word, no leet, no repeat, no marker), with a
# blank on each side, so no step can reach across it from one message into the next.
_SEPARATOR = " qq "
_BATCH_LENGTH = 1 << 16  # characters normalised in one pass


def normalize_many(texts: Sequence[str]) -> list[Normalized]:
    """``[normalize(t) for t in texts]``, with the short texts normalised in one NumPy pass.

    Each step costs a few dozen NumPy calls whatever the length, about half a millisecond
    for a chat line alone; a group of lines together costs about what one does. Every step
    looks only at a character's neighbours within a word or a run of single letters, and
    the separator breaks both, so each text comes out exactly as alone (a property test
    checks it). The results go into the cache that ``normalize`` reads.
    """
    todo = [t for t in dict.fromkeys(texts) if len(t) <= CACHED_LENGTH and _recent.get(t) is None]
    for group in _groups(todo):
        for text, norm in zip(group, _normalize_together(group), strict=True):
            _recent.put(text, norm)
    return [normalize(t) for t in texts]


def _groups(texts: list[str]) -> list[list[str]]:
    """Consecutive texts in groups of at most ``_BATCH_LENGTH`` characters."""
    groups: list[list[str]] = []
    size = _BATCH_LENGTH
    for text in texts:
        if size + len(text) > _BATCH_LENGTH or not groups:
            groups.append([])
            size = 0
        groups[-1].append(text)
        size += len(text) + len(_SEPARATOR)
    return groups


def _normalize_together(texts: list[str]) -> list[Normalized]:
    """Normalise texts joined by the separator, then cut the result at each text's edges
    (the origin map says where each output character came from, in order)."""
    if len(texts) == 1:
        return [_normalize(texts[0])]
    folded, origin = _normalize_arrays(_SEPARATOR.join(texts))
    edges = np.cumsum([0] + [len(t) + len(_SEPARATOR) for t in texts[:-1]])
    lows = np.searchsorted(origin, edges)
    highs = np.searchsorted(origin, edges + [len(t) for t in texts])
    out = []
    for lo, hi, edge in zip(lows.tolist(), highs.tolist(), edges.tolist(), strict=True):
        part = origin[lo:hi] - np.int32(edge)
        part.flags.writeable = False
        out.append(Normalized(folded[lo:hi], memoryview(part.data)))
    return out
