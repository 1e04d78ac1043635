"""Building the BenchmarkSpec the aggregator publishes for a benchmark period.

Every block's unit, fixed point, shape and per-site bound come from the statistics registry
(protos/statistics.py); this module chooses which statistics a spec asks for, and its grids.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from common.labels import WIND_SPEED_REFERENCES
from protos.codec import CONTRACT
from protos.domain import (
    AGE_BAND_EDGES,
    CLIMATE_ZONES,
    COMPONENTS,
    LOSS_CATEGORIES,
    MODULE_TECHNOLOGIES,
    MOUNTINGS,
    REFERENCE_AIR_DENSITY,
    SOLAR_COMPONENTS,
    SOLAR_LOSS_CATEGORIES,
)
from protos.fleetbench.v1 import spec_pb2
from protos.privacy import (
    PLANT_DISTRIBUTION_STATISTICS,
    PRIVATE_DOWNTIME_STATISTIC,
    block_rho,
    capped_curve,
    capped_histogram_l2_sensitivity,
    enforced_l2_sensitivity,
    private_failure_statistics,
    rho_for_epsilon,
    spec_rho,
)
from protos.statistics import SOLAR_DISTRIBUTIONS, STATISTICS, spec_block

S = spec_pb2.Statistic
CURVE_STATISTICS = (
    S.RECORD_COUNT,
    S.SUM_WIND_SPEED,
    S.SUM_POWER,
    S.SUM_POWER_SQUARED,
    S.NORMALISED_POWER_HISTOGRAM,
    S.BIN_CONTRIBUTOR,
    S.COHORT_CONTRIBUTOR,
    S.SUM_POWER_PER_UNIT,
    S.SUM_POWER_PER_UNIT_SQUARED,
    S.SUM_POWER_PER_AREA,
)
"""Round 1's power-curve statistics per cohort, in payload order."""
MODEL_STATISTICS = (S.NBM_GRAM, S.NBM_MOMENT, S.NBM_RESPONSE_SQUARES, S.NBM_RECORD_COUNT)
"""Round 1's statistics per cohort and normal-behaviour model."""
INDICATOR_STATISTICS = (
    S.PERFORMANCE_INDEX_HISTOGRAM,
    S.YAW_MISALIGNMENT_HISTOGRAM,
    S.TIME_AVAILABILITY_HISTOGRAM,
    S.PRODUCTION_AVAILABILITY_HISTOGRAM,
    S.NBM_RESIDUAL_HISTOGRAM,
    S.LOST_PRODUCTION,
    S.FAILURE_COUNT,
    S.FAILURE_DOWNTIME,
    S.TURBINE_YEARS,
    S.AGE_BAND_CONTRIBUTOR,
    S.INDICATOR_CONTRIBUTOR,
    S.MONTHLY_PERFORMANCE_INDEX_HISTOGRAM,
    S.MONTHLY_TIME_AVAILABILITY_HISTOGRAM,
    S.MONTHLY_CONTRIBUTOR,
)
"""Round 2's statistics per cohort, in payload order (NBM_RESIDUAL_HISTOGRAM once per model)."""
SOLAR_STATISTICS = (
    S.IRRADIANCE_RECORD_COUNT,
    S.SUM_SPECIFIC_POWER,
    S.SUM_SPECIFIC_POWER_SQUARED,
    S.SPECIFIC_POWER_HISTOGRAM,
    S.IRRADIANCE_BIN_CONTRIBUTOR,
    *PLANT_DISTRIBUTION_STATISTICS,
    S.SOLAR_FAILURE_COUNT,
    S.SOLAR_FAILURE_DOWNTIME,
    S.INVERTER_YEARS,
    S.SOLAR_CONTRIBUTOR,
)
"""A solar release's statistics per cohort, in payload order."""
# Normal-behaviour models of round 1 (client/indicators.py names the features).
DEFAULT_MODELS = (
    ("WTRM_GbxBrgTmp", ("power_per_unit", "power_per_unit_squared", "ambient_temperature")),
    ("WGEN_GnBrgTmp", ("power_per_unit", "power_per_unit_squared", "ambient_temperature")),
)
DEFAULT_RIDGE_LAMBDA = 1e-4
# The filters every site applies by default, in order (client/filters.py implements them).
DEFAULT_FILTERS: tuple[tuple[str, dict[str, float]], ...] = (
    ("range", {}),
    ("status", {"downtime_wind_speed": 4.5, "curtailment_pitch": 5.0}),
    ("frozen_sensor", {"min_run": 3}),
    ("window", {"wind_speed_min": 5.0, "wind_speed_max": 40.0, "power_min": 0.02, "power_max": 1.2}),
    ("bin_outlier", {"bin_width": 0.06, "power_min": 0.01, "power_max": 0.9, "n_sigma": 3.0}),
)


