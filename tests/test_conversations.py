import json
from pathlib import Path

import pytest

from vigie.conversations import ConversationFormatError, read_conversations

GOOD = {
    "id": "c-1", "lang": "fr", "platform": "demo", "extra": {"ignored": True},
    "participants": {"a": {"age": 34, "age_source": "declared", "account_created": "2026-11-01"},
                     "b": {"age": 13, "age_source": "estimated"}},
    "messages": [{"from": "a", "text": "salut", "at": "2026-11-28T17:02:11Z"},
                 {"from": "b", "text": "slt"}],
    "label": "grooming", "first_risk_index": 1,
}  # fmt: skip


def _write(tmp_path: Path, *objs: object) -> Path:
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(o if isinstance(o, str) else json.dumps(o) for o in objs) + "\n")
    return path


def test_reads_a_conversation(tmp_path: Path) -> None:
    [rec] = list(read_conversations(_write(tmp_path, GOOD)))
    assert rec.id == "c-1" and rec.lang == "fr" and rec.label == "grooming"
    assert rec.participants["a"].age == 34 and rec.participants["b"].is_minor
    assert rec.participants["a"].account_created is not None
    sender, text, at = rec.messages[0]
    assert (sender, text) == ("a", "salut") and at is not None and at.tzinfo is not None
    assert rec.messages[1].at is None
    assert rec.first_risk_index == 1 and rec.risky is True


def test_blank_lines_are_skipped_and_unknown_senders_added(tmp_path: Path) -> None:
    conv = dict(GOOD, messages=[{"from": "z", "text": "hey"}])
    [rec] = list(read_conversations(_write(tmp_path, "", conv, "")))
    assert rec.participants["z"].age is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": ""}, "id"),
        ({"messages": "no"}, "messages"),
        ({"messages": [{"text": "x"}]}, "messages[0].from"),
        ({"messages": [{"from": "a", "text": 3}]}, "messages[0].text"),
        ({"messages": [{"from": "a", "text": "x", "at": "yesterday"}]}, "messages[0].at"),
        ({"label": "bad"}, "label"),
        ({"first_risk_index": -1}, "first_risk_index"),
        ({"participants": {"a": {"age": "old"}}}, "participants.a.age"),
        ({"participants": {"a": {"age_source": "guess"}}}, "participants.a.age_source"),
    ],
)
def test_errors_name_line_and_field(tmp_path: Path, change: dict, field: str) -> None:
    path = _write(tmp_path, GOOD, dict(GOOD, **change))
    with pytest.raises(ConversationFormatError) as err:
        list(read_conversations(path))
    assert err.value.line == 2 and err.value.field == field
    assert "line 2" in str(err.value) and field in str(err.value)


def test_invalid_json_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConversationFormatError, match="line 1"):
        list(read_conversations(_write(tmp_path, "{not json")))
