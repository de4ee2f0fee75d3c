"""Read hash lists: the shared CSV contract and the formats HMA / ThreatExchange exchange.

Why forgiving: lists come from outside (hotlines, NCMEC/StopNCII via HMA) and one bad line
must not keep the thousands of good ones out, so every line is checked on its own and a
malformed one is reported with its line number while the rest loads.

Formats (``detect_format`` picks one from the first meaningful line):

- ``csv`` — ``hash_type,hash_value,list,label`` with a header (contract). Optional extra
  columns understood: ``quality`` (PDQ quality, default 100) and ``op`` (``add``/``remove``).
- ``te`` — python-threatexchange / HMA signal files: ``<signal_type> <value>`` per line
  (``pdq``, ``video_md5``, ``photo_md5``, ``md5``, ``sha256``, ``vpdq``); ``#`` comments.
- ``jsonl`` — one JSON object per line: a ThreatExchange descriptor
  (``{"type": "HASH_PDQ", "raw_indicator": ...}``), an HMA signal
  (``{"signal_type": "pdq", "signal_value": ...}``) or an HMA hash map (``{"pdq": ...}``);
  optional ``list``, ``label``, ``quality``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

HASH_TYPES = ("pdq", "md5", "sha256", "vpdq")
_HEX = {
    "pdq": re.compile(r"[0-9a-f]{64}"),
    "md5": re.compile(r"[0-9a-f]{32}"),
    "sha256": re.compile(r"[0-9a-f]{64}"),
}
# The plain reader's types: canonical names only, values already in canonical form.
_PLAIN_HEX = {"pdq": _HEX["pdq"], "md5": _HEX["md5"], "sha256": _HEX["sha256"]}
_TYPE_ALIASES = {
    "pdq": "pdq",
    "hash_pdq": "pdq",
    "md5": "md5",
    "hash_md5": "md5",
    "video_md5": "md5",
    "photo_md5": "md5",
    "hash_video_md5": "md5",
    "hash_photo_md5": "md5",
    "sha256": "sha256",
    "hash_sha256": "sha256",
    "vpdq": "vpdq",
    "hash_vpdq": "vpdq",
}


class ListFormatError(ValueError):
    """The file as a whole cannot be read (for example a CSV without its header)."""


@dataclass(slots=True)
class ListEntry:
    hash_type: str
    value: str
    list: str
    label: str
    line: int
    quality: int = 100
    op: str = "add"


@dataclass(slots=True)
class ParsedList:
    entries: list[ListEntry] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)


def normalise(hash_type: str, value: str) -> tuple[str, str]:
    """Canonical (type, value); raises ValueError with a short reason when malformed."""
    kind = _TYPE_ALIASES.get(hash_type.strip().lower())
    if kind is None:
        raise ValueError(f"unknown hash type {hash_type.strip()!r}")
    value = value.strip()
    if kind == "vpdq":
        return kind, normalise_vpdq(value)
    value = value.lower()
    if not _HEX[kind].fullmatch(value):
        size = 32 if kind == "md5" else 64
        raise ValueError(f"malformed {kind} hash: expected {size} hex characters")
    return kind, value


def normalise_vpdq(value: str) -> str:
    """A vPDQ entry: HMA's compact JSON list of "hex,quality,seconds", or one frame's hex."""
    if re.fullmatch(r"[0-9a-fA-F]{64}", value):
        return json.dumps([f"{value.lower()},100,0.000"])
    try:
        frames = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError("malformed vpdq hash: not a JSON list of frames") from exc
    if not isinstance(frames, list) or not frames:
        raise ValueError("malformed vpdq hash: expected a non-empty list of frames")
    out = []
    for frame in frames:
        parts = str(frame).split(",")
        if len(parts) != 3 or not re.fullmatch(r"[0-9a-fA-F]{64}", parts[0]):
            raise ValueError("malformed vpdq frame: expected 'hex,quality,seconds'")
        out.append(f"{parts[0].lower()},{int(parts[1])},{float(parts[2]):.3f}")
    return json.dumps(out)


def vpdq_frames(value: str) -> list[tuple[str, int]]:
    """(hex, quality) of each frame of a normalised vPDQ value."""
    return [(f.split(",")[0], int(f.split(",")[1])) for f in json.loads(value)]


def detect_format(text: str) -> str:
    """The format of the first meaningful line, read lazily: a list of a million lines is
    not split whole just to look at its head."""
    for line in io.StringIO(text, newline=None):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("{"):
            return "jsonl"
        if "," in stripped and "hash_type" in stripped.lower():
            return "csv"
        return "te"
    return "csv"


def parse_list(
    text: str,
    fmt: str = "auto",
    *,
    default_list: str = "default",
    default_label: str = "known_imagery",
) -> ParsedList:
    """Parse a list file's text; bad lines land in ``rejected`` as (line number, reason)."""
    fmt = detect_format(text) if fmt == "auto" else fmt
    parsers = {"csv": _parse_csv, "te": _parse_te, "jsonl": _parse_jsonl}
    if fmt not in parsers:
        raise ListFormatError(f"unknown list format {fmt!r} (csv, te, jsonl)")
    return parsers[fmt](text, default_list, default_label)