@dataclass(frozen=True)
class PrivacySettings:
    """Distributed differential privacy for a curve release (see spec.proto DifferentialPrivacy).

    The privacy unit is one turbine (a solar spec: one inverter) with all of its records in the
    release. ``epsilon`` at ``delta`` is what one release costs each unit; the noise is split evenly
    over the cohorts' histograms (a unit may belong to several cohorts). A unit's records weigh at
    most ``max_records_per_turbine_per_bin`` per wind-speed (irradiance) bin.
    """

    epsilon: float
    delta: float = 1e-6
    max_records_per_turbine_per_bin: int = 60
    min_noise_sites: int = 3
    distribution_share: float = 0.0
    """Share of the release's rho spent on a solar spec's plant distributions, in [0, 1); 0: the curve alone."""
    distributions: tuple[str, ...] = ()
    """With a distribution share: the distributions to publish (SOLAR_DISTRIBUTIONS' names); empty: all. Fewer
    distributions, less noise on each: one costs sqrt(2) per row in sensitivity (lost production a row per cause)."""
    max_failures_per_inverter: int = 0
    """With a distribution share: publish failure rates too, each inverter's failures in the period counting at
    most this much over the components (its sensitivity); 0: a private spec publishes no failure rates."""
    max_downtime_hours_per_inverter: int = 0
    """With a failure cap: publish the failures' downtime too, each inverter's hours down in the period counting at
    most this much over the components [h] (its sensitivity); 0: a private spec publishes no downtime."""


def _referenced(cohort: spec_pb2.Cohort, reference: spec_pb2.WindSpeedReference) -> spec_pb2.Cohort:
    """The cohort for turbines of ``reference``, named apart unless it is the nacelle anemometer (the usual)."""
    if reference != spec_pb2.NACELLE_ANEMOMETER:
        short = next(name for name, value in WIND_SPEED_REFERENCES.items() if value == reference)
        cohort.name += f" [{short}]"
        cohort.wind_speed_reference = reference
    return cohort


def model_cohort(
    model: str, wind_speed_reference: spec_pb2.WindSpeedReference = spec_pb2.NACELLE_ANEMOMETER
) -> spec_pb2.Cohort:
    """The cohort of one turbine model (windpowerlib turbine-type name, e.g. "E-82/2300").

    Parameters
    ----------
    model : str
        The turbine model.
    wind_speed_reference : WindSpeedReference
        Where its turbines' wind speed is measured; a cohort other than the nacelle anemometer's is
        named with it ("E-82/2300 [mast]").
    """
    return _referenced(spec_pb2.Cohort(name=model, turbine_model=model), wind_speed_reference)


def band_cohort(
    rated_power_kw: tuple[float, float],
    specific_power: tuple[float, float] = (0.0, 0.0),
    iec_wind_class: str = "",
    wind_speed_reference: spec_pb2.WindSpeedReference = spec_pb2.NACELLE_ANEMOMETER,
) -> spec_pb2.Cohort:
    """A cohort of every turbine in a rated-power band, specific-power band and IEC wind class.

    Parameters
    ----------
    rated_power_kw : tuple of float
        [min, max) rated power [kW]; 0 leaves a bound open.
    specific_power : tuple of float
        [min, max) rated power per swept area [W/m^2]; 0 leaves a bound open.
    iec_wind_class : str
        IEC 61400-1 wind class ("I", "II", "III", "S"), "" for any.
    wind_speed_reference : WindSpeedReference
        As for :func:`model_cohort`.
    """
    name = f"{rated_power_kw[0]:g}-{rated_power_kw[1]:g} kW"
    if any(specific_power):
        name += f", {specific_power[0]:g}-{specific_power[1]:g} W/m^2"
    if iec_wind_class:
        name += f", IEC {iec_wind_class}"
    cohort = spec_pb2.Cohort(
        name=name,
        rated_power_kw_min=rated_power_kw[0],
        rated_power_kw_max=rated_power_kw[1],
        specific_power_min=specific_power[0],
        specific_power_max=specific_power[1],
        iec_wind_class=iec_wind_class,
    )
    return _referenced(cohort, wind_speed_reference)


