"""A solar plant's summaries for a solar spec: streamed over its 15-minute records, then its blocks.

One pass over the export accumulates, per chunk, sums that add across chunks: the
energy-normalised curve's sums per irradiance bin, the performance-ratio terms, each inverter's
daylight, available and clipped records and its measured and expected energy, lost energy by
category, and daily measured energy, expected energy and insolation. From the daily series at the
end RdTools estimates the degradation rate (year on year) and the soiling loss (stochastic rate
and recovery). A stuck power or irradiance reading (:func:`client.solar.quality.stuck_readings`) counts
as missing. :class:`PlantSummary` holds the plant's own numbers, which stay on site;
:func:`solar_blocks` turns them into the spec's blocks and census.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import pandas as pd

from client.indicators import (
    LastRecords,
    bridged_records,
    continues_earlier_run,
    failure_events,
    record_last_states,
)
from client.power_curve import bin_power_curve, clipped_bin_index, power_histogram
from client.privacy import cap_unit_histograms
from client.solar.availability import availability_terms, clipping_terms, lost_energy_by_category, snow_covered
from client.solar.degradation import (
    DegradationEstimate,
    clean_day_year_on_year,
    combined_degradation,
    daily_normalised_energy,
    year_on_year_degradation,
)
from client.solar.irradiance import cell_temperature, plant_plane_of_array
from client.solar.performance import (
    MIN_PR_INSOLATION,
    expected_ac_power,
    expected_dc_power,
    performance_ratio_terms,
    underperforming_inverters,
)
from client.solar.quality import (
    DAYLIGHT_IRRADIANCE,
    TEMPERATURE_STUCK_MIN_DURATIONS,
    irradiance_channel,
    stuck_context,
    stuck_min_records,
    stuck_readings,
    stuck_temperature,
)
from client.solar.schema import STATUS, TIME
from client.solar.site_config import SolarSiteConfig
from client.solar.soiling import SoilingEstimate, soiling_loss
from client.streaming import FAILURE_KEY, chunks_with_context, with_failure_key
from client.summaries import atom_census
from protos.codec import spec_sha256
from protos.disclosure import atom_index, cohort_atoms, plant_in_cohort
from protos.domain import (
    JULIAN_YEAR,
    SOLAR_COMPONENTS,
    SOLAR_LOSS_CATEGORIES,
    SOLAR_RECORD_HOURS,
    SOLAR_RECORD_PERIOD,
)
from protos.fleetbench.v1 import spec_pb2
from protos.statistics import SOLAR_CELLS, STATISTICS, BlockKey, SpecExtent, solar_histograms

S = spec_pb2.Statistic

NORMALISATION_IRRADIANCE = 200.0
"""In-plane irradiance from which a record enters the daily normalised energy (degradation, soiling) [W/m^2]:
low-light records carry the model's largest relative errors."""

EXPECTED_CLIPPING_MARGIN = 0.98
"""Records whose expected power reaches this share of the AC capacity are left out of the daily normalised
energy: the model clips there and the degraded plant does not yet (docs/solar-facts.md) [-]."""

RECENT_DAYS = 90
"""Most days with expected energy an inverter's current condition is judged over (a shorter period's all): a
fault that began in a long period shows in them undiluted by the months before it [d]. Its shortfall is then
counted from the fault's start (client/solar/report.py: inverter_table)."""

SOILING_REALISATIONS = 50
"""RdTools soiling Monte Carlo realisations on site: the released loss is their P50, stable to ~0.05 points at 50
(client/solar/soiling.py); each costs ~25 ms, and a release computes the summary in two rounds."""

AVAILABLE, UNCATEGORISED, UNKNOWN = -1, -2, -3
"""A record's category when its inverter is available, when its status says neither available nor a loss, and
when its status is blank: information unavailable (as IEC 61400-26-1 names it for turbines), neither available
nor unavailable."""

ChunkSource = Callable[[], Iterable[pd.DataFrame]]


@dataclass
class _Sums:
    """What one pass adds up, chunk by chunk (every field sums across chunks)."""

    curve_records: np.ndarray
    curve_sum: np.ndarray
    curve_sum_squared: np.ndarray
    curve_histogram: np.ndarray
    # [kWh]: measured and reference energy of the PR, and of the PR_STC (the records with a cell temperature)
    pr_terms: np.ndarray = field(default_factory=lambda: np.zeros(4))
    daylight: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per inverter [records]
    available: np.ndarray = field(default_factory=lambda: np.zeros(0))
    clipped: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # [kWh] per (measured, expected), inverter and day, over the normalisation records
    inverter_daily: np.ndarray = field(default_factory=lambda: np.zeros((2, 0, 0)))
    records: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per inverter, any record in the period
    lost: np.ndarray = field(default_factory=lambda: np.zeros(len(SOLAR_LOSS_CATEGORIES)))  # [kWh]
    produced: float = 0.0  # [kWh]
    daily: np.ndarray = field(default_factory=lambda: np.zeros((3, 0)))  # energy, expected [kWh], insolation [Wh/m^2]
    daily_read: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per day: records the PR reads
    failures: np.ndarray = field(default_factory=lambda: np.zeros((0, len(SOLAR_COMPONENTS))))  # per inverter
    failure_records: np.ndarray = field(default_factory=lambda: np.zeros((0, len(SOLAR_COMPONENTS))))  # per inverter
    status_records: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per inverter: failures observed over
    snow: np.ndarray = field(default_factory=lambda: np.zeros(0))  # per inverter: records taken as snow-covered
    # A private spec's: records per (inverter x irradiance bin, specific-power bin), else None
    inverter_histograms: np.ndarray | None = None


