"""``vigie eval FILE``: detection figures on a labelled conversation set, beside Sentinel."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from vigie.evaluation.metrics import Figures
from vigie.settings import get_settings

if TYPE_CHECKING:  # the harness loads the text model's code: only ``vigie eval`` pays for it
    from vigie.evaluation.harness import Report


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _table(title: str, groups: dict[str, Figures]) -> Table:
    table = Table(title=title)
    for col in ("group", "n", "risky", "benign", "precision", "recall", "FPR", "F0.5",
                "median delay", "early", "F latency"):  # fmt: skip
        table.add_column(col, justify="left" if col == "group" else "right")
    for name, f in groups.items():
        delay = "–" if f.median_delay is None else f"{f.median_delay:g}"
        table.add_row(name, str(f.n), str(f.positives), str(f.negatives), _pct(f.precision),
                      _pct(f.recall), _pct(f.fpr), _pct(f.f_beta(0.5)), delay, str(f.early),
                      _pct(f.f_latency))  # fmt: skip
    return table


def _as_json(report: Report) -> dict[str, object]:
    def one(groups: dict[str, Figures]) -> dict[str, object]:
        out: dict[str, object] = {}
        for name, f in groups.items():
            row = {k: v for k, v in asdict(f).items() if k != "delays"}
            row.update(precision=f.precision, recall=f.recall, fpr=f.fpr, f05=f.f_beta(0.5),
                       median_delay=f.median_delay, f_latency=f.f_latency)  # fmt: skip
            out[name] = row
        return out

    return {"model": report.model, "messages": report.messages, "vigie": one(report.vigie),
            "sentinel": one(report.sentinel),
            "sentinel_threshold": report.sentinel_threshold,
            "sentinel_model": report.sentinel_model}  # fmt: skip


def eval_command(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, help="labelled conversations"),
    threshold: float | None = typer.Option(None, help="flag threshold (default: settings)"),
    semantic: bool | None = typer.Option(None, "--semantic/--no-semantic", help="embedding stage"),
    sentinel: bool = typer.Option(True, "--sentinel/--no-sentinel", help="run the baseline"),
    sentinel_threshold: float | None = typer.Option(
        None, help="flag when skewness is above this (default: 0, Roblox's reading)"
    ),
    handles_are_accounts: bool = typer.Option(
        False, help="handles name one account across the file's conversations (Sentinel)"
    ),
    json_out: Path | None = typer.Option(None, "--json", help="also write the figures as JSON"),
) -> None:
    """Precision, recall, FPR, F0.5 and early-detection figures, beside Roblox Sentinel."""
    from vigie.evaluation.harness import evaluate

    settings = get_settings().detection.model_copy()
    if threshold is not None:
        settings.flag_threshold = threshold
    if semantic is not None:
        settings.semantic = semantic
    report = evaluate(file, settings, sentinel, sentinel_threshold,
                      handles_are_accounts=handles_are_accounts)  # fmt: skip
    console = Console(width=max(Console().width, 132))
    console.print(f"{file}: {report.vigie['all'].n} conversations, {report.messages} messages")
    console.print(_table(f"Vigie ({report.model}, threshold {settings.flag_threshold})",
                         report.vigie))  # fmt: skip
    if report.sentinel:
        title = (f"Roblox Sentinel baseline ({report.sentinel_model}, "
                 f"skewness > {report.sentinel_threshold:g})")  # fmt: skip
        console.print(_table(title, report.sentinel))
    console.print("median delay: messages from the first risky message to the flag (early "
                  "flags count 0); early: flags before it; F latency: F1 × speed "
                  "(Sadeque et al. 2018, as in Vogt et al. 2021).")  # fmt: skip
    if json_out is not None:
        json_out.write_text(json.dumps(_as_json(report), indent=2) + "\n", encoding="utf-8")


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_command)