def power_curve_spec(
    spec_id: str,
    period_start: str,
    period_end: str,
    cohorts: Sequence[spec_pb2.Cohort | str],
    k_min_operators: int = 3,
    max_turbines_per_site: int = 500,
    dominance_max_share: float = 0.6,
    filters: Sequence[tuple[str, dict[str, float]]] = DEFAULT_FILTERS,
    models: Sequence[tuple[str, Sequence[str]]] = DEFAULT_MODELS,
    training_end: str | None = None,
    privacy: PrivacySettings | None = None,
) -> spec_pb2.BenchmarkSpec:
    """A spec for industry power curves, one per cohort.

    Wind-speed bins are 0.5 m/s wide and centred on multiples of 0.5 m/s from 0 to 30 m/s
    (IEC 61400-12-1:2017, 9.1), over density-normalised wind speed with rho0 = 1.225 kg/m^3;
    the normalised-power histogram has 0.01 p.u. bins centred on multiples of 0.01 p.u. from
    -0.1 to 1.3 p.u. (round values such as a 0.5 p.u. curtailment limit sit mid-bin, not on an
    edge), values beyond falling into the end bins.

    Parameters
    ----------
    spec_id : str
        Name of the benchmark, e.g. "power-curve-2025-Q1".
    period_start, period_end : str
        ISO 8601 UTC bounds of the benchmark period, [start, end).
    cohorts : sequence of Cohort or str
        Cohorts; a string is a turbine model (see :func:`model_cohort`).
    k_min_operators : int
        Minimum number of contributing operators for a released cell.
    max_turbines_per_site : int
        Largest fleet one site may bring; sets every block's per-site bound.
    dominance_max_share : float
        Largest share of a released cell's records one operator may hold (0 < p <= 1).
    filters : sequence of (name, parameters)
        Quality filters every site applies, in order.
    models : sequence of (target, features)
        Normal-behaviour models (client/indicators.py NBM_FEATURES) trained in this round.
    training_end : str, optional
        End of the models' training window, [period_start, training_end); default: the first
        third of the period. Records after it are what round 2 monitors.
    privacy : PrivacySettings, optional
        Make the release differentially private: the spec then asks only for the capped power
        histograms (noised), and trains no models; its census (exact counts) decides suppression.
    """
    start, end = _checked_rules(k_min_operators, dominance_max_share, period_start, period_end)
    spec = spec_pb2.BenchmarkSpec(
        contract=CONTRACT,
        spec_id=spec_id,
        period=spec_pb2.Period(start=period_start, end=period_end),
        wind_speed_bins=spec_pb2.BinGrid(first_centre=0.0, width=0.5, count=61, unit="m/s"),
        normalised_power_bins=spec_pb2.BinGrid(first_centre=-0.1, width=0.01, count=141, unit="1"),
        k_min_operators=k_min_operators,
        max_turbines_per_site=max_turbines_per_site,
        reference_air_density=REFERENCE_AIR_DENSITY,
        dominance_max_share=dominance_max_share,
        aep_cut_out_wind_speed=25.0,
    )
    for name, parameters in filters:
        spec.filters.add(name=name, parameters=parameters)
    if training_end is None:
        training_end = (start + (end - start) / 3).floor("D").isoformat().replace("+00:00", "Z")
    if not start < pd.Timestamp(training_end) <= end:
        raise ValueError(f"training_end {training_end!r} must lie in the period ({period_start}, {period_end}]")
    spec.training_period.CopyFrom(spec_pb2.Period(start=period_start, end=training_end))
    if privacy is not None:
        return _private_curve_spec(spec, _distinct_cohorts(cohorts), privacy)
    for target, features in models:
        spec.models.add(target=target, features=list(features), ridge_lambda=DEFAULT_RIDGE_LAMBDA)
    for cohort in _distinct_cohorts(cohorts):
        spec.cohorts.add().CopyFrom(cohort)
        for statistic in CURVE_STATISTICS:
            spec.blocks.append(spec_block(spec, cohort.name, statistic))
        for model in spec.models:
            for statistic in MODEL_STATISTICS:
                spec.blocks.append(spec_block(spec, cohort.name, statistic, model.target))
    return spec


