"""Reports from the console: the exact package previewed, approved by a second référent with a
confirmation bound to its content hash, then sent to NCMEC or handed over as a signed package,
and where it stands shown on the case (docs/console.md, "Reports").

Why sending outside the transaction: NCMEC may take seconds to answer (and retries take
longer); the claim is committed first (so a second sender finds the report taken), the call
is made holding no database lock, and its outcome is recorded in a transaction of its own.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from vigie.console import queries as q
from vigie.console.i18n import N_
from vigie.console.web import (
    SECURITY_HEADERS,
    Me,
    audit,
    checked_form,
    db,
    forbidden,
    now,
    render,
    see_other,
)
from vigie.reports import ncmec_case, outgoing
from vigie.reports.approvals import FourEyesError, approval_validity, approvals_for
from vigie.reports.evidence import PlatformIdentity, VerifyError
from vigie.reports.ncmec import ReportValidationError
from vigie.reports.ncmec_client import NcmecClient, NcmecError, NcmecOutcomeUnknown
from vigie.store.console_tables import CaseActionRow
from vigie.store.reports_tables import ReportSubmissionRow
from vigie.store.tables import CaseRow

router = APIRouter(include_in_schema=False)


def outgoing_config(request: Request) -> outgoing.Outgoing:
    """Where prepared reports go and who the platform is, from the settings."""
    settings = request.app.state.settings
    r = settings.reports
    identity = (
        PlatformIdentity(r.legal_entity, r.requisition_contact)
        if r.legal_entity and r.requisition_contact
        else None
    )
    return outgoing.Outgoing(
        outbox=Path(r.outbox_dir),
        keys_dir=Path(r.keys_dir) if r.keys_dir else None,
        evidence_key=settings.evidence_key,
        identity=identity,
        reporter_email=r.ncmec_reporter_email,
        service_name=r.ncmec_service,
        legal_url=r.ncmec_legal_url,
        game=r.ncmec_game,
    )


def _client(request: Request) -> NcmecClient | None:
    r = request.app.state.settings.reports
    if not r.ncmec_username or not r.ncmec_password:
        return None
    return NcmecClient(
        r.ncmec_username,
        r.ncmec_password,
        production=r.ncmec_production,
        base_url=r.ncmec_url,
        retries=r.ncmec_retries,
    )


def _url(action_id: int, **params: str) -> str:
    query = urlencode({k: v for k, v in params.items() if v})
    return f"/console/reports/{action_id}" + (f"?{query}" if query else "")


def _load(
    s: Session, action_id: int
) -> tuple[CaseActionRow, CaseRow, ReportSubmissionRow | None] | None:
    action = q.get_action(s, action_id)
    if action is None or action.kind != "prepare_report":
        return None
    case = q.get_case(s, action.case_id)
    if case is None:
        return None
    return action, case, outgoing.for_action(s, action.id, action.case_id)


def _policy_why(request: Request, rule: str) -> str:
    try:
        rules = request.app.state.pipeline.policy.document.rules
    except AttributeError:
        return ""
    return next((r.why for r in rules if r.name == rule), "")


@router.get("/console/reports/{action_id}")
def report_page(request: Request, action_id: int, me: Me) -> Response:
    """The report as it will leave: the package's PDF and JSON, the NCMEC XML, its content
    hash; and what can be done next (approve, send, download, resolve)."""
    if not me.can("evidence.view"):  # the package holds the conversation
        return forbidden(request, me, "evidence.view")
    key = request.app.state.settings.evidence_key
    with db(request) as s:
        loaded = _load(s, action_id)
        if loaded is None:
            return render(request, "missing.html", me, status_code=404, what=str(action_id))
        action, case, row = loaded
        state = outgoing.state(row, action.report_status)
        package_json = xml = xml_hash = xml_error = None
        if row is not None:
            try:
                package_json = outgoing.package_file(row, "case.json", key).decode("utf-8")
            except FileNotFoundError:
                package_json = None
            if row.authority == outgoing.NCMEC and row.status in ("prepared", "sending"):
                try:
                    body, xml_hash = outgoing.ncmec_xml(s, row)
                    xml = body.decode("utf-8")
                except (ReportValidationError, OSError) as exc:
                    xml_error = str(exc)
        audit(
            s,
            me,
            "report.preview",
            f"case:{case.id}",
            {
                "action_id": action_id,
                "authority": action.authority,
                "content_sha256": outgoing.content_hash(row) if row else None,
            },
            platform_id=case.platform_id,
        )
        validity = approval_validity(request.app.state.settings)
        approvals = approvals_for(s, case.id, action.authority or "", validity)
        digest = outgoing.content_hash(row) if row else ""
        expired = (
            row is not None
            and row.authority == outgoing.NCMEC
            and state in ("approved", "failed")
            and not any(
                a.content_sha256 == digest and (a.valid_until is None or a.valid_until > now())
                for a in approvals
            )
        )
    return render(
        request,
        "report.html",
        me,
        a=action,
        case=case,
        row=row,
        state=state,
        content_sha256=outgoing.content_hash(row) if row else "",
        package_json=package_json,
        has_pdf=row is not None and outgoing.package_folder(row) is not None,
        xml=xml,
        xml_hash=xml_hash,
        xml_error=xml_error,
        failure=outgoing.last_error(row),
        approvals=approvals,
        expired=expired,
        why=_policy_why(request, action.rule),
        ncmec_ready=_client_configured(request),
        error=request.query_params.get("error"),
        detail=request.query_params.get("detail"),
        done=request.query_params.get("done"),
    )


def _client_configured(request: Request) -> bool:
    r = request.app.state.settings.reports
    return bool(r.ncmec_username and r.ncmec_password)


@router.get("/console/reports/{action_id}/confirm")
def confirm_page(request: Request, action_id: int, me: Me) -> Response:
    """The approval's confirmation step is the preview itself (the form sits under it)."""
    if not me.can("report.approve"):
        return forbidden(request, me, "report.approve")
    return report_page(request, action_id, me)


