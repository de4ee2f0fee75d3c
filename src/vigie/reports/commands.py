"""Commands of the reports room: evidence export/verify, transparency, audit verify, retention, DSA.

Contract: docs/api.md ("Command line"). Every command that writes something for
an outside reader is audited with its actor (``--actor``, else ``VIGIE_ACTOR``, else
``cli:<login>``).
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from sqlalchemy.orm import Session

from vigie.settings import get_settings

if TYPE_CHECKING:
    from vigie.reports.evidence import PlatformIdentity

ActorOpt = typer.Option(None, "--actor", help="who runs this (audited); default VIGIE_ACTOR")


def _actor(value: str | None) -> str:
    if value:
        return value
    if os.environ.get("VIGIE_ACTOR"):
        return os.environ["VIGIE_ACTOR"]
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


@contextmanager
def _session() -> Iterator[Session]:
    from vigie.store.engine import make_engine

    engine = make_engine(get_settings().database_url)
    try:
        with Session(engine) as session:
            yield session
    finally:
        engine.dispose()


def evidence_export(
    case: str = typer.Argument(..., help="case id"),
    out: Path | None = typer.Option(None, "--out", help="folder; default var/outbox/CASE-TIME"),
    authority: str = typer.Option("generic", help="ncmec, pharos, pointdecontact, ofmin, generic"),
    keys_dir: Path | None = typer.Option(None, help="signing keys; default var/keys"),
    legal_entity: str | None = typer.Option(
        None, help="the platform's legal entity (default VIGIE_LEGAL_ENTITY)"
    ),
    requisition_contact: str | None = typer.Option(
        None, help="where requisitions go (default VIGIE_REQUISITION_CONTACT)"
    ),
    actor: str | None = ActorOpt,
) -> None:
    """Write a case's signed evidence package (PDF, case.json, manifest, signature)."""
    from vigie.reports.case_facts import CaseNotFound
    from vigie.reports.evidence import default_folder, export_case

    identity = _identity(legal_entity, requisition_contact, authority)
    now = datetime.now(UTC)
    folder = out or default_folder(case, now)
    with _session() as session:
        try:
            result = export_case(
                session,
                case,
                folder,
                actor=_actor(actor),
                authority=authority,
                keys_folder=keys_dir,
                now=now,
                evidence_key=get_settings().evidence_key,
                identity=identity,
            )
            session.commit()
        except (CaseNotFound, FileExistsError, ValueError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from exc
    typer.echo(f"package: {result.folder}")
    typer.echo(f"manifest-sha256: {result.manifest_sha256}")
    typer.echo(f"key-sha256: {result.key_fingerprint}")


def _identity(entity: str | None, contact: str | None, authority: str) -> PlatformIdentity | None:
    """The platform's identity; French authorities and requisitions cannot do without it."""
    from vigie.reports.evidence import PlatformIdentity

    entity = entity or os.environ.get("VIGIE_LEGAL_ENTITY")
    contact = contact or os.environ.get("VIGIE_REQUISITION_CONTACT")
    if entity and contact:
        return PlatformIdentity(entity, contact)
    if authority in ("pharos", "pointdecontact", "ofmin"):
        typer.echo(
            "error: give --legal-entity and --requisition-contact (or VIGIE_LEGAL_ENTITY, "
            "VIGIE_REQUISITION_CONTACT): the authority needs to know whom to ask",
            err=True,
        )
        raise typer.Exit(2)
    return None


def evidence_verify(
    folder: Path = typer.Argument(..., help="package folder"),
    key_sha256: str | None = typer.Option(None, help="expected signing key fingerprint"),
) -> None:
    """Exit 0 when the package is intact; otherwise name the changed file or bad signature."""
    from vigie.reports.evidence import VerifyError, verify_package

    try:
        manifest = verify_package(folder, expected_key_sha256=key_sha256)
    except VerifyError as exc:
        typer.echo(f"FAILED {exc}", err=True)
        raise typer.Exit(1) from exc
    sig = manifest.get("signature", {})
    key = sig.get("key_sha256") if isinstance(sig, dict) else None
    typer.echo(f"OK case {manifest.get('case')} signed by key {key}")


def evidence_decrypt(
    folder: Path = typer.Argument(..., help="package folder"),
    out: Path = typer.Option(..., "--out", help="where to write the readable files"),
) -> None:
    """Verify an encrypted package, then open it with VIGIE_EVIDENCE_KEY, to file it with the
    authority (a package that does not verify is not opened)."""
    from vigie.crypto import EvidenceCryptoError
    from vigie.reports.evidence import VerifyError, decrypt_package

    key = get_settings().evidence_key
    if not key:
        typer.echo("error: VIGIE_EVIDENCE_KEY is not set", err=True)
        raise typer.Exit(2)
    try:
        for path in decrypt_package(folder, out, key):
            typer.echo(str(path))
    except (EvidenceCryptoError, VerifyError) as exc:  # nothing opened from a bad package
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


def audit_verify() -> None:
    """Exit 0 when the audit chain is intact; otherwise name the first broken entry."""
    from vigie.reports.audit import verify_chain

    with _session() as session:
        broken = verify_chain(session)
    if broken is not None:
        typer.echo(f"BROKEN {broken}", err=True)
        raise typer.Exit(1)
    typer.echo("OK audit chain intact")


def transparency(
    start: str = typer.Option(..., "--from", help="first day, YYYY-MM-DD"),
    end: str = typer.Option(..., "--to", help="last day (included), YYYY-MM-DD"),
    out: Path = typer.Option(..., "--out", help="folder for the CSV files"),
    platform: str | None = typer.Option(None, "--platform", help="one platform id; default all"),
    provider: str | None = typer.Option(
        None, "--provider", help="the provider's legal name (default VIGIE_LEGAL_ENTITY)"
    ),
    actor: str | None = ActorOpt,
) -> None:
    """Write the transparency CSV files for a period, in the layout of the DSA templates."""
    from vigie.reports.transparency import Period, write_transparency

    try:
        period = Period.from_dates(date.fromisoformat(start), date.fromisoformat(end), platform)
    except ValueError as exc:
        typer.echo(f"error: dates are YYYY-MM-DD ({exc})", err=True)
        raise typer.Exit(2) from exc
    if period.end <= period.start:
        typer.echo("error: --to is before --from", err=True)
        raise typer.Exit(2)
    with _session() as session:
        paths = write_transparency(
            session,
            period,
            out,
            actor=_actor(actor),
            provider=provider or os.environ.get("VIGIE_LEGAL_ENTITY", ""),
        )
        session.commit()
    for path in paths:
        typer.echo(str(path))


def retention_run(
    dry_run: bool = typer.Option(False, "--dry-run", help="count, delete nothing"),
    actor: str | None = ActorOpt,
) -> None:
    """Put confirmed cases under legal hold, then purge what is past retention and not held."""
    from vigie.reports.evidence import DEFAULT_OUTBOX
    from vigie.reports.retention import (
        ReclaimBusy,
        hold_confirmed_cases,
        purge_expired,
        reclaim_space,
    )

    settings = get_settings().retention
    busy: ReclaimBusy | None = None
    reclaimed: list[str] = []
    with _session() as session:
        held = [] if dry_run else hold_confirmed_cases(session, settings, actor=_actor(actor))
        report = purge_expired(
            session, settings, actor=_actor(actor), dry_run=dry_run, outbox=DEFAULT_OUTBOX
        )
        session.commit()
        try:
            reclaimed = [] if dry_run else reclaim_space(session)
        except ReclaimBusy as exc:
            busy = exc
    if reclaimed:
        typer.echo(f"reclaimed: {', '.join(reclaimed)}")
    typer.echo(f"new holds: {len(held)}")
    for name, count in report.deleted.items():
        typer.echo(f"{'would delete' if dry_run else 'deleted'} {name}: {count}")
    if busy is not None:  # deleted, but old pages may stay readable in the log: say so, exit 1
        typer.echo(f"error: {busy}", err=True)
        raise typer.Exit(1)


def dsa_submit(
    url: str = typer.Option("https://transparency.dsa.ec.europa.eu", help="API base URL"),
    record_only: bool = typer.Option(False, help="create statements, send nothing"),
    actor: str | None = ActorOpt,
) -> None:
    """Create statements of reasons for new restrictions and send them (token: VIGIE_DSA_TOKEN)."""
    from vigie.reports.dsa import Grounds
    from vigie.reports.dsa_client import DsaClient, record_statements, submit_pending

    with _session() as session:
        rows = record_statements(session, Grounds())
        session.commit()
        typer.echo(f"new statements: {len(rows)}")
        if record_only:
            return
        token = os.environ.get("VIGIE_DSA_TOKEN")
        if not token:
            typer.echo("error: set VIGIE_DSA_TOKEN", err=True)
            raise typer.Exit(2)
        client = DsaClient(token, base_url=url)
        try:
            sent = submit_pending(session, client, actor=_actor(actor))
        finally:
            client.close()
    typer.echo(f"sent: {sent}")


def ncmec_prepare(
    case: str = typer.Argument(..., help="case id"),
    reporter_email: str = typer.Option(..., help="reportingPerson email NCMEC contacts"),
    service: str = typer.Option(..., help="product name (espService)"),
    game: str | None = typer.Option(None, help="game name: files an onlineGamingIncident"),
    console: str | None = typer.Option(None, help="gaming console, when known"),
    legal_url: str | None = typer.Option(None, help="where law enforcement sends legal process"),
    file: list[Path] = typer.Option([], "--file", help="a file to attach (repeat)"),
    actor: str | None = ActorOpt,
) -> None:
    """Prepare a case's CyberTipline report for a referent's approval (you are its author)."""
    from vigie.reports.case_facts import CaseNotFound, load_case_facts
    from vigie.reports.ncmec import Reporter, ReportValidationError
    from vigie.reports.ncmec_case import (
        AlreadyReported,
        ServiceInfo,
        file_from_bytes,
        prepare_case_report,
    )

    kind = "onlineGamingIncident" if game else "chatImIncident"
    reporter = Reporter(email=reporter_email, legal_url=legal_url)
    info = ServiceInfo(reporter, service, kind, game, console)
    try:
        with _session() as session:
            facts = load_case_facts(session, case)
            files = [file_from_bytes(p.name, p.read_bytes(), facts, str(p.resolve())) for p in file]
            draft = prepare_case_report(
                session, case, preparer=_actor(actor), service=info, files=files
            )
            digest = draft.details["content_sha256"]
            session.commit()
    except (CaseNotFound, ReportValidationError, AlreadyReported, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"prepared: case {case} by {_actor(actor)}, {len(files)} file(s)")
    typer.echo(f"content-sha256: {digest}")


def ncmec_send(
    case: str = typer.Argument(..., help="case id"),
    production: bool = typer.Option(False, help="send to production, not the test server"),
    url: str | None = typer.Option(None, help="override the API base URL"),
    actor: str | None = ActorOpt,
) -> None:
    """Send a case's prepared and approved report to NCMEC (VIGIE_NCMEC_USERNAME / _PASSWORD)."""
    from vigie.reports.approvals import FourEyesError
    from vigie.reports.ncmec import ReportValidationError
    from vigie.reports.ncmec_case import AlreadyReported, send_case_report
    from vigie.reports.ncmec_client import NcmecClient, NcmecError

    user, password = os.environ.get("VIGIE_NCMEC_USERNAME"), os.environ.get("VIGIE_NCMEC_PASSWORD")
    if not user or not password:
        typer.echo("error: set VIGIE_NCMEC_USERNAME and VIGIE_NCMEC_PASSWORD", err=True)
        raise typer.Exit(2)
    client = NcmecClient(user, password, production=production, base_url=url)
    try:
        with _session() as session:
            result = send_case_report(session, client, case, actor=_actor(actor))
    except (FourEyesError, ReportValidationError, NcmecError, AlreadyReported, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        client.close()
    note = " (NCMEC: already finished; recorded as filed)" if result.already_finished else ""
    typer.echo(f"report-id: {result.report_id} (approved by {result.approved_by}){note}")


def ncmec_resolve(
    case: str = typer.Argument(..., help="case id"),
    check: bool = typer.Option(False, "--check", help="ask NCMEC (repeats /finish)"),
    filed: str | None = typer.Option(None, "--filed", help="NCMEC has it: its report id"),
    not_filed: bool = typer.Option(False, "--not-filed", help="NCMEC does not have it"),
    reason: str = typer.Option("", help="how you checked (required by hand)"),
    production: bool = typer.Option(False, help="ask production, not the test server"),
    url: str | None = typer.Option(None, help="override the API base URL"),
    actor: str | None = ActorOpt,
) -> None:
    """Settle a report whose sending outcome is unknown (NCMEC's answer was lost): --check
    asks NCMEC; --filed ID or --not-filed records what you found out (with --reason)."""
    from vigie.reports.ncmec_case import resolve_unknown, unresolved
    from vigie.reports.ncmec_client import NcmecClient, NcmecError

    if [check, filed is not None, not_filed].count(True) != 1:
        typer.echo("error: give one of --check, --filed ID, --not-filed", err=True)
        raise typer.Exit(2)
    with _session() as session:
        row = unresolved(session, case)
        if row is None:
            typer.echo(f"error: case {case}: no report with an unknown outcome", err=True)
            raise typer.Exit(1)
        draft_id, report_id = row.id, row.external_id
    how, is_filed = "manual", filed is not None
    if check:
        if not report_id:
            typer.echo("error: no NCMEC report id is known: resolve by hand", err=True)
            raise typer.Exit(1)
        user = os.environ.get("VIGIE_NCMEC_USERNAME") or get_settings().reports.ncmec_username
        password = os.environ.get("VIGIE_NCMEC_PASSWORD") or get_settings().reports.ncmec_password
        if not user or not password:
            typer.echo("error: set VIGIE_NCMEC_USERNAME and VIGIE_NCMEC_PASSWORD", err=True)
            raise typer.Exit(2)
        client = NcmecClient(user, password, production=production, base_url=url)
        try:
            is_filed, how = client.confirm(report_id), "checked"
        except NcmecError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
        finally:
            client.close()
        reason = reason or "NCMEC answered /finish"
    with _session() as session:
        try:
            draft = resolve_unknown(
                session,
                draft_id,
                actor=_actor(actor),
                filed=is_filed,
                how=how,
                reason=reason,
                report_id=filed or report_id,
            )
            session.commit()
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
        if is_filed:
            typer.echo(f"filed: report {draft.external_id} ({how})")
        else:
            typer.echo(f"not filed ({how}): the approved report can be sent again")


def register(app: typer.Typer) -> None:
    """Attach the reports commands to the ``vigie`` app."""
    evidence = typer.Typer(no_args_is_help=True, help="Evidence packages for authorities.")
    evidence.command("export")(evidence_export)
    evidence.command("verify")(evidence_verify)
    evidence.command("decrypt")(evidence_decrypt)
    app.add_typer(evidence, name="evidence")
    audit = typer.Typer(no_args_is_help=True, help="The hash-chained audit trail.")
    audit.command("verify")(audit_verify)
    app.add_typer(audit, name="audit")
    app.command("transparency")(transparency)
    retention = typer.Typer(no_args_is_help=True, help="Legal holds and purge.")
    retention.command("run")(retention_run)
    app.add_typer(retention, name="retention")
    dsa = typer.Typer(no_args_is_help=True, help="DSA statements of reasons.")
    dsa.command("submit")(dsa_submit)
    app.add_typer(dsa, name="dsa")
    ncmec = typer.Typer(no_args_is_help=True, help="NCMEC CyberTipline reports.")
    ncmec.command("prepare")(ncmec_prepare)
    ncmec.command("send")(ncmec_send)
    ncmec.command("resolve")(ncmec_resolve)
    app.add_typer(ncmec, name="ncmec")
