"""The deficit's shape against curves made by hand: shifted, scaled, held below rated, healthy."""

from __future__ import annotations

import numpy as np
import pytest

from client.curve_diagnosis import diagnose_curve

V = np.arange(0.5, 25.01, 0.5)


def _cohort(v: np.ndarray) -> np.ndarray:
    """A pitch-regulated curve: cubic from cut-in at 3 m/s to rated at 12 m/s."""
    return np.clip((v - 3.0) / 9.0, 0.0, 1.0) ** 2.2


def test_a_shifted_curve_is_a_shift_of_its_size():
    got = diagnose_curve(V, _cohort(V - 0.5), V, _cohort(V))
    assert got.shape == "shift" and got.shift_ms == pytest.approx(0.5, abs=0.011)
    assert "reads high" in got.hint and "anemometer" in got.hint


def test_a_scaled_curve_is_a_scale_of_its_size():
    got = diagnose_curve(V, 0.96 * _cohort(V), V, _cohort(V))
    assert got.shape == "scale" and got.scale == pytest.approx(0.96, abs=1e-9)
    assert got.hint.startswith("-4.0 % power") and "blades" in got.hint


def test_a_curve_held_below_rated_is_a_plateau():
    got = diagnose_curve(V, np.minimum(_cohort(V), 0.8), V, _cohort(V))
    assert got.shape == "plateau" and got.plateau_per_unit == pytest.approx(0.8)
    assert "derate" in got.hint


def test_a_curve_within_the_tolerances_has_no_shape_and_too_few_bins_none_to_tell():
    rng = np.random.default_rng(3)
    noisy = _cohort(V) * (1 + 0.005 * rng.standard_normal(len(V)))
    assert diagnose_curve(V, noisy, V, _cohort(V)).shape == "none"
    few = (V > 10) & (V < 12)
    assert diagnose_curve(V[few], _cohort(V[few]), V, _cohort(V)).shape == "unknown"