def _checked_rules(
    k_min_operators: int, dominance_max_share: float, period_start: str, period_end: str
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The period's bounds, once k, the dominance share and the period are checked.

    Raises
    ------
    ValueError
        Naming the parameter that is out of range.
    """
    if k_min_operators < 1:
        raise ValueError(f"k_min_operators must be at least 1, got {k_min_operators}")
    if not 0 < dominance_max_share <= 1:
        raise ValueError(f"dominance_max_share must be in (0, 1], got {dominance_max_share}")
    start, end = pd.Timestamp(period_start), pd.Timestamp(period_end)
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        raise ValueError(f"period must be two UTC timestamps with start < end, got {period_start!r}, {period_end!r}")
    return start, end


def _distinct_cohorts(cohorts: Sequence[spec_pb2.Cohort | str]) -> list[spec_pb2.Cohort]:
    """The cohorts, a string standing for its turbine model's cohort, each name once (first wins)."""
    distinct: dict[str, spec_pb2.Cohort] = {}
    for cohort in cohorts:
        cohort = model_cohort(cohort) if isinstance(cohort, str) else cohort
        distinct.setdefault(cohort.name, cohort)
    return list(distinct.values())


def _private_curve_spec(
    spec: spec_pb2.BenchmarkSpec, cohorts: Sequence[spec_pb2.Cohort], privacy: PrivacySettings
) -> spec_pb2.BenchmarkSpec:
    """Complete ``spec`` as a private release: calibrated noise on each cohort's capped histogram.

    The privacy unit, the histogram and the rows a unit's weight is capped in follow the spec's kind
    (:func:`protos.privacy.capped_curve`). zCDP composes by addition, so each of the C cohorts'
    histograms gets rho / C, where rho is the largest zCDP whose release is (epsilon, delta)-DP; its
    noise is sigma = Delta / sqrt(2 rho / C). A solar spec with a ``distribution_share`` s > 0 gives
    its curves (1 - s) rho and each cohort's plant distributions s rho / C
    (:data:`protos.privacy.PLANT_DISTRIBUTION_STATISTICS`; with ``max_failures_per_inverter``, its failures
    and inverter-years too, and with ``max_downtime_hours_per_inverter`` their downtime:
    :func:`protos.privacy.private_failure_statistics`), one noise for all of them, the downtime's in hours
    (:func:`_noise_scale`).

    Parameters
    ----------
    spec : BenchmarkSpec
        The spec's fields (its kind's grids among them), no cohorts or blocks yet.
    cohorts : sequence of Cohort
        The cohorts, each name once.
    privacy : PrivacySettings
        epsilon, delta, the cap and the noise sites.
    """
    if not (privacy.epsilon > 0 and 0 < privacy.delta < 1e-3):
        raise ValueError(
            "privacy: epsilon must be > 0 and delta in (0, 0.001), "
            f"got epsilon {privacy.epsilon}, delta {privacy.delta}"
        )
    if privacy.min_noise_sites < 2 or privacy.max_records_per_turbine_per_bin < 1:
        raise ValueError(
            "privacy: min_noise_sites must be >= 2 and max_records_per_turbine_per_bin >= 1, got "
            f"{privacy.min_noise_sites} and {privacy.max_records_per_turbine_per_bin}"
        )
    share = privacy.distribution_share
    if not 0.0 <= share < 1.0 or (share and not spec.HasField("solar")):
        raise ValueError(
            f"privacy: distribution_share must be in [0, 1), and above 0 for solar specs only; got {share}"
        )
    if privacy.distributions and not share:
        raise ValueError(f"privacy: distributions {list(privacy.distributions)} need a distribution_share above 0")
    if privacy.max_failures_per_inverter < 0 or (privacy.max_failures_per_inverter and not share):
        raise ValueError(
            "privacy: max_failures_per_inverter must be >= 0, and above 0 only with a distribution_share above 0 "
            f"(failure rates share the distributions' budget); got {privacy.max_failures_per_inverter}"
        )
    if privacy.max_downtime_hours_per_inverter < 0 or (
        privacy.max_downtime_hours_per_inverter and not privacy.max_failures_per_inverter
    ):
        raise ValueError(
            "privacy: max_downtime_hours_per_inverter must be >= 0, and above 0 only with a "
            f"max_failures_per_inverter above 0 (downtime is published per failure); got "
            f"{privacy.max_downtime_hours_per_inverter}"
        )
    capped = capped_curve(spec)
    spec.privacy.CopyFrom(
        spec_pb2.DifferentialPrivacy(
            privacy_unit=capped.privacy_unit,
            max_records_per_turbine_per_bin=privacy.max_records_per_turbine_per_bin,
            min_noise_sites=privacy.min_noise_sites,
            epsilon=privacy.epsilon,
            delta=privacy.delta,
            max_failures_per_inverter=privacy.max_failures_per_inverter,
            max_downtime_hours_per_inverter=privacy.max_downtime_hours_per_inverter,
        )
    )
    rho = rho_for_epsilon(privacy.epsilon, privacy.delta)
    sensitivity = capped_histogram_l2_sensitivity(privacy.max_records_per_turbine_per_bin, capped.rows)
    # A hair above the calibrated sigma, so the tau term of protos.privacy.block_rho stays inside rho.
    noise = sensitivity / math.sqrt(2.0 * (1.0 - share) * rho / len(cohorts)) * (1.0 + 1e-9)
    statistics = _private_distribution_statistics(privacy.distributions) if share else ()
    statistics += private_failure_statistics(spec.privacy)
    distribution_noise = _distribution_noise(spec, share * rho / len(cohorts), statistics) if share else 0.0
    for cohort in cohorts:
        spec.cohorts.add().CopyFrom(cohort)
        histogram = spec_block(spec, cohort.name, capped.statistic, noise_stddev=noise)
        histogram.l2_sensitivity = sensitivity
        spec.blocks.append(histogram)
        for statistic in statistics:
            scaled = distribution_noise * _noise_scale(spec.privacy, statistic)
            block = spec_block(spec, cohort.name, statistic, noise_stddev=scaled)
            block.l2_sensitivity = enforced_l2_sensitivity(spec, block)
            spec.blocks.append(block)
    if spec_rho(spec) > rho:
        raise ValueError(f"calibration error: the spec costs rho {spec_rho(spec)} > {rho}; raise the noise")
    return spec


def _private_distribution_statistics(names: Sequence[str]) -> tuple[spec_pb2.Statistic, ...]:
    """The statistics of the named distributions (SOLAR_DISTRIBUTIONS; none named: all), in payload order.

    Raises
    ------
    ValueError
        Naming a distribution that is not one, with the names there are.
    """
    unknown = sorted(set(names) - set(SOLAR_DISTRIBUTIONS))
    if unknown:
        raise ValueError(f"privacy: distributions {unknown} are none of {list(SOLAR_DISTRIBUTIONS)}")
    return tuple(statistic for name, statistic in SOLAR_DISTRIBUTIONS.items() if not names or name in names)


def _noise_scale(privacy: spec_pb2.DifferentialPrivacy, statistic: spec_pb2.Statistic) -> float:
    """How many times the distributions' noise (sigma) a block of ``statistic`` carries [block unit per count].

    The downtime carries sigma H / C: noise in proportion to its sensitivity, as the failures', so a cohort's
    downtime is as noisy, relative to what C failures may bring, as its failures are; every other block sigma.
    """
    if statistic == PRIVATE_DOWNTIME_STATISTIC:
        return privacy.max_downtime_hours_per_inverter / privacy.max_failures_per_inverter
    return 1.0


def _distribution_noise(spec: spec_pb2.BenchmarkSpec, rho: float, statistics: Sequence[spec_pb2.Statistic]) -> float:
    """The noise (sigma) of one cohort's blocks ``statistics`` (distributions, failures), costing ``rho``.

    Each block carries sigma times its :func:`_noise_scale`. Solved on :func:`protos.privacy.block_rho`
    itself, whose tau term matters where a site's noise share is a fraction of a fixed-point step (a large
    epsilon over many noise sites).
    """
    from scipy.optimize import brentq

    blocks = [spec_block(spec, "any cohort", statistic) for statistic in statistics]
    # (Delta, size, fixed-point scale, noise scale) of each: the noise is drawn on the fixed-point integers.
    terms = [
        (
            enforced_l2_sensitivity(spec, b),
            math.prod(b.shape),
            math.ldexp(1.0, b.scale_exponent),
            _noise_scale(spec.privacy, b.statistic),
        )
        for b in blocks
    ]
    t = spec.privacy.min_noise_sites

    def excess(sigma: float) -> float:
        return sum(block_rho(d * scale, sigma * k * scale, t, size) for d, size, scale, k in terms) - rho

    gaussian = math.sqrt(sum((d / k) ** 2 for d, _, _, k in terms) / (2.0 * rho))  # without tau: the least sigma
    if excess(gaussian) <= 0:
        return gaussian * (1.0 + 1e-9)
    high = 2.0 * gaussian + 2.0 * math.sqrt(t - 1)  # a site's share of 2 counts or more: tau is negligible
    return float(brentq(excess, gaussian, high, xtol=1e-12)) * (1.0 + 1e-9)


def indicator_spec(round_one: spec_pb2.BenchmarkSpec, baseline_release_sha256: str) -> spec_pb2.BenchmarkSpec:
    """The round-2 spec: indicators every site computes against the round-1 release.

    Same period, cohorts, filters, models and disclosure settings as ``round_one``; its blocks are
    distributions over turbines (performance index, yaw misalignment, availability) or records
    (model residuals), lost production by IEC 61400-26 category, failures and turbine-years
    by component and age band, and the performance index and time availability month by month.
    """
    spec = spec_pb2.BenchmarkSpec()
    spec.CopyFrom(round_one)
    spec.spec_id = f"{round_one.spec_id}/indicators"
    del spec.blocks[:]
    indicators = spec.indicators
    indicators.baseline_release_sha256 = baseline_release_sha256
    indicators.performance_index_bins.CopyFrom(spec_pb2.BinGrid(first_centre=0.7, width=0.0025, count=241, unit="1"))
    indicators.yaw_misalignment_bins.CopyFrom(spec_pb2.BinGrid(first_centre=-20.0, width=0.5, count=81, unit="deg"))
    indicators.residual_bins.CopyFrom(spec_pb2.BinGrid(first_centre=-20.0, width=0.25, count=161, unit="degC"))
    indicators.availability_bins.CopyFrom(spec_pb2.BinGrid(first_centre=0.5, width=0.0025, count=201, unit="1"))
    indicators.age_band_edges.extend(AGE_BAND_EDGES)
    indicators.components.extend(COMPONENTS)
    indicators.loss_categories.extend(LOSS_CATEGORIES)
    indicators.yaw_wind_speed_min, indicators.yaw_wind_speed_max = 4.5, 9.0
    indicators.monthly_performance_index_bins.CopyFrom(
        spec_pb2.BinGrid(first_centre=0.7, width=0.01, count=61, unit="1")
    )
    indicators.monthly_availability_bins.CopyFrom(spec_pb2.BinGrid(first_centre=0.5, width=0.01, count=51, unit="1"))
    for cohort in spec.cohorts:
        for statistic in INDICATOR_STATISTICS:
            targets = [model.target for model in spec.models] if STATISTICS[statistic].per_target else [""]
            for target in targets:
                spec.blocks.append(spec_block(spec, cohort.name, statistic, target))
    return spec


def solar_cohort(
    name: str,
    module_technology: str = "",
    mounting: str = "",
    climate_zone: str = "",
    dc_ac_ratio_min: float = 0.0,
    dc_ac_ratio_max: float = 0.0,
) -> spec_pb2.Cohort:
    """A solar cohort: plants of a technology, mounting, climate zone and DC/AC band ("" or 0: any).

    Raises
    ------
    ValueError
        Naming a criterion whose value no plant can declare, with the values it can.
    """
    for criterion, value, allowed in (
        ("module technology", module_technology, MODULE_TECHNOLOGIES),
        ("mounting", mounting, MOUNTINGS),
        ("climate zone", climate_zone, CLIMATE_ZONES),
    ):
        if value and value not in allowed:
            raise ValueError(f"solar cohort {name!r}: {criterion} {value!r} is none of {list(allowed)}")
    if dc_ac_ratio_max and dc_ac_ratio_max <= dc_ac_ratio_min:
        raise ValueError(f"solar cohort {name!r}: DC/AC band [{dc_ac_ratio_min:g}, {dc_ac_ratio_max:g}) is empty")
    return spec_pb2.Cohort(
        name=name,
        module_technology=module_technology,
        mounting=mounting,
        climate_zone=climate_zone,
        dc_ac_ratio_min=dc_ac_ratio_min,
        dc_ac_ratio_max=dc_ac_ratio_max,
    )


def solar_spec(
    spec_id: str,
    period_start: str,
    period_end: str,
    cohorts: Sequence[spec_pb2.Cohort],
    k_min_operators: int = 3,
    max_inverters_per_site: int = 5000,
    dominance_max_share: float = 0.6,
    privacy: PrivacySettings | None = None,
) -> spec_pb2.BenchmarkSpec:
    """A spec for solar benchmarks, one set of blocks per cohort of plants.

    Grids (values beyond a grid fall into its end bins): in-plane irradiance in 50 W/m^2 bins from
    50 W/m^2 (daylight; records below are in no bin) to 1400 W/m^2 and above; specific power
    P_out / P_0 in 0.01 kW/kWp bins centred on 0 to 1.5; performance ratio in 0.01 bins centred on
    0.30 to 1.20; degradation rate in 0.1 %/year bins centred on -5 to +2; its confidence
    interval's width in 0.05 %/year bins from 0 to 2; soiling loss in 0.25 % bins from 0 to 20 %;
    clipping share in 0.01 bins from 0 to 0.5; inverter availability in 0.005 bins from 0 to 1; a
    plant's lost production in each loss category in 0.1 % (of its potential) bins centred on 0 (most plants
    lose nothing to most causes) to 10 %.
    Degradation intervals are 68.2 % (RdTools' default).

    Parameters
    ----------
    spec_id : str
        Name of the benchmark, e.g. "solar-2022-2024".
    period_start, period_end : str
        ISO 8601 UTC bounds of the period, [start, end). Degradation needs two years of it.
    cohorts : sequence of Cohort
        Solar cohorts (:func:`solar_cohort`).
    k_min_operators : int
        Minimum number of contributing operators for a released cell.
    max_inverters_per_site : int
        Most inverters one site (one plant) may bring; sets the per-site bounds.
    dominance_max_share : float
        Largest share of a released cell's records (plants, inverters) one operator may hold (0 < p <= 1).
    privacy : PrivacySettings, optional
        Make the release differentially private per inverter: the spec then asks only for each
        cohort's capped specific-power histogram (noised), the curve's percentiles; the plants'
        distributions and failure rates are not in it. Its census (exact counts) decides suppression.
    """
    _checked_rules(k_min_operators, dominance_max_share, period_start, period_end)
    spec = spec_pb2.BenchmarkSpec(
        contract=CONTRACT,
        spec_id=spec_id,
        period=spec_pb2.Period(start=period_start, end=period_end),
        k_min_operators=k_min_operators,
        dominance_max_share=dominance_max_share,
        solar=spec_pb2.SolarSpec(
            irradiance_bins=spec_pb2.BinGrid(first_centre=75.0, width=50.0, count=27, unit="W/m^2"),
            specific_power_bins=spec_pb2.BinGrid(first_centre=0.0, width=0.01, count=151, unit="kW/kWp"),
            performance_ratio_bins=spec_pb2.BinGrid(first_centre=0.3, width=0.01, count=91, unit="1"),
            degradation_bins=spec_pb2.BinGrid(first_centre=-5.0, width=0.1, count=71, unit="%/year"),
            degradation_interval_bins=spec_pb2.BinGrid(first_centre=0.025, width=0.05, count=40, unit="%/year"),
            soiling_loss_bins=spec_pb2.BinGrid(first_centre=0.125, width=0.25, count=80, unit="%"),
            clipping_share_bins=spec_pb2.BinGrid(first_centre=0.005, width=0.01, count=50, unit="1"),
            availability_bins=spec_pb2.BinGrid(first_centre=0.0025, width=0.005, count=200, unit="1"),
            loss_categories=list(SOLAR_LOSS_CATEGORIES),
            components=list(SOLAR_COMPONENTS),
            lost_production_bins=spec_pb2.BinGrid(first_centre=0.0, width=0.1, count=101, unit="%"),
            max_inverters_per_site=max_inverters_per_site,
            degradation_confidence_level=68.2,
        ),
    )
    names = [cohort.name for cohort in cohorts]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"cohort(s) {twice} are named twice; give each cohort its own name")
    if privacy is not None:
        return _private_curve_spec(spec, cohorts, privacy)
    for cohort in cohorts:
        spec.cohorts.add().CopyFrom(cohort)
        for statistic in SOLAR_STATISTICS:
            spec.blocks.append(spec_block(spec, cohort.name, statistic))
    return spec