@router.get("/console/reports/{action_id}/files/{name}")
def package_file(request: Request, action_id: int, name: str, me: Me) -> Response:
    """``case.pdf`` shown in the page (same-origin frame), or ``case.json``; audited."""
    if not me.can("evidence.view"):
        return forbidden(request, me, "evidence.view")
    with db(request) as s:
        loaded = _load(s, action_id)
        row = loaded[2] if loaded else None
        if loaded is None or row is None or name not in outgoing.PACKAGE_FILES:
            return render(request, "missing.html", me, status_code=404, what=name)
        try:
            data = outgoing.package_file(row, name, request.app.state.settings.evidence_key)
        except FileNotFoundError:
            return render(request, "missing.html", me, status_code=404, what=name)
        audit(
            s,
            me,
            "report.package.view",
            f"case:{row.case_id}",
            {"action_id": action_id, "file": name},
            platform_id=row.platform_id,
        )
    kind = "application/pdf" if name.endswith(".pdf") else "application/json"
    headers = {
        **SECURITY_HEADERS,
        # Only this console may frame it (the preview page); nothing else is allowed.
        "Content-Security-Policy": "default-src 'none'; frame-ancestors 'self'",
        "X-Frame-Options": "SAMEORIGIN",
        "Content-Disposition": f'inline; filename="{name}"',
    }
    return Response(data, media_type=kind, headers=headers)


@router.get("/console/reports/{action_id}/package.zip")
def package_zip(request: Request, action_id: int, me: Me) -> Response:
    """The signed package exactly as prepared and approved, to file with the authority."""
    if not me.can("report.send"):
        return forbidden(request, me, "report.send")
    with db(request) as s:
        loaded = _load(s, action_id)
        if loaded is None or loaded[2] is None:
            return render(request, "missing.html", me, status_code=404, what=str(action_id))
        action, case, row = loaded[0], loaded[1], loaded[2]
        if action.report_status != "approved" or row.status not in ("prepared", "finished"):
            return see_other(_url(action_id, error=N_("Only an approved report leaves Vigie.")))
        try:
            data = outgoing.package_zip(row)
        except (FileNotFoundError, VerifyError) as exc:
            return see_other(
                _url(action_id, error=N_("The package cannot be read."), detail=str(exc))
            )
        audit(
            s,
            me,
            "report.package.download",
            f"case:{case.id}",
            {
                "action_id": action_id,
                "authority": row.authority,
                "content_sha256": outgoing.content_hash(row),
            },
            platform_id=case.platform_id,
        )
    name = f"{case.id}-{row.authority}.zip"
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(data, media_type="application/zip", headers=headers)


