"""Supply chain: every dependency pinned with hashes, and no known vulnerability in the pins.

The audit asks PyPI's vulnerability data (through pip-audit) about each pinned version. It
needs a service outside this machine: the package index CI reaches here serves packages but
not PyPI's per-version JSON (it answers 404), and OSV is not reachable. When the service does
not answer, the test is skipped with the reason shown in the summary, under CI too — it is
not one of the machine's own services, whose absence fails CI. ``make audit`` runs the same
check by hand wherever the service answers.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
import urllib.request
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)")
PROBE = "https://pypi.org/pypi/pip/24.0/json"  # a release PyPI will always describe


def _locked() -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) for each requirement of the lock file."""
    pins: dict[str, tuple[str, int]] = {}
    current: str | None = None
    for line in LOCK.read_text().splitlines():
        match = PIN.match(line)
        if match:
            current = canonicalize_name(match.group(1))
            pins[current] = (match.group(2), 0)
        elif not line.startswith(" "):  # a comment or blank line ends a requirement
            current = None
        if current:
            version, count = pins[current]
            pins[current] = (version, count + line.count("--hash=sha256:"))
    return pins


def _direct() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    # A requirement whose marker excludes this Python (ncmec-cybertip needs 3.13) is not
    # installed here, so the lock, compiled for this Python, cannot pin it.
    wanted = [Requirement(r) for r in declared]
    return {canonicalize_name(r.name) for r in wanted if r.marker is None or r.marker.evaluate()}


def test_every_dependency_is_pinned_with_hashes() -> None:
    assert LOCK.is_file(), "requirements.lock is missing: run `make lock`"
    pins = _locked()
    unhashed = sorted(name for name, (_, hashes) in pins.items() if hashes == 0)
    assert not unhashed, f"pinned without a hash: {unhashed}"
    missing = sorted(_direct() - set(pins))
    assert not missing, f"in pyproject.toml but not in requirements.lock: {missing}; `make lock`"


def _service_answers() -> str | None:
    try:
        with urllib.request.urlopen(PROBE, timeout=5) as answer:
            if "vulnerabilities" in json.loads(answer.read() or b"{}"):
                return None
            return "PyPI answered without vulnerability data"
    except (OSError, ValueError) as exc:
        return f"PyPI vulnerability data unreachable ({exc})"


def test_no_known_vulnerability_in_the_pins() -> None:
    reason = _service_answers()
    if reason:
        pytest.skip(reason)
    tool = shutil.which("pip-audit") or str(Path(sys.executable).parent / "pip-audit")
    run = subprocess.run(
        [tool, "-r", str(LOCK), "--disable-pip", "--progress-spinner", "off", "-f", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = json.loads(run.stdout or "{}")
    found = [
        f"{d['name']} {d['version']}: {v['id']} (fix: {', '.join(v['fix_versions']) or '-'})"
        for d in report.get("dependencies", [])
        for v in d.get("vulns", [])
    ]
    assert not found, "known vulnerabilities:\n" + "\n".join(found)
    audited = [d for d in report.get("dependencies", []) if "skip_reason" not in d]
    assert audited, f"pip-audit audited nothing: {run.stderr[-500:]}"