@dataclass(frozen=True)
class PlantSummary:
    """One plant's figures over a spec's period: what it sends (binned) and what it keeps to compare.

    Attributes
    ----------
    curve_records, curve_sum, curve_sum_squared : ndarray
        Per irradiance bin: records, sum of specific power [kW/kWp] and of its square.
    curve_histogram : ndarray
        Records per (irradiance bin, specific-power bin).
    performance_ratio, performance_ratio_stc : float
        IEC 61724-1 PR and its temperature-corrected form over the period [-]; NaN without records, and where
        ``insolation_kwh_per_m2_day`` is below :data:`client.solar.performance.MIN_PR_INSOLATION`.
    insolation_kwh_per_m2_day : float
        The plane-of-array insolation H_i per day, over the days with records the PR reads [kWh/m^2 per day]
        (NaN without any).
    degradation : DegradationEstimate or None
        Year-on-year rate averaged with the clean-day one
        (:func:`client.solar.degradation.combined_degradation`) [%/year] and the year-on-year's interval
        moved with it; None with under two years.
    soiling : SoilingEstimate or None
        Insolation-weighted soiling loss [%]; None when RdTools finds no soiling intervals.
    clipping_share : float
        Share of daylight, available records at the AC limit [-].
    inverter_availability : ndarray
        Per inverter: available daylight records over daylight records of known status [-] (NaN without
        any): a blank status counts neither for nor against it.
    inverter_daily : ndarray
        (measured, expected) x inverter x day: each inverter's daily energy over the normalisation
        records [kWh], on the days of ``daily`` (its own, not released).
    inverter_ratio : ndarray
        Per inverter: measured over expected energy in the normalisation records of the period's last
        RECENT_DAYS [-] (its own, not released: what :func:`client.solar.performance.underperforming_inverters`
        reads).
    inverter_records : ndarray
        Per inverter: records in the period.
    lost_energy_kwh : ndarray
        Lost energy per SOLAR_LOSS_CATEGORIES [kWh]; NaN without a status column (no cause is known).
    failures, failure_hours : ndarray or None
        Per SOLAR_COMPONENTS: failures (runs of an inverter's records with the component's failure codes, across
        stretches of blank status up to :data:`client.indicators.UNKNOWN_STATUS_BRIDGE_SECONDS`) and their hours
        [h]; None when the site names no failure codes ([status.components]) or maps no status.
    failure_inverter_years : float or None
        Inverter-years with a status reading, what the failures were observed over [year]; None as ``failures``.
    snow_hours : ndarray
        Per inverter: hours without output in good light taken as snow on the modules (an export without
        status codes, :func:`client.solar.availability.snow_covered`), counted neither for nor against its
        availability [h].
    capped_curve_histogram : ndarray or None
        A private spec's: ``curve_histogram`` with each inverter's records in an irradiance bin weighing
        at most the spec's cap in total (:func:`client.privacy.cap_unit_histograms`) [record weight];
        None for a spec without privacy.
    capped_failures : CappedFailures or None
        A private spec's with a failure cap: the failures of the spec's components, in its order, their
        hours down where the spec caps those too, and ``failure_inverter_years``, each inverter's failures
        and hours counting at most their caps in total and its years at most the period's
        (:func:`cap_inverter_failures`); None otherwise.
    produced_kwh : float
        Energy produced [kWh].
    daily : DataFrame
        Per local solar day (clock time shifted by longitude / 15 h), indexed by its date at 00:00 UTC: the
        plant's measured and expected energy [kWh] over the normalisation
        records, its plane-of-array insolation [Wh/m^2], the normalised energy RdTools read (of the
        inverters :func:`client.solar.performance.underperforming_inverters` does not flag: a fault's
        step is not degradation) and the soiling ratio RdTools found.
    """

    curve_records: np.ndarray
    curve_sum: np.ndarray
    curve_sum_squared: np.ndarray
    curve_histogram: np.ndarray
    performance_ratio: float
    performance_ratio_stc: float
    insolation_kwh_per_m2_day: float
    degradation: DegradationEstimate | None
    soiling: SoilingEstimate | None
    clipping_share: float
    inverter_availability: np.ndarray
    inverter_daily: np.ndarray
    inverter_ratio: np.ndarray
    inverter_records: np.ndarray
    lost_energy_kwh: np.ndarray
    produced_kwh: float
    daily: pd.DataFrame
    failures: np.ndarray | None = None
    failure_hours: np.ndarray | None = None
    failure_inverter_years: float | None = None
    snow_hours: np.ndarray = field(default_factory=lambda: np.zeros(0))
    capped_curve_histogram: np.ndarray | None = None
    capped_failures: CappedFailures | None = None