@router.post("/console/reports/{action_id}/review")
async def review(request: Request, action_id: int, me: Me) -> Response:
    """Approve (second référent, confirmed, bound to the content hash read) or reject."""
    form = await checked_form(request, me)
    if not me.can("report.approve"):
        return forbidden(request, me, "report.approve")
    approve = form.get("verdict") == "approve"
    if approve and form.get("confirm") != "yes":  # approving takes a second, explicit step
        return see_other(f"/console/reports/{action_id}/confirm")
    with db(request) as s:
        action = q.get_action(s, action_id)
        if action is None or action.report_status != "pending":
            return see_other(_error("/console/reports", N_("This report is no longer pending.")))
        if action.actor == me.email:
            # Four eyes: the author of a report can never be its approver.
            audit(
                s,
                me,
                "report.self_approval_refused",
                f"case:{action.case_id}",
                {"action_id": action_id},
            )
            return see_other(
                _error(
                    "/console/reports",
                    N_("You prepared this report: another référent approves it."),
                )
            )
        row = outgoing.for_action(s, action.id, action.case_id)
        if approve:
            if row is None or row.status != "prepared":
                return see_other(
                    _url(action_id, error=N_("Nothing prepared to approve: prepare it again."))
                )
            if form.get("content_sha256") != outgoing.content_hash(row):
                audit(
                    s,
                    me,
                    "report.approval_mismatch",
                    f"case:{action.case_id}",
                    {
                        "action_id": action_id,
                        "read": form.get("content_sha256", "")[:64],
                        "prepared": outgoing.content_hash(row),
                    },
                    platform_id=action.platform_id,
                )
                return see_other(
                    _url(
                        action_id,
                        error=N_("The report changed since you read it: read it again."),
                    )
                )
        if not q.review_report(
            s, action, reviewer=me.email, role=me.role, approve=approve, now=now()
        ):
            return see_other(
                _error("/console/reports", N_("Someone already reviewed this report."))
            )
        if not approve:  # approvals are audited by record_approval ("report.approve")
            if row is not None:
                outgoing.reject(s, row)
            audit(
                s,
                me,
                "report.rejected",
                f"case:{action.case_id}",
                {"action_id": action_id, "author": action.actor, "authority": action.authority},
                platform_id=action.platform_id,
            )
    if approve:
        return see_other(_url(action_id, done="approved") + "#next")
    return see_other("/console/reports")


def _error(page: str, message: str) -> str:
    return f"{page}?error={quote(message)}"


@router.post("/console/reports/{action_id}/send")
async def send(request: Request, action_id: int, me: Me) -> Response:
    """Send an approved CyberTipline report (again, after a failure); the outcome is
    recorded on the report: sent with NCMEC's report id, failed with the reason, unknown."""
    await checked_form(request, me)
    if not me.can("report.send"):
        return forbidden(request, me, "report.send")
    client = _client(request)
    if client is None:
        return see_other(_url(action_id, error=N_("NCMEC is not configured on this Vigie.")))
    actor, settings = f"console:{me.email}", request.app.state.settings
    try:
        with db(request) as s:
            loaded = _load(s, action_id)
            row = loaded[2] if loaded else None
            if loaded is None or row is None or row.authority != outgoing.NCMEC:
                return see_other(_url(action_id, error=N_("This report is not sent to NCMEC.")))
            if loaded[0].report_status != "approved" or row.status != "prepared":
                return see_other(_url(action_id, error=N_("Only an approved report leaves Vigie.")))
            try:
                claimed = ncmec_case.claim_for_sending(
                    s, row.case_id, approval_valid_for=approval_validity(settings)
                )
            except (
                FourEyesError,
                ReportValidationError,
                ncmec_case.AlreadyReported,
                OSError,
            ) as exc:
                return see_other(
                    _url(action_id, error=N_("Vigie did not send the report."), detail=str(exc))
                )
            audit(
                s,
                me,
                "report.ncmec.sending",
                f"case:{row.case_id}",
                {"action_id": action_id, "content_sha256": claimed.prepared.content_sha256},
                platform_id=row.platform_id,
            )
        # The claim is committed: no one else sends it; NCMEC is called holding no lock.
        try:
            result = await run_in_threadpool(client.send, claimed.prepared)
        except NcmecOutcomeUnknown as exc:
            with db(request) as s:
                ncmec_case.record_unknown(s, claimed.draft_id, actor, exc, endpoint=client.base_url)
            return see_other(_url(action_id, done="unknown") + "#next")
        except Exception as exc:  # NCMEC refused, or could not be reached: the draft is free
            with db(request) as s:
                ncmec_case.record_failed(s, claimed.draft_id, actor, exc)
            return see_other(_url(action_id, done="failed") + "#next")
        with db(request) as s:
            ncmec_case.record_sent(
                s, claimed.draft_id, result, actor=actor, endpoint=client.base_url
            )
    finally:
        client.close()
    return see_other(_url(action_id, done="sent") + "#next")


