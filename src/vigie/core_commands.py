"""Foundation commands: db upgrade, platform add, serve, scan."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Attach the foundation commands to the ``vigie`` app."""
