"""The corpus the text model learns from: valid, split by writer, real chat only from 0-7."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from vigie.training import corpus

ROOT = Path(__file__).resolve().parents[2]


def test_every_corpus_file_follows_the_format() -> None:
    files = sorted(str(p) for p in (ROOT / "data" / "corpus").glob("w*/*.jsonl"))
    assert files
    done = subprocess.run([sys.executable, str(ROOT / "data/corpus/validate.py"), *files],
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:]


def test_splits_are_by_writer_and_never_overlap() -> None:
    with (ROOT / "data/corpus/splits.toml").open("rb") as fh:
        writers = tomllib.load(fh)["writers"]
    assert {"train", "dev", "test"} <= set(writers.values())
    seen: dict[str, str] = {}
    for name in ("train", "dev", "test"):
        for conv in corpus.split(name):
            assert conv.raw["writer"] == conv.writer, conv.id
            assert seen.setdefault(conv.id, name) == name, conv.id
    assert (
        len({c.writer for c in corpus.split("test")} & {c.writer for c in corpus.split("train")})
        == 0
    )


def test_real_chat_reserved_for_outside_evaluation_is_refused(tmp_path: Path) -> None:
    (tmp_path / "splits.toml").write_text('[writers]\n[chitchat]\ntest = "8"\n')
    with pytest.raises(ValueError, match="reserved"):
        corpus.chitchat("test", corpus=tmp_path)
    with (ROOT / "data/corpus/splits.toml").open("rb") as fh:
        prefixes = "".join(tomllib.load(fh)["chitchat"].values())
    assert set(prefixes) <= corpus.OURS
