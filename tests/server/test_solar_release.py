"""A solar release from its sums: a bin whose summed records are not its census's is not published; private
distributions are published, within their stated error, where their plants stand out from the noise."""

from __future__ import annotations

import math

import numpy as np
import pytest
from solar_releases import COHORT, private_solar_release

from protos.census import decide
from protos.codec import block_layouts
from protos.disclosure import cohort_atoms
from protos.fleetbench.v1 import spec_pb2
from protos.privacy import summed_noise_stddev
from protos.statistics import SOLAR_CELLS, BlockKey
from server.baselines import block_values
from server.solar import build_solar_release, implausible_irradiance_bins
from server.spec import solar_cohort, solar_spec

S = spec_pb2.Statistic
PR = S.PERFORMANCE_RATIO_HISTOGRAM
BIN = 16  # 825 W/m^2


def _sums(spec: spec_pb2.BenchmarkSpec, records: list[float], specific_power: float) -> tuple[dict, dict]:
    """Census and exact fixed-point value totals of plants with ``records`` each in BIN, at ``specific_power``."""
    n_atoms, bins = len(cohort_atoms(spec.cohorts)), spec.solar.irradiance_bins.count
    census_records, census_cells = np.zeros((3, n_atoms + 1, bins)), np.zeros((3, n_atoms + 1, len(SOLAR_CELLS)))
    for n in records:
        for row in (0, n_atoms):
            census_records[:, row, BIN] += (1.0, n, n * n)
            census_cells[:, row, :] += 1.0  # one plant (and here one inverter) in every cell
    census = {BlockKey("", S.IRRADIANCE_CENSUS): census_records, BlockKey("", S.SOLAR_CENSUS): census_cells}
    totals = {}
    for layout in block_layouts(spec):
        totals[layout.key] = np.zeros(layout.shape, dtype=object)
    count = sum(records)
    fixed = {
        S.IRRADIANCE_RECORD_COUNT: count,
        S.SUM_SPECIFIC_POWER: count * specific_power,
        S.SUM_SPECIFIC_POWER_SQUARED: count * specific_power**2,
        S.IRRADIANCE_BIN_CONTRIBUTOR: len(records),
    }
    for layout in block_layouts(spec):
        if layout.key.statistic in fixed:
            totals[layout.key][BIN] = round(fixed[layout.key.statistic] * 2**layout.scale_exponent)
    histogram = BlockKey("all", S.SPECIFIC_POWER_HISTOGRAM)
    totals[histogram][BIN, round(specific_power / 0.01)] = count
    return census, totals


def _curve_bin(release, centre: float):
    return next(cell for cell in release.solar_curves[0].bins if cell.irradiance_centre == centre)


def test_a_bin_whose_summed_records_differ_from_its_census_is_suppressed():
    """A site sends twice the records it counted in the census (to drag the bin's mean): the bin is withheld."""
    spec = solar_spec("s", "2024-06-01T00:00:00Z", "2024-07-01T00:00:00Z", [solar_cohort("all")])
    census, honest = _sums(spec, [100.0, 100.0, 100.0], 0.70)
    _, forged = _sums(spec, [100.0, 100.0, 100.0 * 2], 0.70)
    decision = decide(spec, census)
    centre = spec.solar.irradiance_bins.first_centre + BIN * spec.solar.irradiance_bins.width

    checked = implausible_irradiance_bins(spec, honest, census, decision)
    release = build_solar_release(spec, honest, block_values(spec, honest), checked, 3, "1", "test")
    assert _curve_bin(release, centre).record_count == 300
    assert _curve_bin(release, centre).mean_specific_power == 0.70

    checked = implausible_irradiance_bins(spec, forged, census, decision)
    cell = _curve_bin(build_solar_release(spec, forged, block_values(spec, forged), checked, 3, "1", "test"), centre)
    assert cell.suppressed and "differ from the census" in cell.suppression_reason
    assert not cell.HasField("record_count") and not cell.HasField("mean_specific_power")

    # Control: without the check the census's decision publishes the forged sums as they came.
    leaked = _curve_bin(build_solar_release(spec, forged, block_values(spec, forged), decision, 3, "1", "test"), centre)
    assert not leaked.suppressed and leaked.record_count == 400


