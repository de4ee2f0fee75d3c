"""Practice for référents: at least 30 realistic, non-explicit cases in French and English,
each with a trained reviewer's decision, why, warning signs and channel; feedback; progress for
admins; and practice never reaches real cases, queues, statistics or reports."""

from __future__ import annotations

import re

from console_seed import ConsoleEnv, csrf_in
from sqlalchemy import func, select

from vigie.console import practice
from vigie.domain.categories import Category
from vigie.store.tables import AuditRow, CaseRow, DecisionRow, SignalRow

# Words that have no place in prevention material: practice cases describe warning signs the
# way prevention campaigns do, never sexual content.
EXPLICIT = re.compile(
    r"\b(sex(?!tor)\w*|sexuel\w*|nude?s?|naked|nue?s?|porn\w*|seins?|breasts?|genital\w*)\b", re.I
)


def test_thirty_cases_complete_in_both_languages() -> None:
    cases = practice.practice_cases()
    assert len(cases) >= 30 and len({c.key for c in cases}) == len(cases)
    kinds = {c.kind for c in cases}
    assert {"grooming", "sextortion", "livestream", "negative"} <= kinds
    assert {"siblings", "teachers", "teen peers"} <= {c.stage for c in cases}
    assert {"3018", "119", "pharos", "ncmec"} <= {c.channel for c in cases}
    known = {c.value for c in Category}
    for case in cases:
        assert case.expected in practice.DECISIONS and case.channel in practice.CHANNELS
        assert set(case.acceptable) <= set(practice.DECISIONS)
        assert case.signs <= known, case.key
        for lang in ("en", "fr"):
            text = case.text[lang]
            assert text["title"] and text["why"] and text["messages"], (case.key, lang)
            assert all(0 <= m["from"] < len(case.people) for m in text["messages"])
            words = " ".join([text["title"], text["why"], *(m["text"] for m in text["messages"])])
            assert not EXPLICIT.search(words), (case.key, lang)
        assert len(case.text["en"]["messages"]) == len(case.text["fr"]["messages"]), case.key


def _counts(env: ConsoleEnv) -> tuple[int, ...]:
    with env.app.state.store.unit() as unit:
        s = unit.session
        return tuple(
            int(s.scalar(select(func.count()).select_from(t)) or 0)
            for t in (CaseRow, SignalRow, DecisionRow, AuditRow)
        )


def test_a_practice_case_gives_feedback_and_progress_but_no_real_trace(console: ConsoleEnv) -> None:
    ref = console.login("ref1@vigie.test")
    before_queue = ref.get("/console/queues").text
    counts = _counts(console)
    page = ref.get("/console/practice/grooming-meeting", headers={"Accept-Language": "fr"}).text
    assert "Samedi à la gare" in page and "Enfant, 13 ans" in page
    token = csrf_in(page)
    answer = ref.post(
        "/console/practice/grooming-meeting",
        data={"csrf": token, "decision": "warn", "channel": "3018", "sign-meeting_request": "on"},
    ).text
    assert 'data-verdict="wrong"' in answer and 'data-passed="no"' in answer
    good = ref.post(
        "/console/practice/grooming-meeting",
        data={"csrf": token, "decision": "prepare_report", "channel": "pharos",
              "sign-meeting_request": "on", "sign-secrecy": "on"},
    ).text  # fmt: skip
    assert 'data-verdict="right"' in good and 'data-passed="yes"' in good
    assert "Feedback" in good  # no Accept-Language here: the page is in English
    assert _counts(console) == counts  # no case, signal, decision or audit entry
    assert _strip_times(ref.get("/console/queues").text) == _strip_times(before_queue)
    assert "✓" in ref.get("/console/practice").text
    admin = console.login("admin@vigie.test")
    progress = admin.get("/console/practice-progress").text
    row = re.search(r'data-progress="ref1@vigie.test">(.*?)</tr>', progress, re.S)
    assert row and 'data-passed="1"' in row.group(1)
    assert admin.get("/console/practice").status_code == 403  # admins follow, officers practise
    assert console.login("mod@vigie.test").get("/console/practice-progress").status_code == 403


def _strip_times(html: str) -> str:
    """The queue without its clocks and tokens (they move between two requests)."""
    html = re.sub(r"<time[^>]*>.*?</time>", "", html)
    html = re.sub(r'value="[^"]{20,}"', "", html)
    return re.sub(r"\d+ (min|h)\b[^<]*", "", html)
