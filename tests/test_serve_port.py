"""Where ``vigie serve`` and ``make run`` listen, and what a newcomer sees when it is taken."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port on 127.0.0.1 that another program is listening on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield int(other.getsockname()[1])


def _serve(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("VIGIE_")}
    environ |= {
        "VIGIE_DATABASE_URL": f"sqlite:///{tmp_path}/serve.db",
        "VIGIE_CONFIG": str(tmp_path / "absent.toml"),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "vigie.cli", "serve", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_taken_port_is_said_in_one_line(tmp_path: Path, taken_port: int) -> None:
    done = _serve(tmp_path, "--host", "127.0.0.1", "--port", str(taken_port))
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        f"vigie serve: port {taken_port} on 127.0.0.1 is already in use "
        "(choose another: --port P, VIGIE_PORT=P, or make run PORT=P)"
    ]


def test_vigie_port_is_where_serve_listens(tmp_path: Path, taken_port: int) -> None:
    done = _serve(tmp_path, VIGIE_PORT=str(taken_port))
    assert done.returncode == 1
    assert f"port {taken_port} on 127.0.0.1 is already in use" in done.stderr


def _make_run_serve_line(args: list[str], env: dict[str, str]) -> str:
    """The ``vigie serve`` line ``make run`` would run (``make -n``: nothing is executed)."""
    if shutil.which("make") is None:
        pytest.skip("make not on the PATH")
    outer = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "PORT", "VIGIE_PORT", "VIGIE_HOST")
    environ = {k: v for k, v in os.environ.items() if k not in outer} | env
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", *args],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    (line,) = [x for x in done.stdout.splitlines() if "vigie serve" in x]
    return line


@pytest.mark.parametrize(
    ("args", "env", "port"),
    [([], {}, 8000), (["PORT=8123"], {}, 8123), ([], {"VIGIE_PORT": "8123"}, 8123)],
)
def test_make_run_serves_on_the_port_asked(args: list[str], env: dict[str, str], port: int) -> None:
    line = _make_run_serve_line(args, env)
    assert line.endswith(f"vigie serve --host 127.0.0.1 --port {port}")
