"""Differential-privacy accounting, the same on both ends.

The aggregator calibrates a spec's noise with these functions; every site recomputes what the spec
costs it from the spec's sensitivities and noise, checks the sensitivity against the bound it
enforces itself, and keeps the cost in its own ledger. Privacy is zero-concentrated DP (zCDP,
Bun and Steinke 2016, doi:10.1007/978-3-662-53641-4_24), composed and converted to
(epsilon, delta) by Google's dp-accounting (its RDP accountant).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import NamedTuple

from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.statistics import SOLAR_DISTRIBUTIONS, STATISTICS, BlockKey, SpecExtent, site_noise_stddev

S = spec_pb2.Statistic
PRIVACY_UNITS = {"wind": "turbine", "solar": "inverter"}
"""A site's kind -> the privacy unit its private specs protect."""
# The private curve's estimator (server/private_curve.py) finds a bin's records in its noisy row by
# summing the noisy counts over boxes of WINDOW_BOX_CELLS cells: a bin publishes nothing unless its
# densest box stands WINDOW_PEAK_STDDEVS box-noise standard deviations above zero.
WINDOW_BOX_CELLS = 11
WINDOW_PEAK_STDDEVS = 4.5


PLANT_DISTRIBUTION_STATISTICS = tuple(SOLAR_DISTRIBUTIONS.values())
"""The solar distributions a private solar spec may noise besides its curve: in every row of each (one
histogram; lost production: one per cause) a plant counts once, an inverter once in the availability."""

PRIVATE_FAILURE_STATISTICS = (S.SOLAR_FAILURE_COUNT, S.INVERTER_YEARS)
"""What a private solar spec with a failure cap (``max_failures_per_inverter``) noises for its failure rates: the
failures per component, each inverter's capped, and the inverter-years they were observed over."""

PRIVATE_DOWNTIME_STATISTIC = S.SOLAR_FAILURE_DOWNTIME
"""What such a spec noises besides when it caps downtime too (``max_downtime_hours_per_inverter``): the hours
down per component, each inverter's capped."""

OPERATOR_SIZES = (10, 50, 100)
"""Operators' sizes [privacy units] whose group privacy a private release states."""


class CappedCurve(NamedTuple):
    """What a private spec of one kind bounds and noises."""

    privacy_unit: str  # "turbine" or "inverter"
    statistic: spec_pb2.Statistic  # the capped histogram, the only noised block
    rows: int  # the bins a unit's weight is capped in: wind-speed or irradiance bins


def capped_curve(spec: spec_pb2.BenchmarkSpec) -> CappedCurve:
    """The privacy unit, capped histogram and capped rows of a (private) spec, by its kind: wind or solar."""
    if spec.HasField("solar"):
        return CappedCurve(PRIVACY_UNITS["solar"], S.CAPPED_SPECIFIC_POWER_HISTOGRAM, spec.solar.irradiance_bins.count)
    return CappedCurve(PRIVACY_UNITS["wind"], S.CAPPED_POWER_HISTOGRAM, spec.wind_speed_bins.count)


def noised_distributions(spec: spec_pb2.BenchmarkSpec) -> dict[str, spec_pb2.Statistic]:
    """The plant distributions a private solar spec publishes, noised, by name (none without a distribution share)."""
    noised = {b.statistic for b in spec.blocks if b.statistic in PLANT_DISTRIBUTION_STATISTICS and b.noise_stddev > 0}
    return {name: statistic for name, statistic in SOLAR_DISTRIBUTIONS.items() if statistic in noised}


def capped_histogram_l2_sensitivity(max_records_per_turbine_per_bin: int, n_wind_speed_bins: int) -> float:
    """L2 sensitivity of one cohort's capped histogram to one privacy unit (turbine, inverter) [record weight].

    A unit's records in one wind-speed (irradiance) bin weigh at most c in total, so that row of its
    histogram has L1 norm, hence L2 norm, at most c; over B bins the L2 norm is at most c sqrt(B),
    whatever the unit's data.

    Parameters
    ----------
    max_records_per_turbine_per_bin : int
        The cap c [records].
    n_wind_speed_bins : int
        B, the number of wind-speed (a solar spec: irradiance) bins of the spec.
    """
    return max_records_per_turbine_per_bin * math.sqrt(n_wind_speed_bins)


