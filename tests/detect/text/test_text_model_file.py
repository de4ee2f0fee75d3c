"""The text model file: the shipped one loads, and a broken one is a clear error."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from vigie.detect.text import features as ft
from vigie.detect.text.model import ModelError, load_model, save_model, shipped_model, sigmoid


def test_the_shipped_model_loads_and_names_its_signs() -> None:
    model = shipped_model()
    assert model.version.startswith("grooming-")
    assert model.signs == list(ft.SIGNS)
    assert len(model.sha256) == 64
    assert 0 < model.flag_p < model.hold_p < 1


def test_a_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="cannot read it"):
        load_model(tmp_path / "nope.npz")


def test_a_corrupt_model_is_a_clear_error(tmp_path: Path) -> None:
    shipped = Path(str(__import__("vigie.detect.text", fromlist=["x"]).__path__[0]))
    broken = tmp_path / "broken.npz"
    data = (shipped / "grooming-model.npz").read_bytes()
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="corrupt"):
        load_model(broken)


def test_a_foreign_npz_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.npz"
    np.savez(other, meta=np.frombuffer(b'{"format": 1}', dtype=np.uint8), x=np.zeros(3))
    with pytest.raises(ModelError, match="not a Vigie text model"):
        load_model(other)
    assert zipfile.is_zipfile(other)


def _tiny(tmp_path: Path) -> Path:
    rng = np.random.default_rng(1)
    signs = ["secrecy", "meeting_request"]
    n, p, e = 8, len(ft.SIGNS), 4
    arrays = {
        "gate_coef": rng.normal(size=n + p).astype(np.float16), "gate_bias": np.array([0.1]),
        "msg_coef": rng.normal(size=(n + p + e + 1, 3)).astype(np.float16),
        "msg_bias": rng.normal(size=3),
        "conv_coef": np.array([0.5, -1.0, 2.0]), "conv_bias": np.array([0.1]),
        "cal_x": np.array([1.3]), "cal_y": np.array([-0.4]),
    }  # fmt: skip
    meta = {"version": "grooming-test", "signs": signs, "gate_threshold": 0.5,
            "flag_p": 0.1, "hold_p": 0.4}  # fmt: skip
    path = tmp_path / "tiny.npz"
    save_model(path, arrays, meta)
    return path


def test_inference_is_the_arithmetic_the_arrays_describe(tmp_path: Path) -> None:
    model = load_model(_tiny(tmp_path))
    a = model.arrays
    ngrams = sparse.csr_matrix(np.array([[0, 1, 0, 0, 0.5, 0, 0, 0]], dtype=np.float32))
    pats = np.zeros((1, len(ft.SIGNS)), dtype=np.float32)
    pats[0, 3] = 0.8
    emb = np.array([[0.1, -0.2, 0.3, 0.0]], dtype=np.float32)
    dense = np.concatenate([ngrams.toarray()[0], pats[0], emb[0], [1.0]])
    expected = sigmoid(dense @ a["msg_coef"].astype(np.float64) + a["msg_bias"])
    got = model.message_probs(ngrams, pats, emb, np.array([1.0], dtype=np.float32))
    assert np.allclose(got[0], expected, atol=1e-6)
    x = np.array([[0.3, -1.0, 2.0], [0.3, -1.0, 0.5]])
    raw = x @ np.array([0.5, -1.0, 2.0]) + 0.1
    assert np.allclose(model.review_probability(x), sigmoid(1.3 * raw - 0.4))


def test_risk_rescaling_is_monotone_and_anchored(tmp_path: Path) -> None:
    model = load_model(_tiny(tmp_path))
    assert model.risk(model.flag_p) == pytest.approx(0.5)
    assert model.risk(model.hold_p) == pytest.approx(0.85)
    grid = [model.risk(p) for p in np.linspace(0, 1, 101)]
    assert grid == sorted(grid) and grid[0] == 0.0 and grid[-1] == 1.0
