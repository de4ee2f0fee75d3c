"""The ``vigie`` command line (contract: docs/api.md, "Command line").

Each room that adds commands exposes ``register(app)`` in a ``commands`` module listed in
``COMMAND_MODULES``; this file only wires them together.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Vigie child-safety tools.")

# One line per room that contributes commands.
COMMAND_MODULES: tuple[str, ...] = (
    "vigie.core_commands",
    "vigie.api.commands",
    "vigie.console.commands",
    "vigie.policy.commands",
    "vigie.media_commands",
    "vigie.bus.commands",
    "vigie.reports.commands",
    "vigie.evaluation.commands",
)


def _register_all() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


_register_all()

if __name__ == "__main__":  # pragma: no cover
    app()
