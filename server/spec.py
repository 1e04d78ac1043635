"""Building the BenchmarkSpec the aggregator publishes for a benchmark period."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from client.schema import AVAILABILITY_CATEGORIES, COMPONENTS
from protos.codec import CONTRACT
from protos.fleetbench.v1 import spec_pb2
from protos.privacy import (
    DISCLOSURE_CONTROL_STATISTICS,
    capped_histogram_l2_sensitivity,
    rho_for_epsilon,
    site_noise_stddev,
    spec_rho,
)

S = spec_pb2.Statistic
RECORD_PERIOD = pd.Timedelta(minutes=10)
REFERENCE_AIR_DENSITY = 1.225  # [kg/m^3], the industry-wide rho0 (IEC 61400-12-1, 9.1.5)
# Largest |value| a single 10-min record may add, matching the range filter and client/schema.py.
MAX_WIND_SPEED = 60.0  # [m/s]
MAX_ABS_POWER = 3.0e4  # [kW]
MAX_ABS_POWER_PER_UNIT = 2.0  # [-]
MAX_ABS_POWER_PER_AREA = 4000.0  # [W/m^2]
# Fixed-point exponents: finer than the float64 resolution of any sum above 2^13 in its unit, so
# the secure sum matches a pooled float64 computation to ~1e-12 relative.
SCALE_EXPONENTS = {
    S.RECORD_COUNT: 0,
    S.SUM_WIND_SPEED: 40,
    S.SUM_POWER: 40,
    S.SUM_POWER_SQUARED: 32,
    S.NORMALISED_POWER_HISTOGRAM: 0,
    S.BIN_CONTRIBUTOR: 0,
    S.COHORT_CONTRIBUTOR: 0,
    S.SUM_POWER_PER_UNIT: 48,
    S.SUM_POWER_PER_UNIT_SQUARED: 48,
    S.SUM_POWER_PER_AREA: 40,
    S.SQUARED_RECORD_COUNT: 0,
    S.SQUARED_COHORT_RECORD_COUNT: 0,
    S.NBM_GRAM: 24,
    S.NBM_MOMENT: 24,
    S.NBM_RESPONSE_SQUARES: 24,
    S.NBM_RECORD_COUNT: 0,
    S.PERFORMANCE_INDEX_HISTOGRAM: 0,
    S.YAW_MISALIGNMENT_HISTOGRAM: 0,
    S.NBM_RESIDUAL_HISTOGRAM: 0,
    S.TIME_AVAILABILITY_HISTOGRAM: 0,
    S.PRODUCTION_AVAILABILITY_HISTOGRAM: 0,
    S.LOST_PRODUCTION: 24,
    S.FAILURE_COUNT: 0,
    S.FAILURE_DOWNTIME: 24,
    S.TURBINE_YEARS: 40,
    S.AGE_BAND_CONTRIBUTOR: 0,
    S.SQUARED_TURBINE_YEARS: 32,
    S.TURBINE_COUNT: 0,
    S.SQUARED_TURBINE_COUNT: 0,
    S.CAPPED_POWER_HISTOGRAM: 8,
}
UNITS = {
    S.RECORD_COUNT: "1",
    S.SUM_WIND_SPEED: "m/s",
    S.SUM_POWER: "kW",
    S.SUM_POWER_SQUARED: "kW^2",
    S.NORMALISED_POWER_HISTOGRAM: "1",
    S.BIN_CONTRIBUTOR: "1",
    S.COHORT_CONTRIBUTOR: "1",
    S.SUM_POWER_PER_UNIT: "1",
    S.SUM_POWER_PER_UNIT_SQUARED: "1",
    S.SUM_POWER_PER_AREA: "W/m^2",
    S.SQUARED_RECORD_COUNT: "1",
    S.SQUARED_COHORT_RECORD_COUNT: "1",
    S.NBM_GRAM: "feature^2",
    S.NBM_MOMENT: "feature x target",
    S.NBM_RESPONSE_SQUARES: "target^2",
    S.NBM_RECORD_COUNT: "1",
    S.PERFORMANCE_INDEX_HISTOGRAM: "1",
    S.YAW_MISALIGNMENT_HISTOGRAM: "1",
    S.NBM_RESIDUAL_HISTOGRAM: "1",
    S.TIME_AVAILABILITY_HISTOGRAM: "1",
    S.PRODUCTION_AVAILABILITY_HISTOGRAM: "1",
    S.LOST_PRODUCTION: "MWh",
    S.FAILURE_COUNT: "1",
    S.FAILURE_DOWNTIME: "h",
    S.TURBINE_YEARS: "year",
    S.AGE_BAND_CONTRIBUTOR: "1",
    S.SQUARED_TURBINE_YEARS: "year^2",
    S.TURBINE_COUNT: "1",
    S.SQUARED_TURBINE_COUNT: "1",
    S.CAPPED_POWER_HISTOGRAM: "record weight",
}
# Normal-behaviour models of round 1 (client/indicators.py names the features).
DEFAULT_MODELS = (
    ("WTRM_GbxBrgTmp", ("power_per_unit", "power_per_unit_squared", "ambient_temperature")),
    ("WGEN_GnBrgTmp", ("power_per_unit", "power_per_unit_squared", "ambient_temperature")),
)
DEFAULT_RIDGE_LAMBDA = 1e-4
# Largest |centred value| of a model's features and targets (degC and p.u. ranges of client/schema.py).
MAX_ABS_NBM_VALUE = 250.0
AGE_BAND_EDGES = (0.0, 1.0, 2.0, 5.0, 10.0, 15.0, 20.0)  # [year]: infant, early, mid-life, wear-out
MAX_MWH_PER_RECORD = MAX_ABS_POWER / 6e3  # [MWh] in 10 min at the largest power
# The filters every site applies by default, in order (client/filters.py implements them).
DEFAULT_FILTERS = (
    ("range", {}),
    ("status", {"downtime_wind_speed": 4.5, "curtailment_pitch": 5.0}),
    ("frozen_sensor", {"min_run": 3}),
    ("window", {"wind_speed_min": 5.0, "wind_speed_max": 40.0, "power_min": 0.02, "power_max": 1.2}),
    ("bin_outlier", {"bin_width": 0.06, "power_min": 0.01, "power_max": 0.9, "n_sigma": 3.0}),
)


# A noised value stays within its per-site bound unless the noise exceeds this many standard deviations
# (probability below 1e-340 for a discrete Gaussian).
NOISE_HEADROOM_STDDEVS = 40.0


@dataclass(frozen=True)
class PrivacySettings:
    """Distributed differential privacy for a power-curve release (see spec.proto DifferentialPrivacy).

    The privacy unit is one turbine with all of its records in the release. ``epsilon`` at
    ``delta`` is what one release costs each turbine; the noise is split evenly over the cohorts'
    histograms (a turbine may belong to several cohorts).
    """

    epsilon: float
    delta: float = 1e-6
    max_records_per_turbine_per_bin: int = 60
    min_noise_sites: int = 3


def model_cohort(model: str) -> spec_pb2.Cohort:
    """The cohort of one turbine model (windpowerlib turbine-type name, e.g. "E-82/2300")."""
    return spec_pb2.Cohort(name=model, turbine_model=model)


def band_cohort(
    rated_power_kw: tuple[float, float], specific_power: tuple[float, float] = (0.0, 0.0), iec_wind_class: str = ""
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
    """
    name = f"{rated_power_kw[0]:g}-{rated_power_kw[1]:g} kW"
    if any(specific_power):
        name += f", {specific_power[0]:g}-{specific_power[1]:g} W/m^2"
    if iec_wind_class:
        name += f", IEC {iec_wind_class}"
    return spec_pb2.Cohort(
        name=name,
        rated_power_kw_min=rated_power_kw[0],
        rated_power_kw_max=rated_power_kw[1],
        specific_power_min=specific_power[0],
        specific_power_max=specific_power[1],
        iec_wind_class=iec_wind_class,
    )


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
        histograms (noised) and the disclosure-control blocks, and trains no models.
    """
    if k_min_operators < 1:
        raise ValueError(f"k_min_operators must be at least 1, got {k_min_operators}")
    if not 0 < dominance_max_share <= 1:
        raise ValueError(f"dominance_max_share must be in (0, 1], got {dominance_max_share}")
    start, end = pd.Timestamp(period_start), pd.Timestamp(period_end)
    if start.tzinfo is None or end.tzinfo is None or end <= start:
        raise ValueError(f"period must be two UTC timestamps with start < end, got {period_start!r}, {period_end!r}")
    max_records = max_turbines_per_site * math.ceil((end - start) / RECORD_PERIOD)
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
        return _private_power_curve_spec(spec, cohorts, max_turbines_per_site, max_records, privacy)
    for target, features in models:
        spec.models.add(target=target, features=list(features), ridge_lambda=DEFAULT_RIDGE_LAMBDA)
    n_ws, n_p = spec.wind_speed_bins.count, spec.normalised_power_bins.count
    bounds = {
        S.RECORD_COUNT: max_records,
        S.SUM_WIND_SPEED: max_records * MAX_WIND_SPEED,
        S.SUM_POWER: max_records * MAX_ABS_POWER,
        S.SUM_POWER_SQUARED: max_records * MAX_ABS_POWER**2,
        S.NORMALISED_POWER_HISTOGRAM: max_records,
        S.BIN_CONTRIBUTOR: 1,
        S.COHORT_CONTRIBUTOR: 1,
        S.SUM_POWER_PER_UNIT: max_records * MAX_ABS_POWER_PER_UNIT,
        S.SUM_POWER_PER_UNIT_SQUARED: max_records * MAX_ABS_POWER_PER_UNIT**2,
        S.SUM_POWER_PER_AREA: max_records * MAX_ABS_POWER_PER_AREA,
        S.SQUARED_RECORD_COUNT: max_records**2,
        S.SQUARED_COHORT_RECORD_COUNT: max_records**2,
    }
    shapes = {S.NORMALISED_POWER_HISTOGRAM: [n_ws, n_p], S.COHORT_CONTRIBUTOR: [1], S.SQUARED_COHORT_RECORD_COUNT: [1]}
    names: set[str] = set()
    for cohort in cohorts:
        cohort = model_cohort(cohort) if isinstance(cohort, str) else cohort
        if cohort.name in names:
            continue
        names.add(cohort.name)
        spec.cohorts.add().CopyFrom(cohort)
        for statistic, bound in bounds.items():
            spec.blocks.add(
                cohort=cohort.name,
                statistic=statistic,
                shape=shapes.get(statistic, [n_ws]),
                unit=UNITS[statistic],
                scale_exponent=SCALE_EXPONENTS[statistic],
                per_site_bound=float(bound),
            )
        for model in spec.models:
            p = len(model.features)
            for statistic, shape, bound in (
                (S.NBM_GRAM, [p, p], max_records * MAX_ABS_NBM_VALUE**2),
                (S.NBM_MOMENT, [p], max_records * MAX_ABS_NBM_VALUE**2),
                (S.NBM_RESPONSE_SQUARES, [1], max_records * MAX_ABS_NBM_VALUE**2),
                # records, turbines, 1 if any, records squared (dominance)
                (S.NBM_RECORD_COUNT, [4], max_records**2),
            ):
                _add_block(spec, cohort.name, statistic, shape, bound, model.target)
    return spec


def _private_power_curve_spec(
    spec: spec_pb2.BenchmarkSpec,
    cohorts: Sequence[spec_pb2.Cohort | str],
    max_turbines_per_site: int,
    max_records: int,
    privacy: PrivacySettings,
) -> spec_pb2.BenchmarkSpec:
    """Complete ``spec`` as a private release: calibrated noise on each cohort's capped histogram.

    zCDP composes by addition, so each of the C cohorts' histograms gets rho / C, where rho is the
    largest zCDP whose release is (epsilon, delta)-DP; its noise is sigma = Delta / sqrt(2 rho / C).
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
    spec.privacy.CopyFrom(
        spec_pb2.DifferentialPrivacy(
            privacy_unit="turbine",
            max_records_per_turbine_per_bin=privacy.max_records_per_turbine_per_bin,
            min_noise_sites=privacy.min_noise_sites,
            epsilon=privacy.epsilon,
            delta=privacy.delta,
        )
    )
    names = set(c.name if isinstance(c, spec_pb2.Cohort) else c for c in cohorts)
    rho = rho_for_epsilon(privacy.epsilon, privacy.delta)
    n_ws, n_p = spec.wind_speed_bins.count, spec.normalised_power_bins.count
    sensitivity = capped_histogram_l2_sensitivity(privacy.max_records_per_turbine_per_bin, n_ws)
    # A hair above the calibrated sigma, so the tau term of protos.privacy.block_rho stays inside rho.
    noise = sensitivity / math.sqrt(2.0 * rho / len(names)) * (1.0 + 1e-9)
    for cohort in cohorts:
        cohort = model_cohort(cohort) if isinstance(cohort, str) else cohort
        if any(c.name == cohort.name for c in spec.cohorts):
            continue
        spec.cohorts.add().CopyFrom(cohort)
        for statistic in sorted(DISCLOSURE_CONTROL_STATISTICS):
            one = statistic in (S.COHORT_CONTRIBUTOR, S.SQUARED_COHORT_RECORD_COUNT)
            bound = {S.BIN_CONTRIBUTOR: 1, S.COHORT_CONTRIBUTOR: 1}.get(statistic, max_records)
            squared = statistic in (S.SQUARED_RECORD_COUNT, S.SQUARED_COHORT_RECORD_COUNT)
            _add_block(spec, cohort.name, statistic, [1] if one else [n_ws], bound**2 if squared else bound)
        _add_block(
            spec,
            cohort.name,
            S.CAPPED_POWER_HISTOGRAM,
            [n_ws, n_p],
            max_turbines_per_site * privacy.max_records_per_turbine_per_bin
            + NOISE_HEADROOM_STDDEVS * site_noise_stddev(noise, privacy.min_noise_sites),
        )
        spec.blocks[-1].l2_sensitivity, spec.blocks[-1].noise_stddev = sensitivity, noise
    if spec_rho(spec) > rho:
        raise ValueError(f"calibration error: the spec costs rho {spec_rho(spec)} > {rho}; raise the noise")
    return spec


