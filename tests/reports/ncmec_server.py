"""A local CyberTipline Reporting API for tests: the documented protocol, in memory.

Basic authentication (a refusal is 401 with an empty body, as NCMEC answers); ``GET /status``;
``POST /submit`` (report XML → reportId); ``POST /upload`` (multipart ``id`` + ``file`` →
fileId and MD5); ``POST /fileinfo`` (fileDetails XML); ``POST /finish`` and ``POST /retract``
(form ``id``; 5102 once finished). Answers are XML with ``responseCode`` as NCMEC documents.

Why the reference: ``/submit`` and ``/fileinfo`` accept only what the ``ncmec-cybertip``
model of NCMEC's schema reads back identically (enumerations, nesting, order, lengths), and
answer 4100 naming the difference otherwise; this server was not written to agree with Vigie.
``fail_next[path] = n`` answers 503 n times first; ``lose_answer[path] = n`` does the work and
then drops the connection n times (a lost answer).
"""

from __future__ import annotations

import base64
import hashlib
import socket
import threading
import uuid
import xml.etree.ElementTree as ET
from email.parser import BytesParser
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import cast
from urllib.parse import parse_qs

from . import ncmec_reference as reference


class FakeNcmec:
    def __init__(self, username: str = "esp", password: str = "secret") -> None:
        self.auth = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self.reports: dict[str, dict] = {}
        self.calls: list[str] = []
        self.fail_next: dict[str, int] = {}
        self.lose_answer: dict[str, int] = {}
        self._next_id = 1000
        handler = type("Handler", (_Handler,), {"fake": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/ispws"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FakeNcmec:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def new_report(self, xml: ET.Element) -> str:
        self._next_id += 1
        rid = str(self._next_id)
        self.reports[rid] = {"xml": xml, "files": {}, "state": "open"}
        return rid


def _response(code: int, description: str, root: str = "reportResponse", **extra: object) -> bytes:
    node = ET.Element(root)
    ET.SubElement(node, "responseCode").text = str(code)
    ET.SubElement(node, "responseDescription").text = description
    for key, value in extra.items():
        if isinstance(value, list):
            files = ET.SubElement(node, key)
            for item in value:
                ET.SubElement(files, "fileId").text = item
        else:
            ET.SubElement(node, key).text = str(value)
    return ET.tostring(node, encoding="UTF-8", xml_declaration=True)


def check_report(body: bytes) -> str | None:
    """None when the reference model of NCMEC's schema reads the report back identically."""
    try:
        reference.check_report(body)
    except reference.ReferenceMismatch as exc:
        return str(exc)
    root = ET.fromstring(body)
    if not (root.findtext("reporter/reportingPerson/email") or "").strip():
        return "reporter/reportingPerson/email is required"
    return None


def check_file_details(body: bytes) -> str | None:
    try:
        reference.check_file_details(body)
    except reference.ReferenceMismatch as exc:
        return str(exc)
    return None


class _Handler(BaseHTTPRequestHandler):
    fake: FakeNcmec

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _guard(self, path: str) -> bool:
        self.fake.calls.append(path)
        if self.headers.get("Authorization") != self.fake.auth:
            self._send(401, b"")
            return False
        if self.fake.fail_next.get(path, 0) > 0:
            self.fake.fail_next[path] -= 1
            self._send(503, b"busy")
            return False
        return True

    def do_GET(self) -> None:
        path = self.path.removeprefix("/ispws")
        if self._guard(path):
            self._send(200, _response(0, "Success"))

    def do_POST(self) -> None:
        path = self.path.removeprefix("/ispws")
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if not self._guard(path):
            return
        route = {
            "/submit": self._submit,
            "/upload": self._upload,
            "/fileinfo": self._fileinfo,
            "/finish": self._finish,
            "/retract": self._retract,
        }.get(path)
        if route is None:
            self._send(404, _response(1210, "Resource not found"))
        else:
            route(body)

    def _submit(self, body: bytes) -> None:
        try:
            root = ET.fromstring(body)
        except ET.ParseError:
            return self._send(400, _response(4110, "Malformed XML submittal"))
        problem = check_report(body)
        if problem:
            return self._send(400, _response(4100, f"Validation failed: {problem}"))
        self._send(200, _response(0, "Success", reportId=self.fake.new_report(root)))

    def _report(self, rid: str | None) -> dict | None:
        return self.fake.reports.get(rid or "")

    def _upload(self, body: bytes) -> None:
        head = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
        message = BytesParser(policy=default_policy).parsebytes(head + body)
        fields = {
            part.get_param("name", header="content-disposition"): cast(
                bytes | None, part.get_payload(decode=True)
            )
            for part in message.iter_parts()
        }
        report = self._report((fields.get("id") or b"").decode())
        if report is None or report["state"] != "open":
            return self._send(404, _response(5001, "Report does not exist"))
        content = fields.get("file") or b""
        file_id = uuid.uuid4().hex
        report["files"][file_id] = {"md5": hashlib.md5(content).hexdigest(), "details": None}
        self._send(
            200,
            _response(
                0,
                "Success",
                reportId=(fields["id"] or b"").decode(),
                fileId=file_id,
                hash=report["files"][file_id]["md5"],
            ),
        )

    def _fileinfo(self, body: bytes) -> None:
        problem = check_file_details(body)
        if problem:
            return self._send(400, _response(4100, f"Validation failed: {problem}"))
        root = ET.fromstring(body)
        report = self._report(root.findtext("reportId"))
        if root.tag != "fileDetails" or report is None:
            return self._send(404, _response(5001, "Report does not exist"))
        file_id = root.findtext("fileId") or ""
        if file_id not in report["files"]:
            return self._send(404, _response(5002, "File does not exist"))
        report["files"][file_id]["details"] = root
        self._send(200, _response(0, "Success", reportId=root.findtext("reportId")))

    def _finish(self, body: bytes) -> None:
        rid = parse_qs(body.decode()).get("id", [""])[0]
        report = self._report(rid)
        if report is None:
            return self._send(404, _response(5001, "Report does not exist"))
        if report["state"] == "finished":
            answer = _response(5102, "Report already finished", "reportDoneResponse")
        else:
            report["state"] = "finished"
            answer = _response(
                0, "Success", "reportDoneResponse", reportId=rid, files=list(report["files"])
            )
        if not self._lose("/finish"):
            self._send(200, answer)

    def _lose(self, path: str) -> bool:
        """Drop the connection instead of answering (the work is done): a lost answer."""
        if self.fake.lose_answer.get(path, 0) <= 0:
            return False
        self.fake.lose_answer[path] -= 1
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)
        return True

    def _retract(self, body: bytes) -> None:
        rid = parse_qs(body.decode()).get("id", [""])[0]
        report = self._report(rid)
        if report is None:
            return self._send(404, _response(5001, "Report does not exist"))
        if report["state"] == "finished":
            return self._send(200, _response(5102, "Report already finished"))
        report["state"] = "retracted"
        self._send(200, _response(0, "Success", reportId=rid))
