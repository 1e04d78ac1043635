"""Round 2 against the pooled reference: models, indicator distributions and failures."""

from __future__ import annotations

import numpy as np
import pytest

from client.indicators import histogram_counts
from protos.codec import block_layouts, decode_limb_sums, limb_sums_from_weighted_mean
from server.baselines import block_values
from simulations.pooled import pooled_canonical_records, pooled_model_coefficients, pooled_performance_and_yaw


@pytest.fixture(scope="module")
def pooled(federated_run):
    return pooled_canonical_records(federated_run.site_configs, federated_run.spec)


def _round_two_values(run) -> dict[str, np.ndarray]:
    spec = run.release.indicator_spec
    outcome = run.indicator_outcome
    totals = decode_limb_sums(block_layouts(spec), limb_sums_from_weighted_mean(outcome.mean_arrays, outcome.n_sites))
    return block_values(spec, totals)


def test_federated_models_equal_the_pooled_fixed_effects_regression(federated_run, pooled):
    fits = [m for m in federated_run.release.models if not m.suppressed]
    assert {m.target for m in fits} == {"WTRM_GbxBrgTmp", "WGEN_GnBrgTmp"}
    for fit in fits:
        model = next(m for m in federated_run.spec.models if m.target == fit.target)
        reference = pooled_model_coefficients(pooled, federated_run.spec, fit.cohort, model)
        np.testing.assert_allclose(fit.coefficients, reference, rtol=1e-8, atol=1e-10)
        assert fit.residual_std > 0 and fit.record_count > 1000


def test_federated_distributions_equal_the_pooled_per_turbine_indicators(federated_run, pooled):
    spec = federated_run.release.indicator_spec
    values = _round_two_values(federated_run)
    released = {(d.cohort, d.indicator): d for d in federated_run.release.distributions}
    checked = 0
    for curve in federated_run.release.curves:
        if curve.suppressed or not curve.bins:
            continue
        reference = pooled_performance_and_yaw(pooled, spec, federated_run.release, curve.cohort)
        for indicator, grid, column in (
            ("PERFORMANCE_INDEX_HISTOGRAM", spec.indicators.performance_index_bins, "performance_index"),
            ("YAW_MISALIGNMENT_HISTOGRAM", spec.indicators.yaw_misalignment_bins, "yaw_misalignment"),
        ):
            expected = histogram_counts(reference[column].to_numpy(), grid.first_centre, grid.width, grid.count)
            np.testing.assert_array_equal(values[f"{curve.cohort}:{indicator}"], expected)
        distribution = released[curve.cohort, "performance_index"]
        if not distribution.suppressed:
            assert sum(distribution.counts) == len(reference)
            assert distribution.p10 <= distribution.p50 <= distribution.p90
            checked += 1
    assert checked >= 1
