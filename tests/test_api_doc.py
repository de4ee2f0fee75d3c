"""docs/api.md is the contract platforms read: its examples must be what the code accepts and
answers, and its webhook verifier must accept what Vigie signs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from vigie.api.schemas import CasesAnswer, EventResult, EventsAnswer
from vigie.conversations import parse_conversation
from vigie.domain.webhooks import sign, verify_signature
from vigie.events import EventBatch

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"
PLACEHOLDERS = {"<64 hex>": "0" * 64, "<32 hex>": "0" * 32}


def _fenced() -> list[tuple[str, str]]:
    """(language, text) of each fenced block of the page, in order."""
    blocks: list[tuple[str, str]] = []
    lang: str | None = None
    lines: list[str] = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if not line.startswith("```"):
            lines.append(line)
        elif lang is None:
            lang, lines = line[3:].strip(), []
        else:
            blocks.append((lang, "\n".join(lines) + "\n"))
            lang = None
    return blocks


def _blocks(lang: str) -> list[str]:
    return [text for kind, text in _fenced() if kind == lang]


def _json_examples() -> list[Any]:
    out = []
    for block in [*_blocks("json"), *_blocks("")]:
        start = block.find("{")
        if start < 0:
            continue
        text = block[start:]
        for placeholder, value in PLACEHOLDERS.items():
            text = text.replace(placeholder, value)
        try:
            out.append(json.loads(text))
        except json.JSONDecodeError:
            continue  # a webhook request: headers, then a body checked on its own below
    return out


def test_every_json_example_parses() -> None:
    for block in _blocks("json"):
        json.loads(block)  # a typo in an example would mislead every reader


def test_request_and_answer_examples_match_the_models() -> None:
    examples = _json_examples()
    batches = [e for e in examples if "events" in e]
    assert batches, "the events example is missing"
    for example in batches:
        EventBatch.model_validate(example)
    for example in examples:
        if "type" in example:  # one event on its own
            EventBatch.model_validate({"events": [example]})
        elif "participants" in example:
            parse_conversation(example)
        elif "results" in example:
            EventsAnswer.model_validate(example)
        elif "cases" in example:
            CasesAnswer.model_validate(example)
        elif "decision" in example:
            EventResult.model_validate(example)


def _webhook_example() -> tuple[str, bytes]:
    block = next(b for b in _blocks("") if b.startswith("POST <webhook URL>"))
    header = re.search(r"^Vigie-Signature: (.+)$", block, re.MULTILINE)
    assert header is not None
    return header.group(1), block.rstrip("\n").splitlines()[-1].encode()


def test_the_webhook_example_is_signed_with_the_example_secret() -> None:
    header, body = _webhook_example()
    t = int(header.split(",")[0].removeprefix("t="))
    assert verify_signature("whsec_example", header, body, now=t)
    assert json.loads(body).keys() >= {"id", "action", "event", "subject", "case", "at"}


def test_the_documented_verifier_accepts_vigie_and_refuses_the_rest() -> None:
    (code,) = [b for b in _blocks("python") if "def verify(" in b]
    space: dict[str, Any] = {}
    exec(compile(code, str(DOC), "exec"), space)  # our own documentation, run as written
    verify = space["verify"]
    body = b'{"id":"wh_1","action":"block"}'
    assert verify("s3cret", sign("s3cret", body), body)
    assert not verify("other", sign("s3cret", body), body)
    assert not verify("s3cret", sign("s3cret", body), body + b" ")
    assert not verify("s3cret", sign("s3cret", body, timestamp=1), body)
    assert not verify("s3cret", "v1=00", body)


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"events": []}, "events: List should have at least 1 item after validation, not 0"),
        (
            {"events": [{"type": "account", "id": "x", "account": "u", "age": 200}]},
            "events.0.account.age: Input should be less than or equal to 130",
        ),
    ],
)
def test_documented_errors_are_the_real_ones(
    client: TestClient, auth: dict[str, str], body: dict[str, Any], error: str
) -> None:
    answer = client.post("/v1/events", json=body, headers=auth)
    assert answer.status_code == 422
    assert answer.json()["error"] == error
    assert f"`{error}`" in DOC.read_text(encoding="utf-8")
