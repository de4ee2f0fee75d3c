"""A client for the CyberTipline Reporting API: submit → upload → fileinfo → finish (or retract).

Base URLs: ``https://exttest.cybertip.org/ispws`` (test) and
``https://report.cybertip.org/ispws`` (production), HTTP Basic authentication, XML bodies and
answers (``reportResponse`` / ``reportDoneResponse`` with ``responseCode`` 0 on success).
Transient failures (429, 5xx, lost connections) are retried with exponential back-off, except
``/submit``: NCMEC's documentation asks not to resubmit, and a 5xx or a timeout may come after
the report was stored, so ``/submit`` is retried only when the connection was never made.
A lost ``/finish`` answer is recognised afterwards: NCMEC answers 5102 "already finished" to
the retraction, and the report counts as filed. ``send`` refuses anything without four-eyes
approval.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from vigie.reports.approvals import Approval, require_four_eyes
from vigie.reports.ncmec import (
    CyberTipReport,
    FileDetails,
    build_file_details_xml,
    build_report_xml,
)

TEST_URL = "https://exttest.cybertip.org/ispws"
PRODUCTION_URL = "https://report.cybertip.org/ispws"
ALREADY_RETRACTED, ALREADY_FINISHED = 5101, 5102
REPORT_NOT_FOUND = 5001
RETRY_STATUSES = {429, 500, 502, 503, 504}


def _code(root: ET.Element) -> int | None:
    text = (root.findtext("responseCode") or "").strip()
    return int(text) if text.lstrip("-").isdigit() else None


class NcmecError(Exception):
    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class NcmecOutcomeUnknown(NcmecError):
    """``/finish`` may have reached NCMEC and neither it nor ``/retract`` answered: the report
    may be filed. Never send it again before checking with NCMEC."""

    def __init__(self, report_id: str, cause: Exception) -> None:
        super().__init__(f"report {report_id}: /finish unanswered, retraction failed ({cause})")
        self.report_id = report_id


@dataclass(slots=True)
class ReportFile:
    """A file to attach: its bytes come from the platform at sending time, never from Vigie."""

    name: str
    content: bytes
    details: FileDetails
    source: str | None = None  # where the platform's file was read from (a path), if anywhere


@dataclass(slots=True)
class PreparedReport:
    report: CyberTipReport
    author: str
    approvals: list[Approval]
    files: list[ReportFile] = field(default_factory=list)
    # SHA-256 of this report and files; with it, only an approval of this content counts.
    content_sha256: str | None = None


@dataclass(slots=True)
class SendResult:
    report_id: str
    file_ids: list[str]
    approved_by: str
    # True when NCMEC said 5102 "already finished": filed, but its answer to /finish was lost.
    already_finished: bool = False


class NcmecClient:
    def __init__(
        self,
        username: str,
        password: str,
        *,
        production: bool = False,
        base_url: str | None = None,
        timeout: float = 30.0,
        retries: int = 4,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = (base_url or (PRODUCTION_URL if production else TEST_URL)).rstrip("/")
        self.http = httpx.Client(auth=(username, password), timeout=timeout, transport=transport)
        self.retries, self.backoff, self.sleep = retries, backoff, sleep

    def close(self) -> None:
        self.http.close()

    def _post(
        self, path: str, *, safe_to_repeat: bool = True, method: str = "POST", **kwargs: object
    ) -> ET.Element:
        url = f"{self.base_url}{path}"
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self.http.request(method, url, **kwargs)  # type: ignore[arg-type]
            except (httpx.ConnectError, httpx.ConnectTimeout):
                if last:
                    raise
            except httpx.TransportError:
                if last or not safe_to_repeat:
                    raise
            else:
                if response.status_code not in RETRY_STATUSES or last or not safe_to_repeat:
                    return self._parse(path, response)
            self.sleep(self.backoff * 2**attempt)
        raise AssertionError("unreachable")

    @staticmethod
    def _parse(path: str, response: httpx.Response) -> ET.Element:
        if response.status_code == 401:  # NCMEC answers 401 with an empty body
            raise NcmecError(f"{path}: HTTP 401, credentials refused", 401)
        try:
            root = ET.fromstring(response.content)
        except ET.ParseError as exc:
            raise NcmecError(f"{path}: HTTP {response.status_code}, not XML") from exc
        code = _code(root)
        if code is None:
            raise NcmecError(f"{path}: HTTP {response.status_code}, no responseCode")
        if code not in (0, ALREADY_FINISHED, ALREADY_RETRACTED):
            text = root.findtext("responseDescription") or "error"
            raise NcmecError(f"{path}: {code} {text}", code)
        return root

    def status(self) -> ET.Element:
        return self._post("/status", method="GET")

    def submit(self, report: CyberTipReport) -> str:
        body = build_report_xml(report)
        root = self._post(
            "/submit",
            safe_to_repeat=False,
            content=body,
            headers={"Content-Type": "text/xml; charset=utf-8"},
        )
        report_id = (root.findtext("reportId") or "").strip()
        if not report_id:
            raise NcmecError("/submit: no reportId in the answer")
        return report_id

    def upload(self, report_id: str, name: str, content: bytes) -> str:
        root = self._post("/upload", data={"id": report_id}, files={"file": (name, content)})
        file_id = (root.findtext("fileId") or "").strip()
        if not file_id:
            raise NcmecError("/upload: no fileId in the answer")
        return file_id

    def file_info(self, report_id: str, file_id: str, details: FileDetails) -> None:
        self._post(
            "/fileinfo",
            content=build_file_details_xml(report_id, file_id, details),
            headers={"Content-Type": "text/xml; charset=utf-8"},
        )

    def finish(self, report_id: str) -> tuple[list[str], bool]:
        """The file ids NCMEC kept, and whether it said the report was already finished.

        A retracted report cannot be finished: NcmecError with code 5101."""
        root = self._post("/finish", data={"id": report_id})
        if _code(root) == ALREADY_RETRACTED:
            raise NcmecError(f"/finish: report {report_id} was retracted", ALREADY_RETRACTED)
        ids = [(e.text or "").strip() for e in root.iter("fileId")]
        return ids, _code(root) == ALREADY_FINISHED

    def confirm(self, report_id: str) -> bool:
        """Whether a report whose outcome was lost is filed, asked the only way the API allows.

        The API has no lookup of a report, so this repeats ``/finish``, which is safe here:
        the outcome is unknown only once every file was uploaded and described, so finishing
        completes exactly the report that was approved. 0 (finished now) and 5102 (already
        finished): filed. 5101 (retracted, the retraction's answer was lost) and 5001 (no such
        report): not filed, and the report may be sent again. Anything else raises."""
        try:
            self.finish(report_id)
        except NcmecError as exc:
            if exc.code in (ALREADY_RETRACTED, REPORT_NOT_FOUND):
                return False
            raise
        return True

    def retract(self, report_id: str) -> int:
        """0 when retracted; ALREADY_FINISHED (5102) when the report was in fact filed."""
        return _code(self._post("/retract", data={"id": report_id})) or 0

    @staticmethod
    def check(prepared: PreparedReport) -> Approval:
        """Four eyes and validation of everything, before anything leaves."""
        approval = require_four_eyes(prepared.author, prepared.approvals, prepared.content_sha256)
        build_report_xml(prepared.report)
        for item in prepared.files:
            build_file_details_xml("0", "0", item.details)
        return approval

    def send(self, prepared: PreparedReport) -> SendResult:
        """The whole flow; a failure after ``/submit`` retracts the half-made report."""
        approval = self.check(prepared)
        report_id = self.submit(prepared.report)
        file_ids: list[str] = []
        finishing = False
        try:
            for item in prepared.files:
                file_id = self.upload(report_id, item.name, item.content)
                self.file_info(report_id, file_id, item.details)
                file_ids.append(file_id)
            finishing = True
            kept, already = self.finish(report_id)
        except Exception as exc:
            outcome = self._retract(report_id)
            if outcome == ALREADY_FINISHED:
                return SendResult(report_id, file_ids, approval.approver, already_finished=True)
            if outcome is None and finishing:
                raise NcmecOutcomeUnknown(report_id, exc) from exc
            raise
        return SendResult(report_id, kept or file_ids, approval.approver, already)

    def _retract(self, report_id: str) -> int | None:
        """Retract a half-made report: its answer code, None when there was no answer."""
        try:
            return self.retract(report_id)
        except NcmecError as exc:
            return exc.code
        except httpx.HTTPError:
            return None
