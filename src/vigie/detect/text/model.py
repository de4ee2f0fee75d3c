"""The shipped text model: its arrays, read from one ``.npz`` file, and NumPy inference.

``make train`` (``vigie.training``) writes the file with scikit-learn; serving needs only
NumPy and SciPy. No pickle: the file holds plain arrays and one JSON metadata string, so a
corrupt or foreign file is refused with a message, never executed.

Three parts, in the order they run:

1. **gate**: a logistic regression on character n-grams and pattern strengths that says
   whether a message may carry a warning sign. Only those messages are embedded by the
   sentence encoder (milliseconds, where the rest takes tens of microseconds).
2. **message heads**: one logistic regression per warning sign, plus one for "any sign",
   on n-grams, patterns and (when the gate let it through) the sentence embedding.
3. **conversation head**: a strongly regularised logistic regression on the sender's
   state and context (on the development writers it generalised better than boosted trees
   or a small network, which extrapolated badly on dense conversations), then Platt
   calibration (``cal_x`` the slope, ``cal_y`` the intercept, on its log-odds) fitted on
   the development writers: the probability that a trained moderator would want this
   conversation in review now.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

MODEL_FILE = "grooming-model.npz"
FORMAT = 1
_REQUIRED = (
    "gate_coef", "gate_bias", "msg_coef", "msg_bias", "conv_coef", "conv_bias", "cal_x", "cal_y",
)  # fmt: skip


class ModelError(RuntimeError):
    """The model file is missing, corrupt or from another format: Vigie cannot score text."""


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30.0, 30.0)))


@dataclass(slots=True)
class TextModel:
    """The arrays of one trained model and what they mean (``meta``)."""

    arrays: dict[str, np.ndarray]
    meta: dict[str, Any]
    sha256: str

    @property
    def version(self) -> str:
        return str(self.meta["version"])

    @property
    def signs(self) -> list[str]:
        return list(self.meta["signs"])

    @property
    def gate_threshold(self) -> float:
        return float(self.meta["gate_threshold"])

    @property
    def decay(self) -> float:
        """How much a sender's earlier warning signs fade per message (chosen on dev)."""
        return float(self.meta.get("decay_per_message", 0.97))

    @property
    def flag_p(self) -> float:
        return float(self.meta["flag_p"])

    @property
    def hold_p(self) -> float:
        return float(self.meta["hold_p"])

    def gate(self, ngrams: Any, patterns: np.ndarray) -> np.ndarray:
        """Probability that each message carries a warning sign, from the cheap features."""
        coef = self.arrays["gate_coef"]
        n = ngrams.shape[1]
        z = ngrams @ coef[:n] + patterns @ coef[n:] + self.arrays["gate_bias"]
        return sigmoid(np.asarray(z, dtype=np.float64).ravel())

    def message_probs(
        self, ngrams: Any, patterns: np.ndarray, embeddings: np.ndarray, embedded: np.ndarray
    ) -> np.ndarray:
        """Per-sign probabilities (columns: ``signs`` then "any"), one row per message."""
        w = self.arrays["msg_coef"]
        n, p, e = ngrams.shape[1], patterns.shape[1], embeddings.shape[1]
        z = np.asarray(ngrams @ w[:n], dtype=np.float64)
        z += patterns @ w[n : n + p] + embeddings @ w[n + p : n + p + e]
        z += embedded[:, None] * w[n + p + e] + self.arrays["msg_bias"]
        return sigmoid(z)

    def review_probability(self, x: np.ndarray) -> np.ndarray:
        """Calibrated probability of "a moderator would want this in review now" (Platt:
        monotone, so the head's ranking of conversations is kept)."""
        a = self.arrays
        raw = x @ a["conv_coef"] + a["conv_bias"][0]
        return sigmoid(a["cal_x"][0] * raw + a["cal_y"][0])

    def risk(self, p: float) -> float:
        """The risk scale policies read: the calibrated probability, rescaled (monotone,
        piecewise linear) so the development operating points land on the settings'
        defaults: ``flag_p`` on 0.5 and ``hold_p`` on 0.85."""
        return float(np.interp(p, [0.0, self.flag_p, self.hold_p, 1.0], [0.0, 0.5, 0.85, 1.0]))


def _check(arrays: dict[str, np.ndarray], meta: dict[str, Any], where: str) -> None:
    missing = [k for k in _REQUIRED if k not in arrays]
    if missing:
        raise ModelError(f"{where}: not a Vigie text model (missing {', '.join(missing)})")
    if meta.get("format") != FORMAT:
        raise ModelError(f"{where}: model format {meta.get('format')!r}, this Vigie reads {FORMAT}")
    k = len(meta["signs"]) + 1
    if arrays["msg_coef"].shape[1] != k or arrays["msg_bias"].shape != (k,):
        raise ModelError(f"{where}: message heads do not match the signs it lists")


def load_model(path: str | Path | None = None) -> TextModel:
    """Read and check a model file (default: the one shipped in the package)."""
    file = Path(path) if path else Path(str(resources.files("vigie.detect.text") / MODEL_FILE))
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise ModelError(f"text model {file}: cannot read it ({exc.strerror}); "
                         "run `make train` or reinstall Vigie") from exc  # fmt: skip
    try:
        import io

        with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
            arrays = {k: np.asarray(npz[k]) for k in npz.files}
        meta = json.loads(bytes(arrays.pop("meta")).decode("utf-8"))
    except Exception as exc:  # zipfile, ValueError, KeyError...: all mean "corrupt"
        raise ModelError(f"text model {file}: corrupt or not a model file ({exc})") from exc
    _check(arrays, meta, str(file))
    for key in ("gate_coef", "msg_coef"):
        arrays[key] = arrays[key].astype(np.float32)
    return TextModel(arrays, meta, hashlib.sha256(raw).hexdigest())


@lru_cache(maxsize=2)
def shipped_model(path: str | None = None) -> TextModel:
    """The model for this process, loaded once."""
    return load_model(path)


def save_model(path: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """Write a model file (training side); meta must be JSON-serialisable."""
    meta = {**meta, "format": FORMAT}
    blob = np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8)
    with path.open("wb") as fh:
        np.savez_compressed(fh, meta=blob, **arrays)  # type: ignore[arg-type]
