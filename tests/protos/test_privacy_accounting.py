"""Privacy accounting: the calibration both ends share, against closed forms."""

from __future__ import annotations

import math

import pytest

from protos.fleetbench.v1 import spec_pb2
from protos.privacy import (
    PLANT_DISTRIBUTION_STATISTICS,
    block_rho,
    capped_histogram_l2_sensitivity,
    composed_epsilon,
    min_private_participants,
    noised_distributions,
    private_downtime,
    private_failure_rates,
    rho_for_epsilon,
    site_noise_stddev,
    spec_rho,
)
from server.spec import PrivacySettings, power_curve_spec, solar_cohort, solar_spec

PERIOD = ("2025-01-01T00:00:00Z", "2025-04-01T00:00:00Z")


def _private_spec(epsilon: float = 1.0, cohorts: tuple[str, ...] = ("E-82/2300",), **settings):
    return power_curve_spec("private", *PERIOD, list(cohorts), privacy=PrivacySettings(epsilon, **settings))


def test_sensitivity_of_a_capped_histogram_is_the_cap_times_the_root_of_the_bins():
    assert capped_histogram_l2_sensitivity(60, 61) == pytest.approx(60 * math.sqrt(61), rel=1e-15)


def test_block_rho_is_the_gaussian_zcdp_of_the_noise_all_sites_but_one_add():
    # 5 sites with sigma / 2 each: any 4 of them add variance sigma^2, rho = Delta^2 / (2 sigma^2).
    assert site_noise_stddev(100.0, 5) == pytest.approx(50.0)
    assert block_rho(10.0, 100.0, 5, 1000) == pytest.approx(10.0**2 / (2 * 100.0**2), rel=1e-12)
    # Tiny noise makes the discrete sum's correction term tau (Kairouz et al. 2021) visible.
    assert block_rho(1.0, 0.5, 3, 10) > 1.0 / (2 * 0.25)


def test_composition_of_zcdp_releases_is_additive():
    rho = 0.01
    assert composed_epsilon([rho] * 12, 1e-6) == pytest.approx(composed_epsilon([12 * rho], 1e-6), rel=1e-9)
    # The conversion is no looser than the classic rho + 2 sqrt(rho log(1/delta)).
    assert composed_epsilon([rho], 1e-6) <= rho + 2 * math.sqrt(rho * math.log(1e6))


@pytest.mark.parametrize("epsilon", [0.5, 1.0, 2.0, 4.0])
def test_rho_for_epsilon_inverts_the_accountant(epsilon):
    rho = rho_for_epsilon(epsilon, 1e-6)
    assert composed_epsilon([rho], 1e-6) == pytest.approx(epsilon, rel=1e-9)


@pytest.mark.parametrize("cohorts", [("E-82/2300",), ("E-82/2300", "V90/2000", "N117/2400")])
def test_a_calibrated_spec_costs_the_epsilon_it_asks_for(cohorts):
    spec = _private_spec(1.0, cohorts)
    assert composed_epsilon([spec_rho(spec)], 1e-6) == pytest.approx(1.0, rel=1e-6)
    assert composed_epsilon([spec_rho(spec)], 1e-6) <= 1.0
    noised = [b for b in spec.blocks if b.noise_stddev > 0]
    assert len(noised) == len(cohorts)
    assert not spec.models


def test_a_spec_that_understates_its_sensitivity_or_sends_a_sum_in_the_clear_is_rejected():
    spec = _private_spec()
    histogram = next(b for b in spec.blocks if b.noise_stddev > 0)
    histogram.l2_sensitivity /= 2
    with pytest.raises(ValueError, match=r"below the .* the sites enforce"):
        spec_rho(spec)
    spec = _private_spec()
    spec.blocks.add(cohort="E-82/2300", statistic=3, shape=[61], per_site_bound=1.0)  # SUM_POWER, no noise
    with pytest.raises(ValueError, match="without noise"):
        spec_rho(spec)


def test_noise_grows_with_the_cap_and_shrinks_with_epsilon():
    def noise(spec):
        return next(b.noise_stddev for b in spec.blocks if b.noise_stddev > 0)

    assert noise(_private_spec(1.0, max_records_per_turbine_per_bin=120)) == pytest.approx(
        2 * noise(_private_spec(1.0, max_records_per_turbine_per_bin=60)), rel=1e-9
    )
    assert noise(_private_spec(2.0)) < noise(_private_spec(1.0)) / 1.8


