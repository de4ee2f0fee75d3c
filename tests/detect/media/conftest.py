"""Helpers for the known-imagery tests: the reference data in tests/data, generated images."""

from __future__ import annotations

from pathlib import Path

import pytest

from services import DATA


@pytest.fixture
def data_dir() -> Path:
    """The vendored ThreatExchange references; never skipped: they ship with the repository."""
    return DATA
