"""PVWatts expected power and IEC 61724-1 performance ratio against hand computations and a simulated plant."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pvlib
import pytest

from client.solar.irradiance import cell_temperature, plane_of_array_irradiance
from client.solar.performance import (
    expected_ac_power,
    expected_dc_power,
    performance_ratio_terms,
    underperforming_inverters,
    underperforming_since,
)


def pvwatts_efficiency(zeta: np.ndarray, eta_nom: float = 0.96) -> np.ndarray:
    """Dobos 2014 (NREL/TP-6A20-62641), eq. 4: eta = eta_nom/0.9637 (-0.0162 zeta - 0.0059/zeta + 0.9858)."""
    return eta_nom / 0.9637 * (-0.0162 * zeta - 0.0059 / zeta + 0.9858)


def test_expected_dc_power_by_hand():
    # 100 kW * 800/1000 * (1 - 0.004 * (45 - 25)) = 80 * 0.92 = 73.6 kW; at STC exactly P_dc0.
    p = expected_dc_power(np.array([800.0, 1000.0, np.nan]), np.array([45.0, 25.0, 30.0]), 100.0, -0.004)
    assert p[:2] == pytest.approx([73.6, 100.0], abs=1e-12)
    assert np.isnan(p[2])


def test_expected_ac_power_by_hand_and_clipped():
    # P_ac0 = 80 kW, eta_nom 0.96: P_dc0 = 83.333 kW. At P_dc = 41.6667 (zeta = 0.5):
    # eta = 0.96/0.9637 * (-0.0081 - 0.0118 + 0.9858) = 0.96/0.9637 * 0.9659 = 0.962192
    p_dc = np.array([80 / 0.96 / 2, 200.0, 0.0, np.nan])
    p_ac = expected_ac_power(p_dc, 80.0)
    assert pvwatts_efficiency(np.array([0.5]))[0] == pytest.approx(0.962192, abs=1e-6)
    assert p_ac[0] == pytest.approx(p_dc[0] * 0.96 / 0.9637 * 0.9659, rel=1e-12)
    assert p_ac[1] == 80.0  # clipped at the AC rating
    assert p_ac[2] == 0.0
    assert np.isnan(p_ac[3])


def test_performance_ratio_of_three_records_by_hand():
    # IEC 61724-1:2021: PR = sum(P_out tau) / sum(P_0 G_i/1000 tau), P_0 = 100 kW, tau = 0.25 h.
    # numerator = (20 + 50 + 70) * 0.25 = 35 kWh; denominator = 100 * (0.25 + 0.6 + 0.8) * 0.25 = 41.25 kWh.
    p_out = np.array([20.0, 50.0, 70.0, np.nan, 10.0])
    g = np.array([250.0, 600.0, 800.0, 500.0, np.nan])  # the last two records are incomplete
    num, den = performance_ratio_terms(p_out, g, 0.25, 100.0)
    assert (num, den) == pytest.approx((35.0, 41.25), abs=1e-12)
    assert num / den == pytest.approx(0.848485, abs=1e-6)
    # PR_STC: each denominator term times 1 + gamma (T_cell - 25), gamma = -0.004:
    # (0.25 * 1.0 + 0.6 * 0.92 + 0.8 * 0.86) * 100 * 0.25 = (0.25 + 0.552 + 0.688) * 25 = 37.25 kWh.
    t_cell = np.array([25.0, 45.0, 60.0, 40.0, 40.0])
    num_stc, den_stc = performance_ratio_terms(p_out, g, 0.25, 100.0, t_cell, -0.004)
    assert (num_stc, den_stc) == pytest.approx((35.0, 37.25), abs=1e-12)
    with pytest.raises(ValueError, match="both t_cell and gamma"):
        performance_ratio_terms(p_out, g, 0.25, 100.0, t_cell)


@pytest.fixture(scope="module")
def summer_week():
    """A week of 15-minute clear-sky and cloudy records of a fixed plant in Golden, CO (pvlib)."""
    rng = np.random.default_rng(21)
    times = pd.date_range("2024-07-01", periods=7 * 96, freq="15min", tz="UTC") + pd.Timedelta("7.5min")
    ghi = pvlib.location.Location(39.742, -105.18, altitude=1829).get_clearsky(times)["ghi"].to_numpy()
    ghi = ghi * rng.uniform(0.5, 1.0, len(times))
    g = plane_of_array_irradiance(times, ghi, 39.742, -105.18, 1829, "fixed", 35.0, 180.0)
    t_cell = cell_temperature(g, t_amb=np.full(len(times), 30.0), wind_speed=rng.uniform(0, 6, len(times)))
    return g, t_cell


def test_pr_stc_of_a_plant_that_follows_pvwatts(summer_week):
    g, t_cell = summer_week
    gamma, p0, tau = -0.004, 500.0, 0.25
    p_dc = expected_dc_power(g, t_cell, p0, gamma)
    # Measuring DC power that follows PVWatts exactly: the STC-corrected denominator is sum(P_dc tau), so
    # PR_STC = 1; the uncorrected PR is below 1 by the hot cells' loss, sum(P_dc) / sum(P_0 G / 1000).
    num, den = performance_ratio_terms(p_dc, g, tau, p0, t_cell, gamma)
    assert num / den == pytest.approx(1.0, abs=1e-12)
    num_raw, den_raw = performance_ratio_terms(p_dc, g, tau, p0)
    assert num_raw / den_raw == pytest.approx(np.sum(p_dc) / np.sum(p0 * g / 1000), rel=1e-12)
    assert 0.85 < num_raw / den_raw < 0.95  # cells 45-65 degC at noon: 8-16 % below STC
    # AC output of the PVWatts inverter (DC/AC 1.1, eta_nom 0.96): PR_STC = sum(P_ac) / sum(P_dc), the
    # energy-weighted inverter efficiency of Dobos' curve, below eta_nom/0.9637 * max(curve) ~ 0.966.
    p_ac0 = p0 / 1.1
    p_ac = expected_ac_power(p_dc, p_ac0)
    zeta = p_dc / (p_ac0 / 0.96)
    by_hand = np.minimum(np.where(p_dc > 0, pvwatts_efficiency(np.where(p_dc > 0, zeta, 1.0)) * p_dc, 0.0), p_ac0)
    num, den = performance_ratio_terms(p_ac, g, tau, p0, t_cell, gamma)
    assert num / den == pytest.approx(np.sum(np.maximum(by_hand, 0)) / np.sum(p_dc), rel=1e-9)
    assert 0.94 < num / den < 0.966
    # Sums: the PR over two chunks is the ratio of the summed terms.
    half = len(g) // 2
    first = performance_ratio_terms(p_ac[:half], g[:half], tau, p0, t_cell[:half], gamma)
    second = performance_ratio_terms(p_ac[half:], g[half:], tau, p0, t_cell[half:], gamma)
    assert (first[0] + second[0]) / (first[1] + second[1]) == pytest.approx(num / den, rel=1e-12)


def test_underperforming_inverters_by_hand():
    ratio = np.array([1.00, 0.99, 1.01, 0.95, np.nan, 0.965, 0.98])
    # median of the finite ratios: 0.985; 0.97 * 0.985 = 0.95545; 0.99 * 0.985 = 0.97515.
    found = underperforming_inverters(ratio)
    assert found.tolist() == [False, False, False, True, False, False, False]
    assert underperforming_inverters(ratio, threshold=0.99).tolist() == [False] * 3 + [True, False, True, False]
    assert not underperforming_inverters(np.array([np.nan, np.nan])).any()
    with pytest.raises(ValueError, match="threshold"):
        underperforming_inverters(ratio, threshold=1.5)


def test_default_threshold_finds_lost_dc_and_spares_healthy_inverters():
    # A year of hourly records of a clipping plant (DC/AC 1.25): how much of the energy does a 5 % or 10 %
    # loss of DC power cost once the inverter clips?
    rng = np.random.default_rng(61724)
    times = pd.date_range("2023-01-01", periods=8760, freq="h", tz="UTC") + pd.Timedelta("30min")
    clear = pvlib.location.Location(39.742, -105.18, altitude=1829).get_clearsky(times)["ghi"].to_numpy()
    ghi = clear * np.clip(np.repeat(rng.uniform(0.3, 1.0, 365), 24) + 0.1 * rng.standard_normal(8760), 0, 1.1)
    g = plane_of_array_irradiance(times, ghi, 39.742, -105.18, 1829, "fixed", 35.0, 180.0)
    p_dc = expected_dc_power(g, cell_temperature(g, t_amb=np.full(8760, 15.0)), 125.0, -0.0035)
    p_ac = expected_ac_power(p_dc, 100.0)
    assert 0.04 < np.mean(p_ac[g > 0] >= 98.0) < 0.1  # 7 % clipped, as on a DC/AC 1.25 plant
    kept = {loss: expected_ac_power(p_dc * (1 - loss), 100.0).sum() / p_ac.sum() for loss in (0.05, 0.10)}
    assert 0.95 < kept[0.05] < 0.96 and 0.90 < kept[0.10] < 0.915  # 0.956 and 0.909
    # 2000 plants of 20 inverters, each ratio scattered by 1 %; inverter 0 lost 5 % of its DC, inverter 1 10 %.
    ratio = 1.0 + 0.01 * rng.standard_normal((2000, 20))
    ratio[:, 0] *= kept[0.05]
    ratio[:, 1] *= kept[0.10]
    found = np.array([underperforming_inverters(r) for r in ratio])
    assert found[:, 1].all()
    assert found[:, 0].mean() > 0.85  # 0.90 expected (1.3 sigma)
    assert found[:, 2:].mean() < 0.003  # 0.001 expected (3 sigma)
    # 0.95 would miss most 5 % losses (0.24 found expected).
    assert np.mean([underperforming_inverters(r, threshold=0.95)[0] for r in ratio]) < 0.4


def test_underperforming_since_finds_the_latest_fault_and_not_one_recovered_from():
    rng = np.random.default_rng(3)
    expected = rng.uniform(500.0, 1500.0, size=(4, 300))
    expected[:, 50:53] = 0.0  # three days without data: they neither end nor start a run
    factor = np.ones((4, 300))
    factor[1, 200:] = 0.9  # a fault from day 200 on
    factor[2, 100:150] = 0.9  # a fault repaired on day 150
    measured = expected * factor * rng.normal(1.0, 0.005, size=(4, 300))
    since = underperforming_since(np.stack([measured, expected]))
    # A 14-day window falls below 0.97 of the median once it holds about 5 days of the 10 % fault.
    assert 202 <= since[1] <= 208
    assert list(since[[0, 2, 3]]) == [-1, -1, -1]
    whole = factor.copy()
    whole[3] = 0.9
    assert underperforming_since(np.stack([expected * whole, expected]))[3] == 0  # from the first day