def _parse_csv(text: str, default_list: str, default_label: str) -> ParsedList:
    """One line at a time, so a malformed line (a stray quote or carriage return) is reported
    with its number and costs only itself; hash lists never need multi-line fields."""
    lines = text.splitlines()
    try:
        header = [h.strip().lower() for h in _csv_row(lines[0])] if lines else []
    except csv.Error as exc:
        raise ListFormatError(f"line 1: unreadable CSV header ({exc})") from exc
    missing = {"hash_type", "hash_value", "list", "label"} - set(header)
    if missing:
        raise ListFormatError(f"line 1: CSV header lacks {', '.join(sorted(missing))}")
    column = {name: i for i, name in enumerate(header)}
    parsed = ParsedList()
    plain = _plain_reader(column, default_list, default_label)
    for line, raw in enumerate(lines[1:], start=2):
        entry = plain(raw, line)
        if entry is not None:
            parsed.entries.append(entry)
        elif raw.strip():
            _careful_line(parsed, raw, line, column, default_list, default_label)
    return parsed


def _careful_line(
    parsed: ParsedList,
    raw: str,
    line: int,
    column: dict[str, int],
    default_list: str,
    default_label: str,
) -> None:
    """One line the plain reader left: read with the CSV rules and every check, added to the
    entries or, with its reason, to the rejected lines."""
    try:
        row = _csv_row(raw)
        parsed.entries.append(_csv_entry(row, column, line, default_list, default_label))
    except (ValueError, IndexError, csv.Error) as exc:
        parsed.rejected.append((line, _reason(exc)))


def _plain_reader(
    column: dict[str, int], default_list: str, default_label: str
) -> Callable[[str, int], ListEntry | None]:
    """A reader for the lines nearly every large list is made of: no quote, the header's
    number of fields, a canonical type name and lower-case hex of the right length. It gives
    the entry the careful path would, at a third of the cost (a million lines are a few
    seconds of the import otherwise), or None: the line then goes the careful way, which
    trims, lower-cases, reads vPDQ, quality and op columns, and names what is wrong."""
    if "quality" in column or "op" in column:
        return lambda raw, line: None
    width = len(column)
    at_type, at_value = column["hash_type"], column["hash_value"]
    at_list, at_label = column["list"], column["label"]

    def plain(raw: str, line: int) -> ListEntry | None:
        parts = raw.split(",")
        if len(parts) != width or '"' in raw:
            return None
        kind, value = parts[at_type], parts[at_value]
        hexes = _PLAIN_HEX.get(kind)
        if hexes is None or hexes.fullmatch(value) is None:
            return None
        name, label = parts[at_list].strip(), parts[at_label].strip()
        return ListEntry(kind, value, name or default_list, label or default_label, line)

    return plain