def _private_solar_spec(epsilon: float = 1.0, **settings):
    cohorts = [solar_cohort("all plants"), solar_cohort("fixed", mounting="fixed")]
    return solar_spec("private-solar", *PERIOD, cohorts, privacy=PrivacySettings(epsilon, **settings))


def test_a_private_solar_spec_costs_each_inverter_its_epsilon_on_the_capped_curves_alone():
    spec = _private_solar_spec(1.0, max_records_per_turbine_per_bin=40)
    assert spec.privacy.privacy_unit == "inverter"
    assert composed_epsilon([spec_rho(spec)], 1e-6) == pytest.approx(1.0, rel=1e-6)
    assert {b.statistic for b in spec.blocks} == {spec_pb2.Statistic.CAPPED_SPECIFIC_POWER_HISTOGRAM}
    # Each inverter's row of irradiance bins weighs at most c: Delta = c sqrt(irradiance bins).
    expected = capped_histogram_l2_sensitivity(40, spec.solar.irradiance_bins.count)
    assert all(b.l2_sensitivity == pytest.approx(expected, rel=1e-15) for b in spec.blocks)


@pytest.mark.parametrize("epsilon", [1.0, 100.0])
def test_a_distribution_share_splits_the_epsilon_between_curves_and_the_plants_distributions(epsilon):
    """Share s of rho on the distributions, 1 - s on the curves; sqrt(2) per row, one noise for every block.

    At epsilon 100 a distribution's noise is under one count, still many fixed-point steps per site.
    """
    spec = _private_solar_spec(epsilon, max_records_per_turbine_per_bin=40, distribution_share=0.25)
    rho = rho_for_epsilon(epsilon, 1e-6)
    assert spec_rho(spec) == pytest.approx(rho, rel=1e-6) and spec_rho(spec) <= rho
    assert composed_epsilon([spec_rho(spec)], 1e-6) == pytest.approx(epsilon, rel=1e-6)
    distributions = [b for b in spec.blocks if b.statistic in PLANT_DISTRIBUTION_STATISTICS]
    assert len(distributions) == 2 * len(PLANT_DISTRIBUTION_STATISTICS)  # for each of the two cohorts
    assert len({b.noise_stddev for b in distributions}) == 1
    for block in distributions:
        rows = len(spec.solar.loss_categories) if block.statistic == spec_pb2.Statistic.SOLAR_LOST_PRODUCTION else 1
        assert block.l2_sensitivity == pytest.approx(math.sqrt(2 * rows), rel=1e-15)
    t = spec.privacy.min_noise_sites

    def cost(blocks):
        scales = [math.ldexp(1.0, b.scale_exponent) for b in blocks]  # noise is drawn on the fixed-point integers
        return sum(
            block_rho(b.l2_sensitivity * k, b.noise_stddev * k, t, math.prod(b.shape))
            for b, k in zip(blocks, scales, strict=True)
        )

    curves = [b for b in spec.blocks if b.statistic == spec_pb2.Statistic.CAPPED_SPECIFIC_POWER_HISTOGRAM]
    assert cost(distributions) == pytest.approx(0.25 * rho, rel=1e-6)
    assert cost(curves) == pytest.approx(0.75 * rho, rel=1e-6)


def test_named_distributions_alone_are_noised_and_cost_the_same_share():
    """Two distributions (two rows) instead of all (eleven rows with four causes): sqrt(11 / 2) less noise."""
    every = _private_solar_spec(3.0, distribution_share=0.5)
    two = _private_solar_spec(3.0, distribution_share=0.5, distributions=("degradation_rate", "performance_ratio"))
    statistic = spec_pb2.Statistic
    assert list(noised_distributions(two)) == ["performance_ratio", "degradation_rate"]
    assert spec_rho(two) == pytest.approx(spec_rho(every), rel=1e-6)

    def noise(spec):
        return next(b.noise_stddev for b in spec.blocks if b.statistic == statistic.PERFORMANCE_RATIO_HISTOGRAM)

    assert noise(two) == pytest.approx(noise(every) * math.sqrt(2 / 11), rel=1e-6)
    with pytest.raises(ValueError, match=r"distributions \['yield'\] are none of"):
        _private_solar_spec(distribution_share=0.5, distributions=("yield",))
    with pytest.raises(ValueError, match="need a distribution_share above 0"):
        _private_solar_spec(distributions=("performance_ratio",))