@router.post("/console/reports/{action_id}/resolve")
async def resolve(request: Request, action_id: int, me: Me) -> Response:
    """A report whose answer was lost: ask NCMEC (``check``), or record what a person found
    out (``filed`` with NCMEC's report id, or ``not_filed``), with a reason; audited."""
    form = await checked_form(request, me)
    if not me.can("report.send"):
        return forbidden(request, me, "report.send")
    verdict, reason = form.get("verdict", ""), form.get("reason", "").strip()[:1000]
    actor = f"console:{me.email}"
    with db(request) as s:
        loaded = _load(s, action_id)
        row = loaded[2] if loaded else None
        if row is None or not ncmec_case.is_unresolved(row):
            return see_other(_url(action_id, error=N_("Nothing to resolve on this report.")))
        draft_id, report_id = row.id, row.external_id
        if verdict in ("filed", "not_filed"):
            try:
                ncmec_case.resolve_unknown(
                    s,
                    draft_id,
                    actor=actor,
                    how="manual",
                    filed=verdict == "filed",
                    reason=reason,
                    report_id=form.get("report_id") or report_id,
                )
            except ValueError as exc:
                return see_other(
                    _url(
                        action_id,
                        error=N_("Give NCMEC's report id and how you checked."),
                        detail=str(exc),
                    )
                )
            return see_other(_url(action_id, done="resolved") + "#next")
    if verdict != "check" or not report_id:
        return see_other(_url(action_id, error=N_("NCMEC cannot be asked without a report id.")))
    client = _client(request)
    if client is None:
        return see_other(_url(action_id, error=N_("NCMEC is not configured on this Vigie.")))
    try:
        filed = await run_in_threadpool(client.confirm, report_id)
    except (NcmecError, OSError) as exc:
        return see_other(_url(action_id, error=N_("NCMEC did not answer."), detail=str(exc)))
    finally:
        client.close()
    with db(request) as s:
        try:
            ncmec_case.resolve_unknown(
                s,
                draft_id,
                actor=actor,
                how="checked",
                filed=filed,
                reason="NCMEC answered /finish",
                report_id=report_id,
            )
        except ValueError as exc:  # resolved meanwhile by someone else
            return see_other(
                _url(action_id, error=N_("Nothing to resolve on this report."), detail=str(exc))
            )
    return see_other(_url(action_id, done="resolved") + "#next")


@router.post("/console/reports/{action_id}/filed")
async def filed(request: Request, action_id: int, me: Me) -> Response:
    """The package was filed with PHAROS, Point de Contact or OFMIN: its reference."""
    form = await checked_form(request, me)
    if not me.can("report.send"):
        return forbidden(request, me, "report.send")
    with db(request) as s:
        loaded = _load(s, action_id)
        if loaded is None or loaded[2] is None:
            return render(request, "missing.html", me, status_code=404, what=str(action_id))
        action, row = loaded[0], loaded[2]
        try:
            outgoing.mark_filed(
                s,
                row,
                actor=f"console:{me.email}",
                reference=form.get("reference", ""),
                approved=action.report_status == "approved",
            )
        except outgoing.ReportNotReady:
            return see_other(
                _url(action_id, error=N_("Give the reference the authority gave, once approved."))
            )
    return see_other(_url(action_id, done="filed") + "#next")