def private_failure_statistics(privacy: spec_pb2.DifferentialPrivacy) -> tuple[spec_pb2.Statistic, ...]:
    """What a private solar spec with these settings noises for its failure rates, in payload order (none uncapped)."""
    if not privacy.max_failures_per_inverter:
        return ()
    downtime = (PRIVATE_DOWNTIME_STATISTIC,) if privacy.max_downtime_hours_per_inverter else ()
    return PRIVATE_FAILURE_STATISTICS + downtime


def failure_l2_sensitivity(
    statistic: spec_pb2.Statistic, privacy: spec_pb2.DifferentialPrivacy, years_per_inverter: float
) -> float:
    """L2 sensitivity of one cohort's failure block to one inverter [failures; year; h].

    Capped, an inverter's failures over the components sum to at most C (:func:`client.privacy.cap_unit_histograms`
    over its row), so adding or removing it moves the failures block by an L1 norm, hence an L2 norm, of at
    most C; its hours down, capped alike, by at most H; its inverter-years are its records' time, at most
    the period's Y. Its plant's other inverters' failures, hours and years are their own.
    tests/simulations/test_solar_private_release.py removes an inverter and measures all three.

    Parameters
    ----------
    statistic : Statistic
        One of :func:`private_failure_statistics`.
    privacy : DifferentialPrivacy
        The spec's settings: C, ``max_failures_per_inverter`` [failures], and H,
        ``max_downtime_hours_per_inverter`` [h].
    years_per_inverter : float
        Y, the period's 15-min records' time (:class:`protos.statistics.SpecExtent`) [year].

    Returns
    -------
    float
        C for SOLAR_FAILURE_COUNT [failures], Y for INVERTER_YEARS [year], H for SOLAR_FAILURE_DOWNTIME [h].

    Raises
    ------
    ValueError
        For any statistic the settings do not bound.
    """
    if statistic not in private_failure_statistics(privacy):
        raise ValueError(
            f"{S.Name(statistic)} is not a failure statistic these privacy settings bound; expected one of "
            f"{[S.Name(s) for s in private_failure_statistics(privacy)]}"
        )
    if statistic == S.SOLAR_FAILURE_COUNT:
        return float(privacy.max_failures_per_inverter)
    if statistic == S.INVERTER_YEARS:
        return years_per_inverter
    return float(privacy.max_downtime_hours_per_inverter)


def private_failure_rates(spec: spec_pb2.BenchmarkSpec) -> bool:
    """Whether a private solar spec noises, and so publishes, its failure rates (it bounds failures per inverter)."""
    return any(b.statistic == S.SOLAR_FAILURE_COUNT and b.noise_stddev > 0 for b in spec.blocks)


def private_downtime(spec: spec_pb2.BenchmarkSpec) -> bool:
    """Whether a private solar spec noises, and so publishes, its failures' downtime (it bounds hours per inverter)."""
    return any(b.statistic == PRIVATE_DOWNTIME_STATISTIC and b.noise_stddev > 0 for b in spec.blocks)


def distribution_l2_sensitivity(rows: int) -> float:
    """L2 sensitivity of one cohort's plant-distribution block to one inverter [plants, inverters].

    A plant puts one count in each row of the block (an inverter one in the availability histogram).
    Adding, removing or changing one inverter changes its plant's figures: each row's count moves from
    one bar to another (L2 norm sqrt(2)), or appears or disappears (1). Over the rows the L2 norm is at
    most sqrt(2 rows), whatever the plant's data. tests/simulations/test_solar_private_release.py
    removes an inverter from a plant and measures it.

    Parameters
    ----------
    rows : int
        The histograms of the block: 1, or a lost-production block's causes.
    """
    return math.sqrt(2.0 * rows)


