"""``make eval``: the shipped model on a held-out split, logged in the evaluation log.

Scores the writers of one split (``data/corpus/splits.toml``) and the matching half of the
real chat (ages unknown, and again as two teenagers) with the shipped model, prints the
figures beside the Sentinel baseline, and appends them to ``docs/evaluation-log.md`` with
the date, the commit and the model's version and digest.

The test split is scored once per model version: a second look is refused unless
``--again`` says why (and is logged as such). Once anything changes because of a test
split, that split becomes training data and a new writer produces a fresh one.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from vigie.evaluation.harness import Report, evaluate
from vigie.evaluation.metrics import Figures
from vigie.settings import DetectionSettings
from vigie.training.corpus import ROOT, Conversation, as_peers, chitchat, split

LOG = ROOT / "docs" / "evaluation-log.md"
WORK = ROOT / "var" / "eval"


@dataclass(slots=True)
class Look:
    """One scored set: its name and the report."""

    name: str
    report: Report


def _write(path: Path, convs: list[Conversation]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for conv in convs:
            fh.write(json.dumps(conv.raw, ensure_ascii=False) + "\n")
    return path


def _commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, check=True,
                             capture_output=True, text=True)  # fmt: skip
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()  # fmt: skip
        return out.stdout.strip() + (" (src modified)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v:.3f}"


def _row(name: str, f: Figures) -> str:
    delay = "–" if f.median_delay is None else f"{f.median_delay:g}"
    return (f"| {name} | {f.n} | {f.positives} | {f.negatives} | {_pct(f.precision)} | "
            f"{_pct(f.recall)} | {_pct(f.fpr)} | {delay} |")  # fmt: skip


HEADER = ("| set | n | risky | benign | precision | recall | FPR | median delay |\n"
          "|---|---:|---:|---:|---:|---:|---:|---:|")  # fmt: skip


def _groups(look: Look) -> list[str]:
    rows = []
    for key, f in look.report.vigie.items():
        if key == "all" or key.startswith(("lang=", "label=")):
            rows.append(_row(f"{look.name} {key}", f))
    return rows


def _entry(split_name: str, looks: list[Look], model: str, note: str) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"## {when} — {split_name} — {model}", "", f"Commit {_commit()}. {note}".strip(),
             "", "Vigie:", "", HEADER]  # fmt: skip
    for look in looks:
        lines += _groups(look)
    sentinel = [lk for lk in looks if lk.report.sentinel]
    if sentinel:
        lines += ["", "Sentinel baseline (`vigie.evaluation.sentinel`):", "", HEADER]
        for look in sentinel:
            f = look.report.sentinel["all"]
            lines.append(_row(f"{look.name} (threshold {look.report.sentinel_threshold})", f))
    return "\n".join(lines) + "\n\n"


def already_looked(split_name: str, model: str) -> bool:
    if not LOG.exists():
        return False
    text = LOG.read_text(encoding="utf-8")
    return f"— {split_name} — {model}" in text


def run(split_name: str, settings: DetectionSettings, sentinel: bool) -> list[Look]:
    writers = split(split_name)
    real = chitchat(split_name)
    files = {
        f"writers ({split_name})": _write(WORK / f"{split_name}-writers.jsonl", writers),
        "real chat, ages unknown": _write(WORK / f"{split_name}-chitchat.jsonl", real),
        "real chat, as peers 14/15": _write(WORK / f"{split_name}-chitchat-peers.jsonl",
                                             [as_peers(c) for c in real]),
    }  # fmt: skip
    if not real:  # the "check" writers come without real chat
        files = dict(list(files.items())[:1])
    looks = []
    for name, path in files.items():
        report = evaluate(path, settings, sentinel and name.startswith("writers"),
                          sentinel_threshold=None)  # fmt: skip
        looks.append(Look(name, report))
        f = report.vigie["all"]
        print(f"{name}: recall {_pct(f.recall)}, FPR {_pct(f.fpr)}, delay {f.median_delay}")
    return looks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Score a held-out split and log it.")
    parser.add_argument("--split", default="test", choices=["dev", "check", "test"])
    parser.add_argument("--again", metavar="WHY", help="a second look at a test split, and why")
    parser.add_argument("--no-log", action="store_true", help="print only (dev split only)")
    parser.add_argument("--no-sentinel", action="store_true")
    parser.add_argument("--model", help="a model file other than the shipped one")
    args = parser.parse_args(argv)
    from vigie.detect.text.model import shipped_model

    model = shipped_model(args.model)
    tag = f"{model.version} (sha256 {model.sha256[:12]})"
    if args.split == "test" and already_looked("test", tag) and not args.again:
        print(f"the test split was already scored with {tag}: see {LOG}.\n"
              "Score it again only with --again 'why'; it is logged as a second look.")  # fmt: skip
        return 2
    if args.no_log and args.split == "test":
        print("every look at the test split is logged")
        return 2
    looks = run(args.split, DetectionSettings(model_path=args.model), not args.no_sentinel)
    note = f"Second look: {args.again}." if args.again else ""
    if args.split == "test" and not args.again:
        note = "First look at this split with this model."
    if not args.no_log:
        with LOG.open("a", encoding="utf-8") as fh:
            fh.write(_entry(args.split, looks, tag, note))
        print(f"appended to {LOG.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