def _csv_row(line: str) -> list[str]:
    """The fields of one line; a plain split when nothing needs the CSV reader (no quote, no
    carriage return), which is nearly every line of a large list and a tenth of the cost."""
    if '"' not in line and "\r" not in line:
        return line.split(",")
    return next(csv.reader([line]), [])


def _csv_entry(
    row: list[str], column: dict[str, int], line: int, default_list: str, default_label: str
) -> ListEntry:
    if len(row) < len(column):
        raise ValueError(f"expected {len(column)} fields, got {len(row)}")
    kind, value = normalise(row[column["hash_type"]], row[column["hash_value"]])
    entry = ListEntry(
        kind,
        value,
        row[column["list"]].strip() or default_list,
        row[column["label"]].strip() or default_label,
        line,
    )
    if "quality" in column and row[column["quality"]].strip():
        entry.quality = _quality(row[column["quality"]])
    if "op" in column and row[column["op"]].strip():
        entry.op = _op(row[column["op"]])
    return entry


def _parse_te(text: str, default_list: str, default_label: str) -> ParsedList:
    parsed = ParsedList()
    for line, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped or stripped.startswith("#"):
            continue
        kind, _, value = stripped.partition(" ")
        try:
            if not value.strip():
                raise ValueError("expected '<signal_type> <value>'")
            kind, value = normalise(kind, value.strip().split()[0] if kind != "vpdq" else value)
            parsed.entries.append(ListEntry(kind, value, default_list, default_label, line))
        except ValueError as exc:
            parsed.rejected.append((line, _reason(exc)))
    return parsed


def _parse_jsonl(text: str, default_list: str, default_label: str) -> ParsedList:
    parsed = ParsedList()
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.strip().startswith("#"):
            continue
        try:
            obj = json.loads(raw)
            if not isinstance(obj, dict):
                raise ValueError("expected a JSON object")
            parsed.entries.extend(_json_entries(obj, line, default_list, default_label))
        except json.JSONDecodeError:
            parsed.rejected.append((line, "malformed JSON"))
        except ValueError as exc:
            parsed.rejected.append((line, _reason(exc)))
    return parsed


def _json_entries(
    obj: dict[str, Any], line: int, default_list: str, default_label: str
) -> list[ListEntry]:
    list_name = str(obj.get("list") or default_list)
    label = str(obj.get("label") or default_label)
    if "raw_indicator" in obj:  # ThreatExchange descriptor
        pairs = [(str(obj.get("type", "")), str(obj["raw_indicator"]))]
    elif "signal_type" in obj:  # HMA signal
        pairs = [(str(obj["signal_type"]), str(obj.get("signal_value", obj.get("signal", ""))))]
    else:  # HMA hash map, as its hashing endpoint returns
        pairs = [
            (k, v if isinstance(v, str) else json.dumps(v))
            for k, v in obj.items()
            if k.lower() in _TYPE_ALIASES
        ]
    if not pairs:
        raise ValueError("no hash found in the object")
    quality = _quality(obj["quality"]) if "quality" in obj else 100
    entries = []
    for kind, value in pairs:
        kind, value = normalise(kind, value)
        entries.append(ListEntry(kind, value, list_name, label, line, quality))
    return entries


def _quality(raw: object) -> int:
    quality = int(str(raw).strip())
    if not 0 <= quality <= 100:
        raise ValueError("quality must be within 0..100")
    return quality


def _op(raw: str) -> str:
    op = raw.strip().lower()
    if op not in ("add", "remove"):
        raise ValueError("op must be 'add' or 'remove'")
    return op


def _reason(exc: Exception) -> str:
    text = str(exc)
    if text.startswith("invalid literal for int()"):
        return "quality is not a whole number"
    return text or exc.__class__.__name__
