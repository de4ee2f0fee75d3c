"""Reader for conversation files (JSON Lines), the contract in docs/api.md.

Batch scoring (``vigie scan``) and evaluation (``vigie eval``) both read this format, so
errors name the line and the field: the people feeding these files are not Python users.
Unknown fields are ignored, as the contract asks.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, NamedTuple

from vigie.domain import AgeSource, Participant

# The contract's three labels, plus "exploitation" (adults arranging the paid live-streamed
# abuse of a child) in the project's own corpus.
LABELS = ("benign", "grooming", "sextortion", "exploitation")


class ConversationFormatError(ValueError):
    """A conversation line that does not follow the contract; says where and what."""

    def __init__(self, line: int, field_name: str, problem: str) -> None:
        super().__init__(f"line {line}: field '{field_name}': {problem}")
        self.line = line
        self.field = field_name
        self.problem = problem


class ChatLine(NamedTuple):
    """One message of a conversation file: who sent it, what, and when (if known).

    A named tuple, so ``for sender, text, at in record.messages`` works.
    """

    sender: str
    text: str
    at: datetime | None = None


@dataclass(slots=True)
class ConversationRecord:
    id: str
    lang: str | None
    platform: str | None
    participants: dict[str, Participant]
    messages: list[ChatLine] = field(default_factory=list)
    label: str | None = None
    first_risk_index: int | None = None

    @property
    def risky(self) -> bool | None:
        """True for grooming or sextortion, False for benign, None when unlabelled."""
        return None if self.label is None else self.label != "benign"


def _parse_time(raw: Any, line: int, name: str) -> datetime | None:
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise ConversationFormatError(line, name, "expected an RFC 3339 string")
    text = raw.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ConversationFormatError(line, name, f"not a date/time: {raw!r}") from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _participant(handle: str, raw: Any, line: int) -> Participant:
    where = f"participants.{handle}"
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConversationFormatError(line, where, "expected an object")
    age = raw.get("age")
    if age is not None and (
        isinstance(age, bool) or not isinstance(age, int | float) or not 0 <= age <= 130
    ):  # NaN fails the range test too
        raise ConversationFormatError(line, f"{where}.age", "expected a number 0-130 or null")
    source_raw = raw.get("age_source") or "unknown"
    try:
        source = AgeSource(source_raw)
    except ValueError as exc:
        choices = ", ".join(s.value for s in AgeSource)
        raise ConversationFormatError(line, f"{where}.age_source", f"one of {choices}") from exc
    created = _parse_time(raw.get("account_created"), line, f"{where}.account_created")
    return Participant(handle, None if age is None else int(age), source, created)


def _messages(raw: Any, handles: dict[str, Participant], line: int) -> list[ChatLine]:
    if not isinstance(raw, list):
        raise ConversationFormatError(line, "messages", "expected a list")
    out: list[ChatLine] = []
    for i, msg in enumerate(raw):
        where = f"messages[{i}]"
        if not isinstance(msg, dict):
            raise ConversationFormatError(line, where, "expected an object")
        sender = msg.get("from")
        if not isinstance(sender, str) or not sender:
            raise ConversationFormatError(line, f"{where}.from", "expected a participant handle")
        if sender not in handles:
            handles[sender] = Participant(sender)
        text = msg.get("text", "")
        if text is None:
            text = ""
        if not isinstance(text, str):
            raise ConversationFormatError(line, f"{where}.text", "expected a string")
        out.append(ChatLine(sender, text, _parse_time(msg.get("at"), line, f"{where}.at")))
    return out


def parse_conversation(obj: Any, line: int = 1) -> ConversationRecord:
    """One decoded JSON object to a record, or a ConversationFormatError."""
    if not isinstance(obj, dict):
        raise ConversationFormatError(line, "(line)", "expected a JSON object")
    cid = obj.get("id")
    if not isinstance(cid, str | int) or isinstance(cid, bool) or cid == "":
        raise ConversationFormatError(line, "id", "expected a non-empty string")
    parts_raw = obj.get("participants") or {}
    if not isinstance(parts_raw, dict):
        raise ConversationFormatError(line, "participants", "expected an object")
    participants = {str(h): _participant(str(h), p, line) for h, p in parts_raw.items()}
    messages = _messages(obj.get("messages"), participants, line)
    label = obj.get("label")
    if label is not None and label not in LABELS:
        raise ConversationFormatError(line, "label", f"one of {', '.join(LABELS)} or null")
    fri = obj.get("first_risk_index")
    if fri is not None and (isinstance(fri, bool) or not isinstance(fri, int) or fri < 0):
        raise ConversationFormatError(line, "first_risk_index", "expected an index >= 0 or null")
    lang, platform = obj.get("lang"), obj.get("platform")
    return ConversationRecord(
        id=str(cid),
        lang=lang if isinstance(lang, str) else None,
        platform=platform if isinstance(platform, str) else None,
        participants=participants,
        messages=messages,
        label=label,
        first_risk_index=fri,
    )


def read_conversations(path: str | Path) -> Iterator[ConversationRecord]:
    """Yield the conversations of a JSON Lines file in order; blank lines are skipped."""
    with Path(path).open("rb") as fh:  # decoded per line, so bad bytes are named by line
        for number, data in enumerate(fh, start=1):
            try:
                raw = data.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ConversationFormatError(
                    number, "(line)", f"not valid UTF-8 at byte {exc.start}"
                ) from exc
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise ConversationFormatError(number, "(line)", f"invalid JSON: {exc.msg}") from exc
            yield parse_conversation(obj, number)
