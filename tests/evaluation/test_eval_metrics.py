import pytest

from vigie.evaluation.metrics import Outcome, breakdown, figures, penalty


def out(risky: bool, flag: int | None, first: int | None = 5, lang: str = "fr") -> Outcome:
    label = "grooming" if risky else "benign"
    return Outcome("c", lang, label, risky, flag is not None, first if risky else None, flag)


def test_confusion_figures() -> None:
    f = figures([out(True, 6), out(True, None), out(False, None), out(False, 2)])
    assert (f.tp, f.fn, f.tn, f.fp) == (1, 1, 1, 1)
    assert f.precision == 0.5 and f.recall == 0.5 and f.fpr == 0.5
    assert f.f_beta(0.5) == pytest.approx(0.5)


def test_delay_counts_early_flags_as_zero() -> None:
    f = figures([out(True, 3), out(True, 5), out(True, 9)])
    assert f.delays == [-2, 0, 4]
    assert f.median_delay == 0 and f.early == 1


def test_latency_penalty_shape() -> None:
    assert penalty(1) == pytest.approx(0.0)
    assert penalty(10) == pytest.approx(0.5)
    assert penalty(1000) == pytest.approx(1.0, abs=1e-6)
    f = figures([out(True, 5), out(False, None)])
    assert f.f_latency == pytest.approx(1.0)


def test_breakdown_groups() -> None:
    groups = breakdown([out(True, 5, lang="en"), out(False, None, lang="fr")])
    assert {"all", "lang=en", "lang=fr", "label=grooming", "label=benign"} <= set(groups)
    assert groups["lang=en"].recall == 1.0