def test_a_distribution_share_is_refused_outside_zero_to_one_and_on_wind_specs():
    for share in (-0.1, 1.0):
        with pytest.raises(ValueError, match="distribution_share must be in"):
            _private_solar_spec(distribution_share=share)
    with pytest.raises(ValueError, match="for solar specs only"):
        _private_spec(distribution_share=0.5)
    # A distribution block claiming less than sqrt(2) per row is caught by the sites' own check.
    spec = _private_solar_spec(distribution_share=0.5)
    next(b for b in spec.blocks if b.statistic == spec_pb2.Statistic.SOLAR_LOST_PRODUCTION).l2_sensitivity = 2.0
    with pytest.raises(ValueError, match=r"SOLAR_LOST_PRODUCTION.*below the 2.82843 the sites enforce"):
        spec_rho(spec)


def test_where_the_discrete_noise_costs_extra_the_distribution_noise_is_raised_to_stay_within_rho():
    """Epsilon 10^4 over 1,000 noise sites: a site's share is a fraction of a fixed-point step, where the
    distributed discrete Gaussian's tau term is not negligible. The noise is solved on block_rho with it,
    above the Gaussian's sigma, and the spec still costs its rho (spec_rho, the sites' own accounting)."""
    epsilon, t = 1e4, 1000
    spec = _private_solar_spec(epsilon, distribution_share=0.5, min_noise_sites=t)
    rho = rho_for_epsilon(epsilon, 1e-6)
    assert spec_rho(spec) == pytest.approx(rho, rel=1e-6) and spec_rho(spec) <= rho
    rows = len(PLANT_DISTRIBUTION_STATISTICS) - 1 + len(spec.solar.loss_categories)
    gaussian = math.sqrt(2 * rows / (2 * 0.5 * rho / len(spec.cohorts)))  # what sigma would be without tau
    noise = next(b.noise_stddev for b in spec.blocks if b.statistic in PLANT_DISTRIBUTION_STATISTICS)
    assert noise > 1.2 * gaussian


def test_a_solar_spec_claiming_turbines_or_a_smaller_sensitivity_is_rejected():
    spec = _private_solar_spec()
    spec.privacy.privacy_unit = "turbine"  # the cap is enforced per inverter at a solar site
    with pytest.raises(ValueError, match="use 'inverter'"):
        spec_rho(spec)
    spec = _private_solar_spec()
    spec.blocks[0].l2_sensitivity /= 2
    with pytest.raises(ValueError, match=r"below the .* the sites enforce"):
        spec_rho(spec)
    # A wind spec noising the solar histogram: no wind site bounds a unit's weight in it.
    spec = _private_spec()
    next(b for b in spec.blocks if b.noise_stddev > 0).statistic = spec_pb2.Statistic.CAPPED_SPECIFIC_POWER_HISTOGRAM
    with pytest.raises(ValueError, match="only CAPPED_POWER_HISTOGRAM can be differentially private"):
        spec_rho(spec)


def test_failure_rates_join_the_distributions_share_at_the_sensitivity_of_their_cap_and_period():
    """A cap of C failures per inverter: its failures block moves by at most C, its inverter-years by the period's
    (90 days here); both take the distributions' one noise, and the spec still costs its epsilon."""
    statistic = spec_pb2.Statistic
    spec = _private_solar_spec(3.0, distribution_share=0.5, max_failures_per_inverter=3)
    assert private_failure_rates(spec) and spec.privacy.max_failures_per_inverter == 3
    sensitivity = {b.statistic: b.l2_sensitivity for b in spec.blocks if b.cohort == spec.cohorts[0].name}
    assert sensitivity[statistic.SOLAR_FAILURE_COUNT] == 3.0
    assert sensitivity[statistic.INVERTER_YEARS] == pytest.approx(90 / 365.25, rel=1e-12)
    assert spec_rho(spec) == pytest.approx(rho_for_epsilon(3.0, 1e-6), rel=1e-6)
    noised = {b.noise_stddev for b in spec.blocks if b.statistic != statistic.CAPPED_SPECIFIC_POWER_HISTOGRAM}
    assert len(noised) == 1
    without = _private_solar_spec(3.0, distribution_share=0.5)
    assert not private_failure_rates(without)
    # Rows of sqrt(2) over 8 distributions (lost production: 4 causes), then 3^2 + (90 / 365.25)^2 more.
    rows = 2 * (len(PLANT_DISTRIBUTION_STATISTICS) - 1 + len(spec.solar.loss_categories))
    growth = math.sqrt((rows + 9 + (90 / 365.25) ** 2) / rows)
    pr = statistic.PERFORMANCE_RATIO_HISTOGRAM
    with_failures, distributions_only = (
        next(b.noise_stddev for b in s.blocks if b.statistic == pr) for s in (spec, without)
    )
    assert with_failures == pytest.approx(distributions_only * growth, rel=1e-6)
    # A site sends at most its inverters' caps (plus its noise's headroom), not one failure a record.
    block = next(b for b in spec.blocks if b.statistic == statistic.SOLAR_FAILURE_COUNT)
    headroom = block.per_site_bound - spec.solar.max_inverters_per_site * 3
    assert 0 < headroom < 100 * block.noise_stddev
    with pytest.raises(ValueError, match="max_failures_per_inverter must be >= 0, and above 0 only with"):
        _private_solar_spec(max_failures_per_inverter=2)
    # A failures block claiming less than its cap, or noised by a spec that bounds no failures, is refused.
    next(b for b in spec.blocks if b.statistic == statistic.SOLAR_FAILURE_COUNT).l2_sensitivity = 1.0
    with pytest.raises(ValueError, match=r"SOLAR_FAILURE_COUNT.*below the 3 the sites enforce"):
        spec_rho(spec)
    spec.privacy.max_failures_per_inverter = 0
    with pytest.raises(ValueError, match="sites bound no privacy unit's contribution to it"):
        spec_rho(spec)