def block_rho(l2_sensitivity: float, noise_stddev: float, min_noise_sites: int, size: int) -> float:
    """The zCDP rho of one noised block, against a participant that subtracts its own noise.

    The n = t - 1 other sites add independent discrete Gaussians of scale sigma_s each. Their sum
    is not exactly a discrete Gaussian; Kairouz, Liu and Steinke (2021), "The Distributed
    Discrete Gaussian Mechanism", Proposition 14, bound its Renyi DP of order alpha by
    alpha / 2 * Delta^2 / (n sigma_s^2) + tau d, tau = 10 sum_{k=1}^{n-1} exp(-2 pi^2 sigma_s^2 k / (k+1)),
    for a d-element block. Since alpha >= 1, that is at most alpha (rho + tau d): rho + tau d zCDP.

    Parameters
    ----------
    l2_sensitivity : float
        Delta [block unit, fixed-point units when the block is scaled].
    noise_stddev : float
        sigma, in the same unit.
    min_noise_sites : int
        t (see :func:`protos.statistics.site_noise_stddev`).
    size : int
        d, the number of elements of the block.
    """
    if l2_sensitivity <= 0 or noise_stddev <= 0:
        raise ValueError(
            f"a noised block needs l2_sensitivity > 0 and noise_stddev > 0, got {l2_sensitivity}, {noise_stddev}"
        )
    n = min_noise_sites - 1
    sigma_site = site_noise_stddev(noise_stddev, min_noise_sites)
    tau = 10.0 * sum(math.exp(-2.0 * math.pi**2 * sigma_site**2 * k / (k + 1)) for k in range(1, n))
    return l2_sensitivity**2 / (2.0 * n * sigma_site**2) + tau * size


def min_private_participants(min_noise_sites: int, colluding_members: int) -> int:
    """The fewest sites a private spec's round may sum: t - 1 + c, and never fewer than t.

    Each site adds sigma / sqrt(t - 1) of noise (t = ``min_noise_sites``,
    :func:`protos.statistics.site_noise_stddev`), and the spec's rho (:func:`block_rho`) holds for
    the noise of t - 1 shares. Each of the c (``colluding_members``) members on the aggregator's
    side knows its own share and can subtract it: of n sites' shares, n - c stay on a site's values
    (its own included), which is t - 1 or more only when n >= t - 1 + c. With c = 1 that is t, as
    the contract's split assumes; c = 0 still takes t, the spec's own minimum.

    One rule for both ends: each site applies it with its policy's ``max_colluding_members``
    (client/guard.py), the aggregator with its run config ``max-colluding-members``, to decline
    a round before the sites would refuse it (server/secure_sum.py).
    """
    return max(min_noise_sites, min_noise_sites - 1 + colluding_members)


def enforced_l2_sensitivity(spec: spec_pb2.BenchmarkSpec, block: spec_pb2.Block) -> float:
    """The L2 sensitivity a site's own enforcement gives ``block``, to check the spec's claim against.

    Raises
    ------
    ValueError
        If the spec asks for noise on a statistic no site bounds per privacy unit.
    """
    capped = capped_curve(spec)
    if block.statistic == capped.statistic:
        return capped_histogram_l2_sensitivity(spec.privacy.max_records_per_turbine_per_bin, capped.rows)
    solar = spec.HasField("solar")
    if solar and block.statistic in PLANT_DISTRIBUTION_STATISTICS:
        rows = len(spec.solar.loss_categories) if block.statistic == S.SOLAR_LOST_PRODUCTION else 1
        return distribution_l2_sensitivity(rows)
    failure_statistics = private_failure_statistics(spec.privacy) if solar else ()
    if block.statistic in failure_statistics:
        return failure_l2_sensitivity(block.statistic, spec.privacy, SpecExtent.of(spec).max_years_per_inverter)
    private = [capped.statistic, *(PLANT_DISTRIBUTION_STATISTICS if solar else ()), *failure_statistics]
    raise ValueError(
        f"block {BlockKey.of(block)} asks for noise, but sites bound no privacy unit's contribution to it; "
        f"only {', '.join(S.Name(s) for s in private)} can be differentially private in a spec of this kind"
    )


