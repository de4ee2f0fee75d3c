"""Property tests for everything that reads text written by someone else.

Each parser must either give a result or raise *its own* error type, and that error must say
where (line, field): safety officers and hotlines fix files from the message alone. Any other
exception (KeyError, OverflowError, UnicodeDecodeError...) is a crash on hostile input.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

FAST = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Any JSON value, including the numbers Python's parser makes of 1e400 and NaN.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


# -- text normalisation ----------------------------------------------------------------------


@FAST
@given(st.text(max_size=300))
def test_normalize_never_crashes_and_maps_back_to_the_original(text: str) -> None:
    from vigie.detect.text.normalize import normalize

    norm = normalize(text)
    assert len(norm.origin) == len(norm.text)
    assert all(0 <= i < len(text) for i in norm.origin)
    assert list(norm.origin) == sorted(norm.origin)  # spans stay in reading order
    start, end = norm.span(0, len(norm.text))
    assert 0 <= start <= end <= len(text)


# -- conversation files ----------------------------------------------------------------------


def _conversation_objects() -> st.SearchStrategy[object]:
    participant = st.fixed_dictionaries(
        {}, optional={"age": json_values, "age_source": json_values, "account_created": json_values}
    )
    message = st.fixed_dictionaries(
        {},
        optional={
            "from": st.text(max_size=5) | json_values,
            "text": json_values,
            "at": json_values,
        },
    )
    conversation = st.fixed_dictionaries(
        {},
        optional={
            "id": st.text(max_size=5) | json_values,
            "participants": st.dictionaries(st.text(max_size=5), participant, max_size=3)
            | json_values,
            "messages": st.lists(message, max_size=4) | json_values,
            "label": st.sampled_from(["benign", "grooming", "sextortion"]) | json_values,
            "first_risk_index": json_values,
        },
    )
    return conversation | json_values


@FAST
@given(_conversation_objects(), st.integers(1, 10_000))
@example({"id": "c", "participants": {"a": {"age": math.inf}}, "messages": []}, 3)
@example({"id": "c", "participants": {"a": {"age": math.nan}}, "messages": []}, 3)
@example({"id": "c", "messages": [{"from": "a", "at": "2026-13-45T99:00:00Z"}]}, 3)
def test_conversation_parser_raises_only_its_own_error_naming_line_and_field(
    obj: object, line: int
) -> None:
    from vigie.conversations import ConversationFormatError, parse_conversation

    try:
        parse_conversation(obj, line)
    except ConversationFormatError as exc:
        assert exc.line == line and exc.field
        assert str(exc).startswith(f"line {line}: field '")


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.binary(max_size=60) | st.text(max_size=60).map(str.encode), max_size=6))
def test_conversation_files_with_any_bytes_fail_naming_the_line(
    tmp_path: Path, lines: list[bytes]
) -> None:
    from vigie.conversations import ConversationFormatError, read_conversations

    path = tmp_path / "conversations.jsonl"
    path.write_bytes(b"\n".join(line.replace(b"\n", b" ") for line in lines))
    try:
        list(read_conversations(path))
    except ConversationFormatError as exc:
        assert 1 <= exc.line <= max(len(lines), 1)


# -- hash lists -----------------------------------------------------------------------------

lists_mod = pytest.importorskip("vigie.detect.media.lists", reason="hash-list parser not built")

HEX64 = "f" * 64
list_lines = st.one_of(
    st.text(max_size=80).map(lambda s: s.replace("\n", " ")),
    st.sampled_from(
        [
            f"pdq,{HEX64},hotline,known_imagery",
            f"md5,{'a' * 32},l,x",
            f"sha256,{HEX64},l,x",
            f"pdq {HEX64}",
            '{"pdq": "' + HEX64 + '"}',
            '{"signal_type": "pdq"}',
            "pdq,zz,l,x",
            "vpdq,[1,2],l,x",
            '{"type": "HASH_PDQ", "raw_indicator": 5, "quality": "1e9"}',
            "hash_type,hash_value,list,label,quality,op",
            f"pdq,{HEX64},l,x,abc,remove",
        ]
    ),
)


@FAST
@given(st.lists(list_lines, max_size=12), st.sampled_from(["auto", "csv", "te", "jsonl"]))
def test_hash_list_parser_rejects_bad_lines_by_number(lines: list[str], fmt: str) -> None:
    text = "\n".join(lines)
    try:
        parsed = lists_mod.parse_list(text, fmt)
    except lists_mod.ListFormatError as exc:
        assert "line" in str(exc) or "format" in str(exc)
        return
    count = max(len(text.splitlines()), 1)
    for number, reason in parsed.rejected:
        assert 1 <= number <= count + 1 and reason
    for entry in parsed.entries:
        assert entry.hash_type in lists_mod.HASH_TYPES and 0 <= entry.quality <= 100


def test_huge_hash_list_is_parsed_line_by_line() -> None:
    """50 000 lines, every 7th one broken: each good one loads, each bad one is named."""
    rows = ["hash_type,hash_value,list,label"]
    for i in range(1, 50_000):
        rows.append(f"pdq,{i:064x},big,known_imagery" if i % 7 else f"pdq,{i:x}zz,big,x")
    parsed = lists_mod.parse_list("\n".join(rows))
    bad_lines = {i + 1 for i in range(1, 50_000) if i % 7 == 0}
    assert {n for n, _ in parsed.rejected} == bad_lines
    assert len(parsed.entries) == 49_999 - len(bad_lines)


# -- policy files ---------------------------------------------------------------------------


def _default_policy_lines() -> list[str]:
    from importlib.resources import files

    return (files("vigie.policy") / "default_policy.toml").read_text("utf-8").splitlines()


POLICY_LINES = _default_policy_lines()
JUNK = st.sampled_from(
    [
        "",
        "[[rule]]",
        "[rule.when]",
        "[rule.then]",
        'name = "x"',
        'decision = "explode"',
        'actions = ["open_case"]',
        "case_priority = 9",
        "risk_at_least = 2",
        "stop = 3",
        'categories_any = ["not_a_category"]',
        "version = 2",
        "[thresholds]",
        "x = inf",
        'risk_at_least = "no_such_threshold"',
        "= broken",
        '"',
        "[[rule]",
        "min_reports = -1",
    ]
) | st.text(max_size=40).map(lambda s: s.replace("\n", " "))


@st.composite
def mutated_policies(draw: st.DrawFn) -> str:
    lines = list(POLICY_LINES)
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(lines)))
        kind = draw(st.sampled_from(["replace", "insert", "delete"]))
        if kind == "insert" or not lines or where == len(lines):
            lines.insert(where, draw(JUNK))
        elif kind == "replace":
            lines[where] = draw(JUNK)
        else:
            del lines[where]
    return "\n".join(lines)


@FAST
@given(mutated_policies() | st.text(max_size=200))
def test_policy_files_fail_with_a_policy_error_naming_the_line(text: str) -> None:
    from vigie.policy.loader import PolicyError, parse_policy

    try:
        parse_policy(text, source="policy.toml")
    except PolicyError as exc:
        assert str(exc).startswith("policy.toml")
        if exc.line is not None:
            assert 1 <= exc.line <= max(len(text.splitlines()), 1) + 1
            assert f"line {exc.line}" in str(exc)


def test_json_float_extremes_are_what_the_fuzzers_send() -> None:
    """Guard for the strategies above: Python's JSON really produces these values."""
    assert math.isinf(json.loads("1e400")) and math.isnan(json.loads("NaN"))
