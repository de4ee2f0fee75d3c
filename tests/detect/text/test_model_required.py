"""Without its text model Vigie cannot read chat: it says so at start and is never ready."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient


def test_readyz_is_503_when_the_model_file_is_missing(client: TestClient, tmp_path: Path) -> None:
    assert client.get("/readyz").status_code == 200
    settings = client.app.state.settings  # type: ignore[attr-defined]
    settings.detection.model_path = str(tmp_path / "missing.npz")
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert "text model" in answer.json()["reason"]


def test_serve_refuses_to_start_without_a_model(tmp_path: Path) -> None:
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a model")
    env = {**os.environ, "VIGIE_DETECTION__MODEL_PATH": str(broken),
           "VIGIE_DATABASE_URL": f"sqlite:///{tmp_path / 'v.db'}"}  # fmt: skip
    done = subprocess.run([sys.executable, "-m", "vigie.cli", "serve", "--port", "0"], env=env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "corrupt" in lines[0], done.stderr