def spec_rho(spec: spec_pb2.BenchmarkSpec) -> float:
    """The zCDP rho one release of ``spec`` costs each privacy unit (0 for a spec without privacy).

    Checked, not trusted: every noised block's sensitivity must be at least what the sites
    enforce, and a private spec may carry no block without noise but census inputs
    (protos/statistics.py), which decide suppression and are never published.

    Raises
    ------
    ValueError
        Naming the block or setting that makes the spec's privacy claim wrong.
    """
    if not spec.HasField("privacy"):
        if any(block.noise_stddev > 0 for block in spec.blocks):
            raise ValueError(f"spec {spec.spec_id} has noised blocks but no privacy settings")
        return 0.0
    privacy = spec.privacy
    unit = capped_curve(spec).privacy_unit
    if privacy.privacy_unit != unit:
        raise ValueError(f"privacy_unit {privacy.privacy_unit!r} is not supported for this spec; use {unit!r}")
    if privacy.max_records_per_turbine_per_bin < 1:
        raise ValueError("privacy.max_records_per_turbine_per_bin must be at least 1")
    banded = [c.name for c in spec.cohorts if c.dc_ac_ratio_min or c.dc_ac_ratio_max]
    if spec.HasField("solar") and banded:
        # A plant's DC/AC ratio is its inverters' sums: one inverter more or less can move the plant, every
        # inverter's records with it, from one band's cohort to another's, far past any per-inverter bound.
        raise ValueError(
            f"cohort(s) {banded} band plants by DC/AC ratio, which one inverter can change: a private spec "
            "cannot have a DC/AC band (use technology, mounting or climate zone)"
        )
    rho = 0.0
    for block in spec.blocks:
        name = BlockKey.of(block).name
        if block.noise_stddev <= 0:
            if not STATISTICS[block.statistic].census:
                raise ValueError(f"private spec {spec.spec_id} sends block {name} without noise")
            continue
        enforced = enforced_l2_sensitivity(spec, block)
        if block.l2_sensitivity < enforced * (1 - 1e-12):
            raise ValueError(
                f"block {name} states l2_sensitivity {block.l2_sensitivity:g}, below the {enforced:g} the sites enforce"
            )
        scale = math.ldexp(1.0, block.scale_exponent)  # the noise is drawn on the fixed-point integers
        size = math.prod(block.shape)
        rho += block_rho(block.l2_sensitivity * scale, block.noise_stddev * scale, privacy.min_noise_sites, size)
    return rho


def cell_noise_stddev(spec: spec_pb2.BenchmarkSpec, cohort: str, statistic: spec_pb2.Statistic | None = None) -> float:
    """sigma, the noise a private spec states for each cell of ``cohort``'s block of ``statistic``.

    ``statistic`` defaults to the capped histogram [record weight]; a plant distribution's is in plants
    (inverters). 0 when the spec does not noise that block.
    """
    statistic = capped_curve(spec).statistic if statistic is None else statistic
    return next((b.noise_stddev for b in spec.blocks if b.cohort == cohort and b.statistic == statistic), 0.0)


def summed_noise_stddev(
    spec: spec_pb2.BenchmarkSpec, cohort: str, participants: int, statistic: spec_pb2.Statistic | None = None
) -> float:
    """Standard deviation of the noise on each cell of a cohort's summed block (default: its capped histogram).

    Each participant adds noise of variance sigma^2 / (t - 1) (t = min_noise_sites), so the sum of
    ``participants`` shares carries participants / (t - 1) sigma^2.
    """
    sigma = cell_noise_stddev(spec, cohort, statistic)
    return sigma * math.sqrt(participants / (spec.privacy.min_noise_sites - 1))


def distribution_units_needed(
    spec: spec_pb2.BenchmarkSpec, cohort: str, participants: int, statistic: spec_pb2.Statistic
) -> int:
    """The plants (inverters) a cohort's private distribution needs before they can stand out from its noise.

    :func:`min_publishable_weight` of the noise ``participants`` sites put on each bar of ``cohort``'s
    block of ``statistic``, rounded up (counts are whole); 0 where the spec does not noise that block.
    """
    noise = summed_noise_stddev(spec, cohort, participants, statistic)
    return math.ceil(min_publishable_weight(noise)) if noise > 0 else 0