def test_failure_rates_per_inverter_year_and_none_without_inverter_years():
    """Three plants' failures over their inverter-years; sums that bring no inverter-year publish no rate."""
    spec = solar_spec("s", "2024-06-01T00:00:00Z", "2024-07-01T00:00:00Z", [solar_cohort("all")])
    census, totals = _sums(spec, [100.0, 100.0, 100.0], 0.70)
    inverter = list(spec.solar.components).index("inverter")
    years = BlockKey("all", S.INVERTER_YEARS)
    scale = {layout.key: layout.scale_exponent for layout in block_layouts(spec)}
    failures = BlockKey("all", S.SOLAR_FAILURE_COUNT)
    totals[failures][inverter] = 6 * 2 ** scale[failures]  # fixed point
    totals[years][0] = round(1.5 * 2 ** scale[years])
    decision = decide(spec, census)
    release = build_solar_release(spec, totals, block_values(spec, totals), decision, 3, "1", "test")
    rate = next(r for r in release.solar_failure_rates if r.component == "inverter")
    assert not rate.suppressed and rate.failures == 6 and rate.failures_per_inverter_year == 4.0

    totals[years][0] = 0  # the census counted inverters; the values brought none of their years
    release = build_solar_release(spec, totals, block_values(spec, totals), decision, 3, "1", "test")
    assert all(r.suppressed and "no inverter-years" in r.suppression_reason for r in release.solar_failure_rates)


def test_a_private_performance_ratio_distribution_of_many_plants_is_published_within_its_stated_error():
    """2,000 plants at epsilon 10, half of it for the distributions: the noisy bars give the plants' percentiles.

    The P50 is within three of its stated standard deviations (and half a bar) of the plants' own, the
    denoised bars hold their number within a few noise widths, and no operator count or P25 is shown.
    """
    release, spec, performance_ratios, _ = private_solar_release(plants=2000, epsilon=10.0)
    (d,) = (d for d in release.distributions if d.indicator == "performance_ratio")
    assert not d.suppressed and d.counts_of == "plants"
    assert not d.HasField("operator_count") and not d.HasField("p25") and not d.HasField("p75")
    true_p10, true_p50, true_p90 = np.quantile(performance_ratios, [0.1, 0.5, 0.9])
    assert 0.0 < d.p50_noise_stddev < 0.01
    assert abs(d.p50 - true_p50) < 3 * d.p50_noise_stddev + d.bins.width / 2
    assert abs(d.p10 - true_p10) < 0.03 and abs(d.p90 - true_p90) < 0.03
    window = np.flatnonzero(d.counts)
    assert abs(sum(d.counts) - 2000) < 5 * d.count_noise_stddev * np.sqrt(len(window))
    assert d.count_noise_stddev == pytest.approx(summed_noise_stddev(spec, COHORT, 2000, PR))
    assert "At this noise a distribution shaped like a cohort's performance ratios" in release.privacy.note


def test_a_private_distribution_of_fewer_plants_than_its_noise_needs_is_withheld_from_the_census():
    """Twenty plants under noise of ~5 per bar: the census already says they cannot stand out; nothing is estimated."""
    release = private_solar_release(plants=20, epsilon=10.0).release
    (d,) = (d for d in release.distributions if d.indicator == "performance_ratio")
    assert d.suppressed and "fewer plants than it takes to stand out from the noise" in d.suppression_reason
    assert not d.counts and not d.HasField("p50") and not d.HasField("count_noise_stddev")


def test_a_private_distribution_too_spread_for_its_noise_is_withheld_with_the_noise_it_carries():
    """2,000 plants at epsilon 1, spread over most of the PR grid: enough plants, but no bar stands out."""
    release = private_solar_release(plants=2000, epsilon=1.0, spread=0.3).release
    (d,) = (d for d in release.distributions if d.indicator == "performance_ratio")
    assert d.suppressed and "do not stand out from the noise" in d.suppression_reason
    assert not d.counts and not d.HasField("p50") and d.count_noise_stddev > 30.0
    assert "11 of the 11 the census let through are withheld" in release.privacy.note  # the others: noise alone
    # The same plants about one PR (standard deviation 0.05) stand out from the same noise.
    narrow = private_solar_release(plants=2000, epsilon=1.0).release
    assert any(not d.suppressed and d.indicator == "performance_ratio" for d in narrow.distributions)


def test_a_private_spec_of_fewer_distributions_publishes_them_from_fewer_plants():
    """400 plants at epsilon 1: with every distribution the PR's noise withholds it; with the PR alone it stands out.

    The PR alone has sqrt(2) of the distributions' sqrt(22) sensitivity: the same share of the budget
    buys it about a third of the noise.
    """
    every = private_solar_release(plants=400, epsilon=1.0)
    alone = private_solar_release(plants=400, epsilon=1.0, distributions=("performance_ratio",))
    noise = {}
    for name, private in (("every", every), ("alone", alone)):
        (d,) = (d for d in private.release.distributions if d.indicator == "performance_ratio")
        noise[name] = summed_noise_stddev(private.spec, COHORT, 400, PR)
        assert d.suppressed == (name == "every")
    assert noise["alone"] == pytest.approx(noise["every"] / math.sqrt(11), rel=1e-6)
    assert {d.indicator for d in alone.release.distributions} == {"performance_ratio"}
    true_p50 = float(np.quantile(alone.performance_ratios, 0.5))
    (d,) = alone.release.distributions
    assert abs(d.p50 - true_p50) < 3 * d.p50_noise_stddev + d.bins.width / 2
