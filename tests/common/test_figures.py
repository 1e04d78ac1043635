"""The shared figures, without a browser: what each trace holds (the browser tests check what is drawn)."""

from __future__ import annotations

import numpy as np
import pytest

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
    # One hover on the mean says everything of the bin: mean in p.u. and kW, P50 and the band (in kW too:
    # one model, one rated power), counts.
    assert figure.data[3].text[1] == (
        "V 3.51 m/s: mean 0.040 p.u. (92 kW)<br>P50 0.040, P10-P90 0.030-0.050 (width 0.020) p.u.<br>"
        "P50 92 kW, P10-P90 69-115 kW<br>100 records, 4 operators"
    )
    assert figure.layout.yaxis.title.text == "P / P_rated [p.u.]"


def _contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_p50_and_the_mean_stay_apart_where_they_coincide():
    figure = figures.power_curve_figure(_curve())
    p50, mean = figure.data[2], figure.data[3]
    assert list(p50.y) == list(mean.y)  # the fixture's P50 is its mean: the case where one hid the other
    assert (p50.line.color, p50.line.dash, p50.mode) == (figures.MEDIAN, "dash", "lines+markers")
    assert (mean.line.color, mean.line.dash) == (figures.INDUSTRY, None)
    assert p50.marker.symbol == "diamond-open" and p50.marker.size > mean.marker.size  # a ring around the dot
    assert p50.showlegend is not False and mean.showlegend is not False
    for colour in (figures.MEDIAN, figures.INDUSTRY):  # readable on the white plot (WCAG 1.4.11 asks 3:1)
        assert _contrast(colour, "#ffffff") >= 4.5, colour
    assert _contrast("#d95f02", "#ffffff") < 4.5  # the control: a lighter orange would not do


def test_a_model_cohort_converts_to_kw_with_its_one_rated_power():
    scale = figures.kilowatts(_curve())
    assert scale is not None and abs(scale.rated_power - 2300.0) < 1e-9
    figure = figures.power_curve_figure(_curve(), in_kilowatts=True)
    assert figure.layout.yaxis.title.text == "P, density-normalised [kW]"
    assert "2300 kW, the rated power of E-82/2300" in figure.layout.title.subtitle.text
    mean = next(t for t in figure.data if t.name == "industry mean")
    assert list(mean.y) == [b.mean_power for b in _curve().bins if not b.suppressed]  # as released, not scaled
    p50 = next(t for t in figure.data if t.name == "P50")
    assert [round(y, 9) for y in p50.y] == [46.0, 92.0, 161.0]


def test_a_cohort_without_one_rated_power_draws_only_its_mean_in_kw():
    band = _curve()
    band.turbine_model = ""  # a rated-power band: its turbines may differ in rated power
    mixed = _curve()
    mixed.bins[2].mean_power = 3000 * mixed.bins[2].mean_power_per_unit  # two rated powers in one model cohort
    for curve in (band, mixed):
        scale = figures.kilowatts(curve)
        assert scale is not None and scale.rated_power is None and "only" in scale.note
        figure = figures.power_curve_figure(curve, in_kilowatts=True)
        assert [t.name for t in figure.data] == ["industry mean", "suppressed bin", "operators per bin"]
        assert "kW, P10-P90" not in figure.data[0].text[0]  # no percentile in kW in the hover either
        assert "only" in figure.layout.title.subtitle.text


def test_a_curve_without_power_in_kw_has_no_kw_view():
    private = _curve()
    for cell in private.bins:
        cell.ClearField("mean_power")
    assert figures.kilowatts(private) is None
    with pytest.raises(ValueError, match="kW"):
        figures.power_curve_figure(private, in_kilowatts=True)


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


def test_a_private_failure_rate_draws_its_noise_as_an_error_bar_and_no_operator_count():
    noisy = release_pb2.SolarFailureRate(
        cohort="all", component="inverter", failures=40, inverter_years=400.0, failures_per_inverter_year=0.1
    )
    noisy.rate_noise_stddev, noisy.failures_noise_stddev = 0.02, 8.0
    figure = figures.solar_failure_rate_figure([noisy])
    bars = figure.data[0]
    assert list(bars.error_y.array) == [0.02] and "+- 0.020 from the noise" in bars.customdata[0][2]
    exact = release_pb2.SolarFailureRate(
        cohort="all", component="inverter", failures=40, inverter_years=400.0, failures_per_inverter_year=0.1
    )
    exact.operator_count = 7
    bars = figures.solar_failure_rate_figure([exact]).data[0]
    assert bars.error_y.array is None and bars.customdata[0][2] == "7 operators"