def test_downtime_joins_the_failure_rates_at_the_sensitivity_of_its_cap_with_noise_in_proportion():
    """A cap of H hours down per inverter: its downtime block moves by at most H and carries sigma H / C, so it
    costs what the failures block does; the spec still costs its epsilon, and a site sends at most its caps."""
    statistic = spec_pb2.Statistic
    spec = _private_solar_spec(
        3.0, distribution_share=0.5, max_failures_per_inverter=2, max_downtime_hours_per_inverter=48
    )
    assert private_downtime(spec) and spec.privacy.max_downtime_hours_per_inverter == 48
    name = spec.cohorts[0].name
    blocks = {b.statistic: b for b in spec.blocks if b.cohort == name}
    downtime, failures = blocks[statistic.SOLAR_FAILURE_DOWNTIME], blocks[statistic.SOLAR_FAILURE_COUNT]
    assert downtime.l2_sensitivity == 48.0
    assert downtime.noise_stddev == pytest.approx(failures.noise_stddev * 24, rel=1e-12)
    assert spec_rho(spec) == pytest.approx(rho_for_epsilon(3.0, 1e-6), rel=1e-6) and spec_rho(spec) <= rho_for_epsilon(
        3.0, 1e-6
    )
    # It costs the distributions one failures block more: sqrt(rows + 2 C^2 + Y^2) against sqrt(rows + C^2 + Y^2).
    without = _private_solar_spec(3.0, distribution_share=0.5, max_failures_per_inverter=2)
    assert not private_downtime(without) and statistic.SOLAR_FAILURE_DOWNTIME not in {
        b.statistic for b in without.blocks
    }
    rows = 2 * (len(PLANT_DISTRIBUTION_STATISTICS) - 1 + len(spec.solar.loss_categories))
    years = (90 / 365.25) ** 2
    growth = math.sqrt((rows + 8 + years) / (rows + 4 + years))
    assert failures.noise_stddev == pytest.approx(
        next(b.noise_stddev for b in without.blocks if b.statistic == statistic.SOLAR_FAILURE_COUNT) * growth, rel=1e-6
    )
    headroom = downtime.per_site_bound - spec.solar.max_inverters_per_site * 48
    assert 0 < headroom < 100 * downtime.noise_stddev
    with pytest.raises(ValueError, match="max_downtime_hours_per_inverter must be >= 0, and above 0 only with a"):
        _private_solar_spec(distribution_share=0.5, max_downtime_hours_per_inverter=48)
    # A downtime block claiming less than its cap, or noised by a spec that caps no downtime, is refused.
    downtime.l2_sensitivity = 24.0
    with pytest.raises(ValueError, match=r"SOLAR_FAILURE_DOWNTIME.*below the 48 the sites enforce"):
        spec_rho(spec)
    spec.privacy.max_downtime_hours_per_inverter = 0
    with pytest.raises(ValueError, match="sites bound no privacy unit's contribution to it"):
        spec_rho(spec)


@pytest.mark.parametrize(("colluders", "needed"), [(0, 10), (1, 10), (2, 11), (5, 14)])
def test_a_private_round_needs_min_noise_sites_minus_one_plus_the_colluders(colluders, needed):
    """t - 1 noise shares must stay after c colluders subtract theirs; never fewer than t (t = 10)."""
    assert min_private_participants(10, colluders) == needed