def failure_inverters_needed(spec: spec_pb2.BenchmarkSpec, cohort: str, participants: int) -> int:
    """The inverters a cohort's private failure rates need before their inverter-years stand out from the noise.

    Their observed time must exceed WINDOW_PEAK_STDDEVS standard deviations of the noise ``participants``
    sites put on the summed inverter-years, with each inverter observed the whole period (at most Y).

    Parameters
    ----------
    spec : BenchmarkSpec
        The private solar spec.
    cohort : str
        The cohort's name.
    participants : int
        The sites summed.

    Returns
    -------
    int
        The inverters needed, rounded up [inverters]; 0 where the spec does not noise failures.
    """
    noise = summed_noise_stddev(spec, cohort, participants, S.INVERTER_YEARS)
    if noise <= 0:
        return 0
    return math.ceil(WINDOW_PEAK_STDDEVS * noise / SpecExtent.of(spec).max_years_per_inverter)


def min_publishable_weight(summed_cell_noise_stddev: float) -> float:
    """The least record weight a bin must hold before the private curve can publish anything of it [record weight].

    A necessary condition, not a sufficient one: the estimator publishes a bin only where its densest
    box of WINDOW_BOX_CELLS cells exceeds WINDOW_PEAK_STDDEVS times the box's noise s sqrt(k), which
    the bin's whole weight must then exceed too.

    Parameters
    ----------
    summed_cell_noise_stddev : float
        s, the noise on each cell of the summed histogram (:func:`summed_noise_stddev`) [record weight].
    """
    return WINDOW_PEAK_STDDEVS * summed_cell_noise_stddev * math.sqrt(WINDOW_BOX_CELLS)


def stated_privacy(spec: spec_pb2.BenchmarkSpec) -> release_pb2.PrivacyParameters:
    """What a private spec's release states of the privacy it gives each unit, all but its note.

    Every figure follows from the spec alone, so the aggregator states it (``server.private_curve.
    privacy_parameters``, which adds the note) and a site recomputes it to check the release's word
    (``client.release_check``): the unit, the spec's rho and its (epsilon, delta), the cap and the noise
    sites, sigma per cohort, and an operator's epsilon for each of OPERATOR_SIZES.
    """
    rho = spec_rho(spec)
    privacy = spec.privacy
    stated = release_pb2.PrivacyParameters(
        privacy_unit=privacy.privacy_unit,
        rho=rho,
        epsilon=composed_epsilon([rho], privacy.delta),
        delta=privacy.delta,
        max_records_per_turbine_per_bin=privacy.max_records_per_turbine_per_bin,
        min_noise_sites=privacy.min_noise_sites,
    )
    for cohort in spec.cohorts:
        stated.cell_noise_stddev[cohort.name] = cell_noise_stddev(spec, cohort.name)
    for units in OPERATOR_SIZES:
        # Group privacy: a group of T units is (T^2 rho)-zCDP (Bun and Steinke 2016, proposition 1.9).
        stated.operator_epsilon[units] = composed_epsilon([rho * units**2], privacy.delta)
    return stated


def composed_epsilon(rhos: Iterable[float], delta: float) -> float:
    """(epsilon, delta)-DP of releases of zCDP rho_i each, composed by dp-accounting's RDP accountant."""
    # Imported here: dp-accounting pulls in most of scipy (seconds), and a SuperNode starts a process per
    # SecAgg+ stage; only the stages that account for privacy should pay for it.
    import dp_accounting
    from dp_accounting import rdp

    accountant = rdp.RdpAccountant()
    for rho in rhos:
        accountant.compose(dp_accounting.ZCDpEvent(rho))
    return float(accountant.get_epsilon(delta))


def rho_for_epsilon(epsilon: float, delta: float) -> float:
    """The largest zCDP rho whose release alone is (epsilon, delta)-DP (by :func:`composed_epsilon`)."""
    if epsilon <= 0 or not 0 < delta < 1:
        raise ValueError(f"need epsilon > 0 and 0 < delta < 1, got {epsilon}, {delta}")
    from scipy.optimize import brentq

    return float(brentq(lambda rho: composed_epsilon([rho], delta) - epsilon, 1e-12, 100.0 * epsilon, xtol=1e-14))
