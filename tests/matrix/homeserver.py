"""A real Synapse homeserver for tests: SQLite, loopback only, a generated configuration.

Synapse lives in a virtualenv of its own (``make synapse`` builds ``.venv-synapse``; its pins
are not Vigie's). Without it the Matrix tests skip with the reason, and fail under
``CI=true`` like the other services. Rate limits are raised: Synapse's defaults (a few
messages a second, a few registrations a minute) would make a test crawl.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import secrets
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER_NAME = "localhost"
NOTICES = "vigie-safety"
FAST = {"per_second": 1000, "burst_count": 1000}


def synapse_python() -> str:
    """The Python that has Synapse and synapse-http-antispam; skip (fail in CI) without it."""
    python = os.environ.get("VIGIE_SYNAPSE_PYTHON") or str(ROOT / ".venv-synapse/bin/python")
    check = [python, "-c", "import synapse.app.homeserver, synapse_http_antispam"]
    if Path(python).exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    reason = f"Synapse not installed at {python} (make synapse)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI requires it", pytrace=False)
    pytest.skip(reason)


def config(folder: Path, port: int, antispam: dict[str, Any], shared_secret: str) -> dict[str, Any]:
    """homeserver.yaml's content (JSON is YAML)."""
    return {
        "server_name": SERVER_NAME,
        "public_baseurl": f"http://127.0.0.1:{port}/",
        "pid_file": str(folder / "homeserver.pid"),
        "listeners": [
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        "database": {"name": "sqlite3", "args": {"database": str(folder / "homeserver.db")}},
        "log_config": str(folder / "log.json"),
        "media_store_path": str(folder / "media"),
        "signing_key_path": str(folder / "signing.key"),
        "trusted_key_servers": [],
        "suppress_key_server_warning": True,
        "report_stats": False,
        "enable_metrics": False,
        "url_preview_enabled": False,
        "registration_shared_secret": shared_secret,
        "macaroon_secret_key": secrets.token_hex(16),
        "form_secret": secrets.token_hex(16),
        "server_notices": {
            "system_mxid_localpart": NOTICES,
            "system_mxid_display_name": "Safety",
            "room_name": "Safety notices",
            "auto_join": True,
        },
        "rc_message": FAST,
        "rc_registration": FAST,
        "rc_login": {"address": FAST, "account": FAST, "failed_attempts": FAST},
        "rc_joins": {"local": FAST, "remote": FAST},
        "rc_invites": {"per_room": FAST, "per_user": FAST, "per_issuer": FAST},
        "rc_admin_redaction": FAST,
        "modules": [{"module": "synapse_http_antispam.HTTPAntispam", "config": antispam}],
    }


def _log_config(folder: Path) -> dict[str, Any]:
    return {
        "version": 1,
        "formatters": {"plain": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}},
        "handlers": {
            "file": {
                "class": "logging.FileHandler",
                "filename": str(folder / "homeserver.log"),
                "formatter": "plain",
            }
        },
        "root": {"level": "INFO", "handlers": ["file"]},
        "disable_existing_loggers": False,
    }


@dataclass
class Homeserver:
    url: str
    shared_secret: str
    folder: Path

    def register(self, name: str, admin: bool = False) -> tuple[str, str]:
        """A new account by the shared-secret admin API: (user id, access token)."""
        nonce = _json("GET", f"{self.url}/_synapse/admin/v1/register")["nonce"]
        password = secrets.token_hex(12)
        message = b"\x00".join(
            [nonce.encode(), name.encode(), password.encode(), b"admin" if admin else b"notadmin"]
        )
        mac = hmac.new(self.shared_secret.encode(), message, hashlib.sha1).hexdigest()
        body = {"nonce": nonce, "username": name, "password": password, "admin": admin, "mac": mac}
        answer = _json("POST", f"{self.url}/_synapse/admin/v1/register", body)
        return str(answer["user_id"]), str(answer["access_token"])

    def log_tail(self, lines: int = 40) -> str:
        text = (self.folder / "homeserver.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def _json(method: str, url: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return dict(json.load(answer))


@contextlib.contextmanager
def homeserver(folder: Path, port: int, antispam: dict[str, Any]) -> Iterator[Homeserver]:
    """Synapse on 127.0.0.1:``port``, its spam checks sent as ``antispam`` configures."""
    python = synapse_python()
    folder.mkdir(parents=True, exist_ok=True)
    shared = secrets.token_hex(16)
    path = folder / "homeserver.yaml"
    path.write_text(json.dumps(config(folder, port, antispam, shared), indent=1))
    (folder / "log.json").write_text(json.dumps(_log_config(folder)))
    app = [python, "-m", "synapse.app.homeserver", "-c", str(path)]
    subprocess.run([*app, "--generate-keys"], check=True, capture_output=True, cwd=folder)
    process = subprocess.Popen(app, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = Homeserver(f"http://127.0.0.1:{port}", shared, folder)
    try:
        _wait_healthy(server.url, process)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_healthy(url: str, process: subprocess.Popen[bytes], wait_s: float = 60) -> None:
    deadline = time.time() + wait_s
    while True:
        try:
            urllib.request.urlopen(f"{url}/health", timeout=2)
            return
        except OSError:
            if process.poll() is not None:
                err = process.stderr.read().decode(errors="replace") if process.stderr else ""
                raise AssertionError(f"Synapse exited: {err[-2000:]}") from None
            assert time.time() < deadline, "Synapse not healthy in time"
            time.sleep(0.2)
