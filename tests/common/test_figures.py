"""The shared figures, without a browser: what each trace holds (the browser tests check what is drawn)."""

from __future__ import annotations

import numpy as np

from common import figures
from protos.fleetbench.v1 import release_pb2, spec_pb2


def _curve() -> release_pb2.CohortCurve:
    curve = release_pb2.CohortCurve(cohort="E-82/2300", turbine_model="E-82/2300", operator_count=4)
    curve.bins.add(wind_speed_centre=0.0, suppressed=True, suppression_reason="fewer than 3 operators in the bin")
    for centre, per_unit in ((3.0, 0.02), (3.5, 0.04), (4.0, 0.07)):
        curve.bins.add(
            wind_speed_centre=centre,
            record_count=100,
            operator_count=4,
            mean_wind_speed=centre + 0.01,
            mean_power=2300 * per_unit,
            mean_power_per_unit=per_unit,
            p10_normalised_power=per_unit - 0.01,
            p50_normalised_power=per_unit,
            p90_normalised_power=per_unit + 0.01,
            power_coefficient=0.4,
        )
    return curve


def test_power_curve_has_band_mean_suppressed_bins_and_the_own_curve():
    own = figures.OwnCurve("WTG01 (this site)", np.array([3.0]), np.array([3.02]), np.array([0.03]), np.array([12]))
    figure = figures.power_curve_figure(_curve(), own)
    names = [trace.name for trace in figure.data]
    assert names == [
        "P10",
        "P10-P90 band",
        "P50",
        "industry mean",
        "suppressed bin",
        "WTG01 (this site)",
        "operators per bin",
    ]
    band = figure.data[1]
    assert band.fill == "tonexty" and list(band.y) == [0.03, 0.05, 0.08]
    assert list(figure.data[3].x) == [3.01, 3.51, 4.01]  # the mean curve at the bins' mean wind speeds
    suppressed = figure.data[4]
    assert list(suppressed.x) == [0.0] and suppressed.text == ("fewer than 3 operators in the bin",)
    assert [(s.x0, s.x1) for s in figure.layout.shapes] == [(-0.25, 0.25)]  # the suppressed bin's grey column
    assert list(figure.data[-1].y) == [4, 4, 4]  # operators per bin
    # One hover on the mean says everything of the bin: mean in p.u. and kW, P50 and the band, counts.
    assert figure.data[3].text[1] == (
        "V 3.51 m/s: mean 0.040 p.u. (92 kW)<br>P50 0.040, P10-P90 0.030-0.050 (width 0.020) p.u.<br>"
        "100 records, 4 operators"
    )


def test_distribution_marks_percentiles_and_you_are_here():
    d = release_pb2.Distribution(
        cohort="E-82/2300",
        indicator="performance_index",
        counts_of="turbines",
        bins=spec_pb2.BinGrid(first_centre=0.9, width=0.01, count=21, unit="1"),
        counts=[0] * 8 + [1, 3, 4, 2] + [0] * 9,
        p10=0.98,
        p25=0.99,
        p50=1.0,
        p75=1.01,
        p90=1.02,
    )
    figure = figures.distribution_figure(d, 0.985, "WTG01")
    bars = figure.data[0]
    # The filled bins (0.98 .. 1.01) and three empty ones either side.
    assert list(np.round(bars.x, 3)) == [0.95, 0.96, 0.97, 0.98, 0.99, 1.0, 1.01, 1.02, 1.03, 1.04]
    lines = [shape.x0 for shape in figure.layout.shapes]
    assert lines == [0.98, 0.99, 1.0, 1.01, 1.02, 0.985]
    assert figure.layout.annotations[-1].text == "WTG01: 0.985"


def test_residual_series_breaks_at_days_without_records():
    day = np.array(["2025-02-01", "2025-02-02", "2025-02-05"], dtype="datetime64[D]")
    figure = figures.residual_figure(
        day, np.array([1.0, 3.0, 4.0]), np.array([False, True, True]), 2.5, "WTRM_GbxBrgTmp", "WTG02"
    )
    series, alarms = figure.data
    assert len(series.x) == 5 and np.isnan(series.y[2]) and np.isnan(series.y[3])
    assert list(alarms.y) == [3.0, 4.0]
