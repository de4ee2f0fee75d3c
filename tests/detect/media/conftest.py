"""Helpers for the known-imagery tests: the shared reference data, generated images."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from services import SHARED

DATA = SHARED / "data"


@pytest.fixture
def data_dir() -> Path:
    if not (DATA / "pdq" / "expected.csv").is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"reference data missing at {DATA}")
        pytest.skip(f"reference data missing at {DATA}")
    return DATA