def summarise_plant(read_chunks: ChunkSource, site: SolarSiteConfig, spec: spec_pb2.BenchmarkSpec) -> PlantSummary:
    """The plant's summary over ``spec``'s period, from one pass over its canonical 15-min chunks.

    RdTools' bootstrap is seeded from :func:`summary_key` of the spec, which a census spec's values
    spec and the values round's spec share, so both rounds see the same figures, and the summary is
    a function of the export and the spec.
    """
    solar, plant = spec.solar, site.plant
    start, end = pd.Timestamp(spec.period.start), pd.Timestamp(spec.period.end)
    # Local solar days (a plant's day does not straddle UTC midnight), counted from the local day before
    # the period's first: west of Greenwich the period opens in that day's evening.
    solar_offset = pd.Timedelta(hours=plant.longitude / 15.0)
    first_day = start - pd.Timedelta(days=1)
    n_days = math.ceil((end - first_day) / pd.Timedelta(days=1)) + 1
    irr, sp = solar.irradiance_bins, solar.specific_power_bins
    n_inv = len(site.inverters)
    dc = np.array([inverter.dc_capacity_kw for inverter in site.inverters])
    ac = np.array([inverter.ac_capacity_kw for inverter in site.inverters])
    sums = _Sums(np.zeros(irr.count), np.zeros(irr.count), np.zeros(irr.count), np.zeros((irr.count, sp.count)))
    sums.daylight, sums.available, sums.clipped = np.zeros(n_inv), np.zeros(n_inv), np.zeros(n_inv)
    sums.records, sums.inverter_daily, sums.snow = np.zeros(n_inv), np.zeros((2, n_inv, n_days)), np.zeros(n_inv)
    sums.failures, sums.status_records = np.zeros((n_inv, len(SOLAR_COMPONENTS))), np.zeros(n_inv)
    sums.failure_records = np.zeros((n_inv, len(SOLAR_COMPONENTS)))
    sums.daily, sums.daily_read = np.zeros((3, n_days)), np.zeros(n_days)
    if spec.HasField("privacy"):
        sums.inverter_histograms = np.zeros((n_inv * irr.count, sp.count))
    category_of_code = {code: i for i, c in enumerate(SOLAR_LOSS_CATEGORIES) for code in site.loss_codes.get(c, ())}
    category_of_code.update({code: AVAILABLE for code in site.available_codes})
    component_of_code = {
        code: SOLAR_COMPONENTS.index(component) for component, codes in site.component_codes.items() for code in codes
    }
    measured, min_run = irradiance_channel(site.columns), stuck_min_records(SOLAR_RECORD_PERIOD)
    temperature_runs = {
        name: stuck_min_records(SOLAR_RECORD_PERIOD, duration)
        for name, duration in TEMPERATURE_STUCK_MIN_DURATIONS.items()
        if name in site.columns
    }
    ids = pd.Index([inverter.inverter_id for inverter in site.inverters])
    context = stuck_context(min_run, temperature_runs.values())
    chunks = with_failure_key(read_chunks(), STATUS, component_of_code)
    # A failure whose records two chunks share is one, judged by each inverter's last record before.
    last_record = LastRecords.none(n_inv)
    # Each inverter's records in time order, each judged beside its neighbours either side: a stuck reading
    # is flagged as over the whole export, and counts as missing from here on, as ingest blanks an impossible one.
    for frame, frame_inverter, owned in chunks_with_context(chunks, ids, context):
        power, irradiance = (frame[name].to_numpy(dtype=np.float64) for name in ("P_out", measured))
        # Power held flat by command (a curtailment setpoint, an outage's status) is no stuck meter.
        category = _categories(frame, category_of_code)
        stuck_power, stuck_irradiance = stuck_readings(
            power, irradiance, frame_inverter, ac[frame_inverter], min_run, commanded=category != AVAILABLE
        )
        blanked = {measured: np.where(stuck_irradiance, np.nan, irradiance)}
        for name, temperature_run in temperature_runs.items():
            temperature = frame[name].to_numpy(dtype=np.float64)
            stuck = stuck_temperature(temperature, frame_inverter, blanked[measured], temperature_run)
            blanked[name] = np.where(stuck, np.nan, temperature)
        chunk = frame.assign(P_out=np.where(stuck_power, np.nan, power), **blanked)
        times = pd.DatetimeIndex(chunk[TIME])
        keep = owned & np.asarray((times >= start) & (times < end))
        if not keep.any():
            continue
        chunk, times, inverter, category = chunk[keep], times[keep], frame_inverter[keep], category[keep]
        p_out = chunk["P_out"].to_numpy(dtype=np.float64)
        if "G_i" in chunk:
            g_poa = chunk["G_i"].to_numpy(dtype=np.float64)
        else:
            g_poa = plant_plane_of_array(plant, times, chunk["G_h"].to_numpy(dtype=np.float64))
        t_cell = cell_temperature(
            g_poa,
            t_mod=_column(chunk, "T_mod"),
            t_amb=_column(chunk, "T_amb"),
            wind_speed=_column(chunk, "v_w"),
        )
        p_expected = expected_ac_power(
            expected_dc_power(g_poa, t_cell, dc[inverter], plant.gamma_pdc_per_c), ac[inverter]
        )
        # Without a status column an inverter producing nothing in good light is out, unless snow covers the
        # modules: then the weather, not the inverter, stopped it, and the record counts for neither.
        no_output = (g_poa >= NORMALISATION_IRRADIANCE) & (p_out <= 0)
        available = category == AVAILABLE if STATUS in chunk else ~no_output
        snow = (
            np.zeros(len(chunk), dtype=bool)
            if STATUS in chunk
            else snow_covered(no_output, _column(chunk, "T_mod"), _column(chunk, "T_amb"))
        )
        valid = np.isfinite(p_out) & np.isfinite(g_poa)
        # Daylight by irradiance alone: an outage that left the power blank still counts against availability.
        daylight = np.isfinite(g_poa) & (g_poa >= DAYLIGHT_IRRADIANCE) & ~snow
        # A blank status is unknown, neither for nor against availability: out of its denominator too.
        day_available, day_total = availability_terms(daylight & (category != UNKNOWN), available, inverter, n_inv)
        sums.snow += np.bincount(inverter[snow], minlength=n_inv)
        _add_curve(sums, g_poa, p_out / dc[inverter], valid & available, inverter, irr, sp)
        # Each PR over the records it can read: PR_STC's numerator too leaves out records without a temperature.
        sums.pr_terms += (
            *performance_ratio_terms(p_out[valid], g_poa[valid], SOLAR_RECORD_HOURS, dc[inverter][valid]),
            *performance_ratio_terms(
                p_out[valid],
                g_poa[valid],
                SOLAR_RECORD_HOURS,
                dc[inverter][valid],
                t_cell=t_cell[valid],
                gamma_pdc_per_c=plant.gamma_pdc_per_c,
            ),
        )
        sums.records += np.bincount(inverter, minlength=n_inv)
        sums.available += day_available
        sums.daylight += day_total
        sums.clipped += clipping_terms(p_out, ac[inverter], daylight & available, inverter, n_inv)[0]
        # Unavailable without a category (a status site.toml does not list) is lost in no category.
        sums.lost += lost_energy_by_category(
            p_expected, p_out, np.where(category >= 0, category, -1), len(SOLAR_LOSS_CATEGORIES), SOLAR_RECORD_HOURS
        )
        sums.produced += float(np.nansum(np.maximum(p_out, 0.0))) * SOLAR_RECORD_HOURS
        if STATUS in chunk:
            component = np.nan_to_num(chunk[FAILURE_KEY].to_numpy(), nan=-1).astype(np.int64)
            stamps = times.tz_convert(None).to_numpy()
            # A short stretch of blank status inside a failure does not split it, and is its time (failure_events).
            with_status = category != UNKNOWN
            events = failure_events(inverter, stamps, component, SOLAR_RECORD_PERIOD.seconds, with_status)
            continued = continues_earlier_run(events, last_record, SOLAR_RECORD_PERIOD.seconds)
            np.add.at(sums.failures, (events.asset[~continued], events.component[~continued]), 1.0)
            span = events.records + np.where(
                continued, bridged_records(events, last_record, SOLAR_RECORD_PERIOD.seconds), 0
            )
            np.add.at(sums.failure_records, (events.asset, events.component), span)
            last_record = record_last_states(last_record, inverter, stamps, component, with_status)
            sums.status_records += np.bincount(inverter[with_status], minlength=n_inv)
        normalising = (
            valid
            & available
            & (g_poa >= NORMALISATION_IRRADIANCE)
            & np.isfinite(p_expected)
            & (p_expected < EXPECTED_CLIPPING_MARGIN * ac[inverter])
        )
        energy = np.where(normalising, p_out, 0.0) * SOLAR_RECORD_HOURS
        expected = np.where(normalising, p_expected, 0.0) * SOLAR_RECORD_HOURS
        day = ((times + solar_offset - first_day) // pd.Timedelta(days=1)).to_numpy().clip(0, n_days - 1)
        cell = inverter * n_days + day
        for i, values in enumerate((energy, expected)):
            sums.inverter_daily[i] += np.bincount(cell, values, minlength=n_inv * n_days).reshape(n_inv, n_days)
        sums.daily[0] += np.bincount(day, energy, minlength=n_days)
        sums.daily[1] += np.bincount(day, expected, minlength=n_days)
        # Insolation of the plane of array, once per time: the sensor's reading repeats on every inverter's row.
        sums.daily[2] += np.bincount(day, np.where(valid, g_poa, 0.0) * SOLAR_RECORD_HOURS / n_inv, minlength=n_days)
        sums.daily_read += np.bincount(day[valid], minlength=n_days)
    return _plant_summary(sums, first_day, spec, site.has_status, bool(component_of_code))


def summary_key(spec: spec_pb2.BenchmarkSpec) -> str:
    """SHA-256 of what a plant's summary depends on in ``spec``: every field but its blocks and census hash.

    A census round's site computes the summary for the values spec its census spec decides
    (:func:`protos.census.values_spec_of`, no blocks), the values round for the values spec itself:
    the same key, so the same seed and the same figures.
    """
    bare = spec_pb2.BenchmarkSpec()
    bare.CopyFrom(spec)
    del bare.blocks[:]
    bare.ClearField("census_of_sha256")
    return spec_sha256(bare)


def _column(chunk: pd.DataFrame, name: str) -> np.ndarray | None:
    return chunk[name].to_numpy(dtype=np.float64) if name in chunk else None


def _categories(chunk: pd.DataFrame, category_of_code: dict[int, int]) -> np.ndarray:
    """Each record's loss category (index into SOLAR_LOSS_CATEGORIES), AVAILABLE, or UNCATEGORISED.

    A record whose status is a code site.toml does not list is unavailable, without a category; one
    whose status is blank is UNKNOWN; without a status column every record is AVAILABLE here (the
    caller judges by power).
    """
    if STATUS not in chunk:
        return np.full(len(chunk), AVAILABLE)
    status = chunk[STATUS].to_numpy(dtype=np.float64)
    category = np.where(np.isnan(status), UNKNOWN, UNCATEGORISED)
    for code, i in category_of_code.items():
        category[status == code] = i
    return category


def _add_curve(
    sums: _Sums,
    g_poa: np.ndarray,
    specific_power: np.ndarray,
    kept: np.ndarray,
    inverter: np.ndarray,
    irr: spec_pb2.BinGrid,
    sp: spec_pb2.BinGrid,
) -> None:
    """Add a chunk's energy-normalised curve: records, sums and histogram per irradiance bin.

    The grid starts at daylight (records below its first bin are left out) and its last bin holds
    every record above it, as the spec states. A private spec's histogram is also kept per inverter.
    """
    on_grid = kept & (g_poa >= irr.first_centre - irr.width / 2)
    irr_bin = np.where(on_grid, clipped_bin_index(g_poa, irr.first_centre, irr.width, irr.count), -1)
    count, _, total, squares = bin_power_curve(irr_bin, g_poa, specific_power, irr.count)
    sums.curve_records += count
    sums.curve_sum += total
    sums.curve_sum_squared += squares
    power_bin = clipped_bin_index(specific_power, sp.first_centre, sp.width, sp.count)
    sums.curve_histogram += power_histogram(irr_bin, power_bin, irr.count, sp.count)
    if sums.inverter_histograms is not None:
        row = np.where(irr_bin >= 0, inverter * irr.count + irr_bin, -1)
        sums.inverter_histograms += power_histogram(row, power_bin, len(sums.inverter_histograms), sp.count)


def _plant_summary(
    sums: _Sums,
    first_day: pd.Timestamp,
    spec: spec_pb2.BenchmarkSpec,
    has_status: bool,
    names_failures: bool,
) -> PlantSummary:
    """The plant's figures from its sums: the ratios, and RdTools' estimates from the daily series."""
    # Each day labelled by its local solar date (at 00:00 UTC), as the records were binned: a plant east of
    # Greenwich starts its day the UTC evening before, whose date would read a day early.
    days = pd.date_range(first_day, periods=sums.daily.shape[1], freq="D").as_unit("ns")
    daily = pd.DataFrame({"energy": sums.daily[0], "expected": sums.daily[1], "insolation": sums.daily[2]}, index=days)
    inverter_ratio = _recent_ratio(sums.inverter_daily)
    # An inverter that lost strings mid-period is a fault, not wear: its step would read as degradation.
    healthy = ~underperforming_inverters(inverter_ratio)
    observed = has_status and names_failures
    measured_kwh, expected_kwh = sums.inverter_daily[:, healthy if healthy.any() else slice(None)].sum(axis=1)
    normalised = daily_normalised_energy(pd.Series(measured_kwh, index=days), pd.Series(expected_kwh, index=days))
    daily["normalised"] = normalised
    rng = np.random.default_rng(int(summary_key(spec)[:16], 16))
    soiling = soiling_loss(normalised, daily["insolation"], rng, reps=SOILING_REALISATIONS)
    # Soiling divided out first: a sawtooth of cleanings out of step with the year biases year-on-year pairs.
    daily["soiling_ratio"] = soiling.daily_ratio if soiling else np.nan
    desoiled = normalised / daily["soiling_ratio"].fillna(1.0)
    measured, reference, measured_stc, reference_stc = sums.pr_terms
    read = sums.daily_read > 0
    insolation = sums.daily[2, read].sum() / 1000.0 / read.sum() if read.any() else math.nan  # [kWh/m^2 per day]
    # A PR of almost no light is the ratio of two sums the sensor's offset and the night's consumption dominate.
    lit = insolation >= MIN_PR_INSOLATION
    inverter_years = sums.status_records * (SOLAR_RECORD_PERIOD / JULIAN_YEAR)
    with np.errstate(invalid="ignore", divide="ignore"):
        return PlantSummary(
            curve_records=sums.curve_records,
            curve_sum=sums.curve_sum,
            curve_sum_squared=sums.curve_sum_squared,
            curve_histogram=sums.curve_histogram,
            performance_ratio=measured / reference if reference > 0 and lit else math.nan,
            performance_ratio_stc=measured_stc / reference_stc if reference_stc > 0 and lit else math.nan,
            insolation_kwh_per_m2_day=insolation,
            degradation=combined_degradation(
                year_on_year_degradation(desoiled, rng, spec.solar.degradation_confidence_level),
                clean_day_year_on_year(desoiled, soiling.clean_starts) if soiling else None,
            ),
            soiling=soiling,
            clipping_share=float(sums.clipped.sum() / sums.available.sum()) if sums.available.sum() else math.nan,
            inverter_availability=np.where(sums.daylight > 0, sums.available / sums.daylight, np.nan),
            inverter_daily=sums.inverter_daily,
            inverter_ratio=inverter_ratio,
            inverter_records=sums.records,
            lost_energy_kwh=sums.lost if has_status else np.full(len(sums.lost), np.nan),
            produced_kwh=sums.produced,
            daily=daily,
            failures=sums.failures.sum(axis=0) if observed else None,
            failure_hours=sums.failure_records.sum(axis=0) * SOLAR_RECORD_HOURS if observed else None,
            failure_inverter_years=float(inverter_years.sum()) if observed else None,
            snow_hours=sums.snow * SOLAR_RECORD_HOURS,
            capped_curve_histogram=_capped_curve_histogram(sums.inverter_histograms, spec),
            capped_failures=(
                cap_inverter_failures(sums.failures, sums.failure_records, inverter_years, spec) if observed else None
            ),
        )


def _capped_curve_histogram(inverter_histograms: np.ndarray | None, spec: spec_pb2.BenchmarkSpec) -> np.ndarray | None:
    """The plant's curve histogram with each inverter's weight per irradiance bin capped (private specs)."""
    if inverter_histograms is None:
        return None
    irr, sp = spec.solar.irradiance_bins.count, spec.solar.specific_power_bins.count
    per_inverter = inverter_histograms.reshape(-1, irr, sp)
    exponent = STATISTICS[S.CAPPED_SPECIFIC_POWER_HISTOGRAM].scale_exponent
    return cap_unit_histograms(per_inverter, spec.privacy.max_records_per_turbine_per_bin, exponent).sum(axis=0)


class CappedFailures(NamedTuple):
    """A plant's failures, hours down and inverter-years as a private spec counts them, each inverter's capped."""

    failures: np.ndarray  # per component of the spec, in its order [failures]
    downtime_hours: np.ndarray | None  # the same, hours down [h]; None where the spec does not cap downtime
    inverter_years: float  # [year]


def cap_inverter_failures(
    inverter_failures: np.ndarray,
    inverter_failure_records: np.ndarray,
    inverter_years: np.ndarray,
    spec: spec_pb2.BenchmarkSpec,
) -> CappedFailures | None:
    """The plant's failures and hours down per component of the spec and its inverter-years, each inverter's bounded.

    Each inverter's failures of the spec's components (the only ones it publishes) are scaled down in
    proportion to at most the spec's cap C in total, on the block's fixed-point grid
    (:func:`client.privacy.cap_unit_histograms`, one row per inverter), so its share of the encoded sum
    stays within C; its hours down likewise within the spec's H, where it sets one (as whole 15-min
    records, 4 H of them, on the grid of the block's hours); its years within the period's, rounded down
    to their grid too (:func:`protos.privacy.failure_l2_sensitivity`). Failures of components the spec does
    not list neither count nor take a share of a cap.

    Parameters
    ----------
    inverter_failures : ndarray
        Failures per (inverter, SOLAR_COMPONENTS) [failures].
    inverter_failure_records : ndarray
        15-min records with a failure's status per (inverter, SOLAR_COMPONENTS) [records].
    inverter_years : ndarray
        Per inverter, the time its status was recorded [year].
    spec : BenchmarkSpec
        The private solar spec (its ``privacy.max_failures_per_inverter``,
        ``privacy.max_downtime_hours_per_inverter`` and components).

    Returns
    -------
    CappedFailures or None
        None where the spec does not bound failures.
    """
    cap = spec.privacy.max_failures_per_inverter
    if not cap:
        return None
    components = spec.solar.components

    def listed(per_inverter: np.ndarray) -> np.ndarray:
        return in_spec_order(per_inverter.T, SOLAR_COMPONENTS, components, "components").T

    capped = cap_unit_histograms(listed(inverter_failures), cap, STATISTICS[S.SOLAR_FAILURE_COUNT].scale_exponent)
    downtime = None
    if hours_cap := spec.privacy.max_downtime_hours_per_inverter:
        records_per_hour = round(1.0 / SOLAR_RECORD_HOURS)  # 4: the grid in records is 4 times the hours'
        exponent = STATISTICS[S.SOLAR_FAILURE_DOWNTIME].scale_exponent - int(math.log2(records_per_hour))
        records = cap_unit_histograms(listed(inverter_failure_records), hours_cap * records_per_hour, exponent)
        downtime = records.sum(axis=0) * SOLAR_RECORD_HOURS
    years = np.minimum(inverter_years, SpecExtent.of(spec).max_years_per_inverter)
    grid = math.ldexp(1.0, STATISTICS[S.INVERTER_YEARS].scale_exponent)  # each inverter's, exactly, as the failures
    return CappedFailures(capped.sum(axis=0), downtime, float((np.floor(years * grid) / grid).sum()))


def _recent_ratio(inverter_daily: np.ndarray) -> np.ndarray:
    """Each inverter's measured over expected energy over the last RECENT_DAYS days with any (NaN without)."""
    measured, expected = inverter_daily
    days = np.flatnonzero(expected.sum(axis=0) > 0)[-RECENT_DAYS:]
    with np.errstate(invalid="ignore", divide="ignore"):
        return measured[:, days].sum(axis=1) / expected[:, days].sum(axis=1)


def plant_cells(summary: PlantSummary) -> dict[str, float]:
    """Each SOLAR_CELLS cell the plant has a figure in: the census's count (1 plant, or its inverters)."""
    cells = {
        "performance_ratio": math.isfinite(summary.performance_ratio),
        "performance_ratio_stc": math.isfinite(summary.performance_ratio_stc),
        "degradation_rate": summary.degradation is not None,
        "degradation_interval": summary.degradation is not None,
        "soiling_loss": summary.soiling is not None,
        "clipping_share": math.isfinite(summary.clipping_share),
    }
    counts = {cell: float(present) for cell, present in cells.items()}
    counts["inverter_availability"] = float(np.isfinite(summary.inverter_availability).sum())
    counts["lost_production"] = float(np.isfinite(lost_production_shares(summary)).all())
    observed = summary.failure_inverter_years is not None and summary.failure_inverter_years > 0
    counts["failures"] = float((summary.inverter_records > 0).sum()) if observed else 0.0
    return counts


def lost_production_shares(summary: PlantSummary) -> np.ndarray:
    """The energy the plant lost to each loss category, share of its potential production (actual + lost) [%].

    NaN for every category of a plant with no potential production in the period.
    """
    potential = summary.produced_kwh + summary.lost_energy_kwh.sum()
    if potential <= 0:
        return np.full(len(summary.lost_energy_kwh), np.nan)
    return 100.0 * summary.lost_energy_kwh / potential


def plant_values(summary: PlantSummary) -> dict[str, float]:
    """The value of each plant distribution the plant is in (NaN where it has none)."""
    degradation = summary.degradation
    return {
        "performance_ratio": summary.performance_ratio,
        "performance_ratio_stc": summary.performance_ratio_stc,
        "degradation_rate": degradation.rate_pct_per_year if degradation else math.nan,
        "degradation_interval": degradation.ci_high - degradation.ci_low if degradation else math.nan,
        "soiling_loss": summary.soiling.loss_pct if summary.soiling else math.nan,
        "clipping_share": summary.clipping_share,
    }


def _one_count(value: float, grid: spec_pb2.BinGrid) -> np.ndarray:
    """A histogram with one count in the bin of ``value`` (end bins for values beyond the grid); none for NaN."""
    counts = np.zeros(grid.count)
    if math.isfinite(value):
        counts[clipped_bin_index(np.array([value]), grid.first_centre, grid.width, grid.count)[0]] = 1.0
    return counts


def in_spec_order(values: np.ndarray, known: tuple[str, ...], wanted: Sequence[str], what: str) -> np.ndarray:
    """``values`` (one per name of ``known``) in the order of the spec's names ``wanted``.

    Raises
    ------
    ValueError
        Naming the spec's ``what`` (loss categories, components) this site does not know, or names more than
        once: a name repeated k times would send the plant's figure k times, sqrt(k) times the sensitivity a
        private spec is charged for.
    """
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise ValueError(f"the spec names {what} {unknown} this site does not know; it knows {list(known)}")
    repeated = sorted({name for name in wanted if list(wanted).count(name) > 1})
    if repeated:
        raise ValueError(f"the spec names {what} {repeated} more than once; each may appear once")
    return values[[known.index(name) for name in wanted]]


def _failure_blocks(summary: PlantSummary, solar: spec_pb2.SolarSpec) -> dict[spec_pb2.Statistic, np.ndarray]:
    """The plant's failures and their hours per component of the spec, and its inverter-years (zeros unobserved).

    A private spec's with a failure cap are the capped ones (:attr:`PlantSummary.capped_failures`), its hours
    down too where it caps them.
    """
    n = len(solar.components)
    failures, years = summary.failures, summary.failure_inverter_years
    if failures is None or summary.failure_hours is None or not years:
        return {
            S.SOLAR_FAILURE_COUNT: np.zeros(n),
            S.SOLAR_FAILURE_DOWNTIME: np.zeros(n),
            S.INVERTER_YEARS: np.zeros(1),
        }
    failures = in_spec_order(failures, SOLAR_COMPONENTS, solar.components, "components")
    hours = in_spec_order(summary.failure_hours, SOLAR_COMPONENTS, solar.components, "components")
    capped = summary.capped_failures
    if capped is not None:  # already in the spec's order
        failures, years = capped.failures, capped.inverter_years
        # Uncapped hours are never sent in a private spec: it has no downtime block unless it caps them.
        hours = capped.downtime_hours if capped.downtime_hours is not None else np.zeros(n)
    return {S.SOLAR_FAILURE_COUNT: failures, S.SOLAR_FAILURE_DOWNTIME: hours, S.INVERTER_YEARS: np.array([years])}


def solar_blocks(
    summary: PlantSummary, site: SolarSiteConfig, spec: spec_pb2.BenchmarkSpec
) -> tuple[dict[BlockKey, np.ndarray], dict[BlockKey, np.ndarray]]:
    """The plant's values and census blocks for solar spec ``spec``: its figures in each cohort it is in."""
    plant = site.plant
    member = np.array(
        [
            plant_in_cohort(c, plant.module_technology, plant.mounting, plant.climate_zone, site.dc_ac_ratio)
            for c in spec.cohorts
        ]
    )
    solar = spec.solar
    cells = plant_cells(summary)
    cell_counts = np.array([cells[cell] for cell in SOLAR_CELLS])
    figures = plant_values(summary)
    histograms = solar_histograms(solar)
    availability_counts = np.zeros(solar.availability_bins.count)
    finite = np.isfinite(summary.inverter_availability)
    grid = solar.availability_bins
    np.add.at(
        availability_counts,
        clipped_bin_index(summary.inverter_availability[finite], grid.first_centre, grid.width, grid.count),
        1.0,
    )
    shares = in_spec_order(lost_production_shares(summary), SOLAR_LOSS_CATEGORIES, solar.loss_categories, "causes")
    lost = np.stack([_one_count(share, solar.lost_production_bins) for share in shares])
    plant_blocks = {
        S.IRRADIANCE_RECORD_COUNT: summary.curve_records,
        S.SUM_SPECIFIC_POWER: summary.curve_sum,
        S.SUM_SPECIFIC_POWER_SQUARED: summary.curve_sum_squared,
        S.SPECIFIC_POWER_HISTOGRAM: summary.curve_histogram,
        S.IRRADIANCE_BIN_CONTRIBUTOR: (summary.curve_records > 0).astype(np.float64),
        **{
            statistic: availability_counts if cell == "inverter_availability" else _one_count(figures[cell], grid)
            for cell, (statistic, grid) in histograms.items()
        },
        S.SOLAR_LOST_PRODUCTION: lost,
        **_failure_blocks(summary, solar),
        S.SOLAR_CONTRIBUTOR: (cell_counts > 0).astype(np.float64),
    }
    if summary.capped_curve_histogram is not None:
        plant_blocks[S.CAPPED_SPECIFIC_POWER_HISTOGRAM] = summary.capped_curve_histogram
    values = {
        BlockKey(cohort.name, statistic): block if member[c] else np.zeros_like(block)
        for c, cohort in enumerate(spec.cohorts)
        for statistic, block in plant_blocks.items()
    }
    atoms = cohort_atoms(spec.cohorts)
    atom = atom_index(member[None, :], atoms)[0]
    n_atoms = len(atoms)
    per_atom_records = np.zeros((n_atoms, solar.irradiance_bins.count))
    per_atom_cells = np.zeros((n_atoms, len(SOLAR_CELLS)))
    if atom >= 0:
        per_atom_records[atom] = summary.curve_records
        per_atom_cells[atom] = cell_counts
    cohort_records = member[:, None] * summary.curve_records[None, :]
    cohort_cells = member[:, None] * cell_counts[None, :]
    census = {
        BlockKey("", S.IRRADIANCE_CENSUS): atom_census(per_atom_records, cohort_records),
        BlockKey("", S.SOLAR_CENSUS): atom_census(per_atom_cells, cohort_cells),
    }
    return values, census
