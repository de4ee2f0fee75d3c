"""``vigie eval`` end to end on a tiny labelled set (no embeddings, no baseline: fast).

The risky conversation has two messages of warning signs: the model (tuned to flag at most
2 % of the dev writers' hard negatives) waits for more than one message of an adult asking
a child to move to Snapchat and keep it secret before it asks for a review."""

import json
from pathlib import Path

from typer.testing import CliRunner

from vigie.cli import app

CONVS = [
    {"id": "g", "lang": "fr", "label": "grooming", "first_risk_index": 2,
     "participants": {"a": {"age": 35}, "b": {"age": 12}},
     "messages": [{"from": "a", "text": "salut"}, {"from": "b", "text": "slt"},
                  {"from": "a", "text": "ajoute moi sur snap et dis rien à tes parents"},
                  {"from": "a", "text": "envoie moi une photo de toi"}]},
    {"id": "n", "lang": "en", "label": "benign", "first_risk_index": None, "kind": "family",
     "participants": {"a": {"age": 40}, "b": {"age": 11}},
     "messages": [{"from": "a", "text": "did you finish your homework?"},
                  {"from": "b", "text": "yes"}]},
]  # fmt: skip


def test_eval_prints_figures_and_writes_json(tmp_path: Path) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in CONVS) + "\n", encoding="utf-8")
    out = tmp_path / "fig.json"
    result = CliRunner().invoke(
        app, ["eval", str(path), "--no-semantic", "--no-sentinel", "--json", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "recall" in result.output and "lang=fr" in result.output
    figures = json.loads(out.read_text())
    assert figures["vigie"]["all"]["recall"] == 1.0
    assert figures["vigie"]["all"]["fpr"] == 0.0
    assert figures["vigie"]["kind=family"]["fp"] == 0