def _add_block(
    spec: spec_pb2.BenchmarkSpec, cohort: str, statistic: int, shape: list[int], bound: float, target: str = ""
) -> None:
    spec.blocks.add(
        cohort=cohort,
        statistic=statistic,
        shape=shape,
        unit=UNITS[statistic],
        scale_exponent=SCALE_EXPONENTS[statistic],
        per_site_bound=float(bound),
        target=target,
    )


def indicator_spec(round_one: spec_pb2.BenchmarkSpec, baseline_release_sha256: str) -> spec_pb2.BenchmarkSpec:
    """The round-2 spec: indicators every site computes against the round-1 release.

    Same period, cohorts, filters, models and disclosure settings as ``round_one``; its blocks are
    distributions over turbines (performance index, yaw misalignment, availability) or records
    (model residuals), lost production by IEC 61400-26 category, and failures and turbine-years
    by component and age band.
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
    indicators.loss_categories.extend(c for c, available in AVAILABILITY_CATEGORIES.items() if available is not None)
    indicators.yaw_wind_speed_min, indicators.yaw_wind_speed_max = 4.5, 9.0
    max_turbines = round_one.max_turbines_per_site
    start, end = pd.Timestamp(round_one.period.start), pd.Timestamp(round_one.period.end)
    max_records = max_turbines * math.ceil((end - start) / RECORD_PERIOD)
    n_age, n_comp = len(AGE_BAND_EDGES), len(COMPONENTS)
    years = max_records * RECORD_PERIOD / pd.Timedelta(days=365.25)
    for cohort in spec.cohorts:
        for statistic, grid in (
            (S.PERFORMANCE_INDEX_HISTOGRAM, indicators.performance_index_bins),
            (S.YAW_MISALIGNMENT_HISTOGRAM, indicators.yaw_misalignment_bins),
            (S.TIME_AVAILABILITY_HISTOGRAM, indicators.availability_bins),
            (S.PRODUCTION_AVAILABILITY_HISTOGRAM, indicators.availability_bins),
        ):
            _add_block(spec, cohort.name, statistic, [grid.count], max_turbines)
        for model in spec.models:
            _add_block(
                spec, cohort.name, S.NBM_RESIDUAL_HISTOGRAM, [indicators.residual_bins.count], max_records, model.target
            )
        _add_block(
            spec,
            cohort.name,
            S.LOST_PRODUCTION,
            [len(indicators.loss_categories) + 1],
            max_records * MAX_MWH_PER_RECORD,
        )
        _add_block(spec, cohort.name, S.FAILURE_COUNT, [n_comp, n_age], max_records)
        _add_block(spec, cohort.name, S.FAILURE_DOWNTIME, [n_comp, n_age], years * 8766.0)
        _add_block(spec, cohort.name, S.TURBINE_YEARS, [n_age], years)
        _add_block(spec, cohort.name, S.AGE_BAND_CONTRIBUTOR, [n_age], 1)
        _add_block(spec, cohort.name, S.SQUARED_TURBINE_YEARS, [n_age], years**2)
        _add_block(spec, cohort.name, S.COHORT_CONTRIBUTOR, [1], 1)
        _add_block(spec, cohort.name, S.TURBINE_COUNT, [1], max_turbines)
        _add_block(spec, cohort.name, S.SQUARED_TURBINE_COUNT, [1], max_turbines**2)
    return spec
