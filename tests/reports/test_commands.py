"""The CLI contract: exit codes and what is named on failure."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy import create_engine, update
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from vigie.reports.commands import register
from vigie.settings import get_settings
from vigie.store.tables import AuditRow, Base

from .conftest import add_case

runner = CliRunner()


@pytest.fixture()
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[typer.Typer]:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("VIGIE_DATABASE_URL", url)
    monkeypatch.setenv("VIGIE_KEYS_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("VIGIE_ACTOR", "tester@example.org")
    get_settings.cache_clear()
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        add_case(session)
    engine.dispose()
    app = typer.Typer()
    register(app)
    yield app
    get_settings.cache_clear()


def test_evidence_export_then_verify(
    cli: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "pkg"
    export = ["evidence", "export", "case-1", "--out", str(out), "--authority", "pharos"]
    refused = runner.invoke(cli, export)
    assert refused.exit_code == 2 and "--requisition-contact" in refused.output
    monkeypatch.setenv("VIGIE_LEGAL_ENTITY", "Demo Games SAS, RCS Paris 000 000 000")
    monkeypatch.setenv("VIGIE_REQUISITION_CONTACT", "requisitions@demo.example")
    result = runner.invoke(cli, export)
    assert result.exit_code == 0, result.output
    assert "manifest-sha256:" in result.output
    assert runner.invoke(cli, ["evidence", "verify", str(out)]).exit_code == 0
    (out / "case.pdf").write_bytes((out / "case.pdf").read_bytes() + b"%tampered")
    bad = runner.invoke(cli, ["evidence", "verify", str(out)])
    assert bad.exit_code != 0
    assert "case.pdf" in bad.output


def test_unknown_case(cli: typer.Typer, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["evidence", "export", "nope", "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and "nope" in result.output


def test_audit_verify(cli: typer.Typer, tmp_path: Path) -> None:
    for i in range(2):
        runner.invoke(cli, ["evidence", "export", "case-1", "--out", str(tmp_path / f"p{i}")])
    assert runner.invoke(cli, ["audit", "verify"]).exit_code == 0
    engine = create_engine(get_settings().database_url)
    with Session(engine) as session:
        session.execute(update(AuditRow).where(AuditRow.id == 1).values(actor="someone else"))
        session.commit()
    engine.dispose()
    result = runner.invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1
    assert "audit entry 1" in result.output


def test_transparency(cli: typer.Typer, tmp_path: Path) -> None:
    out = tmp_path / "t"
    result = runner.invoke(
        cli,
        [
            *("transparency", "--from", "2026-11-01", "--to", "2026-11-30"),
            *("--out", str(out), "--provider", "Demo Games SAS"),
        ],
    )
    assert result.exit_code == 0, result.output
    with (out / "summary.csv").open(newline="", encoding="utf-8") as fh:
        rows = {r["metric"]: r["value"] for r in csv.DictReader(fh)}
    assert rows["restrictions_total"] == "2"
    with (out / "identification.csv").open(newline="", encoding="utf-8") as fh:
        ident = {r["Field"]: r["Value"] for r in csv.DictReader(fh)}
    assert ident["Name of the provider"] == "Demo Games SAS"
    assert str(out / "own_initiative_terms_and_conditions.csv") in result.output
    bad = runner.invoke(
        cli, ["transparency", "--from", "2026-13-01", "--to", "2026-11-30", "--out", str(out)]
    )
    assert bad.exit_code == 2


def test_retention_dry_run(cli: typer.Typer) -> None:
    result = runner.invoke(cli, ["retention", "run", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would delete messages" in result.output


def test_ncmec_prepare_approve_send_once(
    cli: typer.Typer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from vigie.reports.approvals import record_approval

    from .ncmec_server import FakeNcmec

    monkeypatch.setenv("VIGIE_NCMEC_USERNAME", "esp")
    monkeypatch.setenv("VIGIE_NCMEC_PASSWORD", "secret")
    attachment = tmp_path / "media.bin"
    attachment.write_bytes(b"benign test bytes")
    prepare = [
        "ncmec",
        "prepare",
        "case-1",
        "--reporter-email",
        "safety@demo.example",
        "--service",
        "demo chat",
        "--legal-url",
        "https://demo.example/legal",
        "--file",
        str(attachment),
        "--actor",
        "mod@x",
    ]
    prepared = runner.invoke(cli, prepare)
    assert prepared.exit_code == 0, prepared.output
    assert "content-sha256:" in prepared.output and "1 file(s)" in prepared.output
    with FakeNcmec() as fake:
        send = ["ncmec", "send", "case-1", "--url", fake.url]
        refused = runner.invoke(cli, send)
        assert refused.exit_code == 1 and "referent" in refused.output
        assert fake.calls == []
        engine = create_engine(get_settings().database_url)
        with Session(engine) as session:
            record_approval(
                session,
                "case-1",
                authority="ncmec",
                author="mod@x",
                approver="ref@x",
                role="referent",
            )
            session.commit()
        engine.dispose()
        sent = runner.invoke(cli, send)
        assert sent.exit_code == 0, sent.output
        assert "report-id:" in sent.output and "ref@x" in sent.output
        assert fake.calls == ["/submit", "/upload", "/fileinfo", "/finish"]
        again = runner.invoke(cli, send)
        assert again.exit_code == 1 and "already has a CyberTipline report" in again.output
