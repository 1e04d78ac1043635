"""Plotly figures of a release, shared by the aggregator's dashboard and the operator's local report.

Every builder takes release protobufs (and, for the report, the site's own arrays, which never leave
it) and returns a ``plotly.graph_objects.Figure``; nothing here reads or writes files, so
``client`` and ``server`` can both import this module without importing each other. Charts are SVG
traces only (no WebGL), so they render in any browser, headless ones included.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from common.labels import IRRADIANCE_AXIS, SPECIFIC_POWER_AXIS, indicator_label, loss_category_label, wind_speed_axis
from protos.fleetbench.v1 import release_pb2

INDUSTRY = "#1f77b4"
# The P50 line sits on or next to the mean: another hue (blue/orange tells apart in every common colour
# vision deficiency), dashed, with its own markers, and 4.9:1 on white, as readable as the mean's 4.8:1.
MEDIAN = "#b35806"
BAND = "rgba(31, 119, 180, 0.22)"
SUPPRESSED = "rgba(128, 128, 128, 0.25)"
SUPPRESSED_MARKER = "#7f7f7f"
OWN = "#d62728"
PERCENTILES = ("p10", "p25", "p50", "p75", "p90")

PLOT_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    # Plotly.js 3 shows "Share chart" by default, which uploads the chart's data to Plotly Cloud:
    # no chart of a release or a site's report may offer to send its data anywhere.
    "showSendToCloud": False,
    "showEditInChartStudio": False,
    "showLink": False,
    "plotlyServerURL": "",
    "modeBarButtonsToRemove": ["sendDataToCloud", "editInChartStudio"],
}
"""Plotly's config for every chart: its own modebar only (zoom, pan, download as PNG), no cloud action."""

RENDER_SCRIPT = (
    """
(function () {
  var PLOT_CONFIG = """
    + json.dumps(PLOT_CONFIG)
    + """;
  function render() {
    document.querySelectorAll("[data-figure]").forEach(function (element) {
      var figure = JSON.parse(element.getAttribute("data-figure"));
      Plotly.newPlot(element, figure.data, figure.layout, PLOT_CONFIG);
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", render);
  } else {
    render();
  }
})();
"""
)
"""Draws every element carrying a ``data-figure`` attribute (a figure's JSON) with Plotly.

One script for both the dashboard (served as a static file) and the report (inlined): the page
holds data only, so the dashboard needs no inline script at all.
"""


@dataclass(frozen=True)
class OwnCurve:
    """One turbine's binned power curve, computed on its own site (IEC 61400-12-1 method of bins)."""

    label: str
    bin_centre: np.ndarray  # [m/s], centre of each bin drawn
    wind_speed: np.ndarray  # [m/s], mean density-normalised wind speed per bin
    power_per_unit: np.ndarray  # [-], mean P / P_rated per bin
    records: np.ndarray  # [-], records per bin


@dataclass(frozen=True)
class OwnSolarCurve:
    """A plant's energy-normalised curve, computed on its own site from its curve sums per irradiance bin."""

    label: str
    irradiance_centre: np.ndarray  # [W/m^2], centre of each irradiance bin drawn
    specific_power: np.ndarray  # [kW/kWp], mean P_out / P_0 per bin
    records: np.ndarray  # [-], records per bin


def _layout(figure: go.Figure, title: str, height: int = 420) -> go.Figure:
    figure.update_layout(
        title={"text": title, "x": 0.01},
        height=height,
        margin={"l": 60, "r": 20, "t": 50, "b": 50},
        template="plotly_white",
        legend={"orientation": "h", "y": -0.18},
        hovermode="closest",
    )
    return figure


def accessible_name(figure_json: str) -> str:
    """A chart's name for a screen reader: its title (every figure here has one, :func:`_layout`)."""
    title = json.loads(figure_json).get("layout", {}).get("title", {})
    return f"chart: {title.get('text', '')}" if isinstance(title, dict) else "chart"


def released_bins(curve: release_pb2.CohortCurve) -> list[release_pb2.PowerCurveBin]:
    """The bins of ``curve`` that carry statistics (not suppressed)."""
    return [b for b in curve.bins if not b.suppressed and b.HasField("mean_power_per_unit")]


def suppressed_bins(curve: release_pb2.CohortCurve) -> list[release_pb2.PowerCurveBin]:
    """The bins of ``curve`` withheld by disclosure control, each with its reason."""
    return [b for b in curve.bins if b.suppressed]


RATIO_FROM_PER_UNIT = 0.005  # [-]: below, mean P / mean P/P_rated divides two near-zero means
RATED_TOLERANCE = 1e-6  # [-], relative: the fixed-point sums agree to ~1e-14 when one rated power holds


@dataclass(frozen=True)
class Kilowatts:
    """What a cohort curve honestly shows in kW, and the words that say so on the chart.

    The release carries each bin's mean power in kW, but its P10/P50/P90 per unit of rated power
    only, and no rated power. A percentile converts to kW only where every record has one rated
    power: in a model cohort whose bins all give the same mean P / mean P/P_rated (that power).
    """

    rated_power: float | None  # [kW], the cohort's one rated power; None where the release does not pin one
    note: str  # what a chart in kW draws


def kilowatts(curve: release_pb2.CohortCurve) -> Kilowatts | None:
    """How ``curve`` reads in kW; None where no released bin carries its mean power in kW.

    A differentially private release publishes P / P_rated only. Bins whose mean is under
    RATIO_FROM_PER_UNIT of rated power take no part in finding the rated power: their ratio
    divides two near-zero means.
    """
    powered = [b for b in released_bins(curve) if b.HasField("mean_power")]
    if not powered:
        return None
    ratios = [
        b.mean_power / b.mean_power_per_unit for b in powered if abs(b.mean_power_per_unit) >= RATIO_FROM_PER_UNIT
    ]
    drawn = "mean power in kW as released"
    if curve.turbine_model and ratios and max(ratios) - min(ratios) <= RATED_TOLERANCE * abs(max(ratios)):
        rated = float(np.mean(ratios))
        return Kilowatts(
            rated,
            f"{drawn}; P10/P50/P90 = P/P_rated x {rated:.0f} kW, the rated power of {curve.turbine_model} "
            "(every bin's mean P / mean P/P_rated)",
        )
    return Kilowatts(
        None,
        f"{drawn} only: P10/P50/P90 of P/P_rated convert to kW only with one rated power, which the release "
        "does not pin for this cohort (the p.u. view shows them)",
    )


def _bin_hover(cell: release_pb2.PowerCurveBin, rated_power: float | None) -> str:
    """What a released bin's marker says, in one hover.

    Its mean power (p.u. and kW), its P10/P50/P90 and the band's width (also in kW with the
    cohort's one ``rated_power`` [kW]), and its counts (or, in a private release, its noise).
    """
    lines = [f"V {cell.mean_wind_speed:.2f} m/s: mean {cell.mean_power_per_unit:.3f} p.u."]
    if cell.HasField("mean_power"):
        lines[0] += f" ({cell.mean_power:.0f} kW)"
    if all(cell.HasField(f"p{q}_normalised_power") for q in (10, 50, 90)):
        p10, p50, p90 = cell.p10_normalised_power, cell.p50_normalised_power, cell.p90_normalised_power
        lines.append(f"P50 {p50:.3f}, P10-P90 {p10:.3f}-{p90:.3f} (width {p90 - p10:.3f}) p.u.")
        if rated_power is not None:
            lines.append(f"P50 {p50 * rated_power:.0f} kW, P10-P90 {p10 * rated_power:.0f}-{p90 * rated_power:.0f} kW")
    if cell.HasField("record_count"):
        lines.append(f"{cell.record_count} records, {cell.operator_count} operators")
    if cell.HasField("noisy_record_weight"):
        lines.append(f"noisy record weight {cell.noisy_record_weight:.0f}")
    if cell.HasField("p50_noise_stddev"):
        lines.append(f"P50 noise sd {cell.p50_noise_stddev:.3f}")
    return "<br>".join(lines)


def power_curve_figure(
    curve: release_pb2.CohortCurve, own: OwnCurve | None = None, in_kilowatts: bool = False
) -> go.Figure:
    """The cohort's industry power curve, its P10-P90 band and contributors per bin.

    Top: P10 and P90 per bin as a shaded band, P50 dashed orange with a marker per bin (with the
    noise's standard deviation as error bars in a private release), the mean curve solid blue with
    a marker per released bin, at the bin's mean normalised wind speed [m/s]; suppressed bins are
    grey columns with a grey cross at their centre, whose hover text gives the reason. A statistic
    a bin does not carry is left out, never drawn as 0. With ``own``, the turbine's own binned
    curve in red. Bottom: contributing operators per bin.

    Per unit of rated power P / P_rated [-] by default. ``in_kilowatts`` draws the mean power in kW
    and the percentiles in kW where :func:`kilowatts` finds the cohort's one rated power, leaves
    them out otherwise, and says which in the subtitle.

    Raises
    ------
    ValueError
        ``in_kilowatts`` for a curve without power in kW, or with ``own`` (a site's curve is per unit).
    """
    scale = kilowatts(curve)
    if in_kilowatts and (scale is None or own is not None):
        raise ValueError("a power curve in kW needs bins with mean power in kW and no own curve")
    rated = scale.rated_power if scale is not None else None
    factor, shown = 1.0, [b for b in curve.bins if not b.suppressed]
    if in_kilowatts:
        # Percentiles convert to kW with the cohort's one rated power only; without one they are left out.
        factor, shown = (rated, shown) if rated is not None else (1.0, [])
    value = "%{y:.0f} kW" if in_kilowatts else "%{y:.3f} p.u."
    released = [b for b in released_bins(curve) if not in_kilowatts or b.HasField("mean_power")]
    withheld = suppressed_bins(curve)
    banded = [b for b in shown if b.HasField("p10_normalised_power") and b.HasField("p90_normalised_power")]
    median = [b for b in shown if b.HasField("p50_normalised_power")]
    counted = [b for b in curve.bins if not b.suppressed and b.HasField("operator_count")]
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.74, 0.26], vertical_spacing=0.06)
    where = "V %{x:.1f} m/s"
    if banded:
        _add_band(
            figure,
            [b.wind_speed_centre for b in banded],
            [b.p10_normalised_power * factor for b in banded],
            [b.p90_normalised_power * factor for b in banded],
            where,
            value,
        )
    if median:
        # A private bin without p50_noise_stddev is dominated by noise: no error bar, rather than a false 0.
        noise = [b.p50_noise_stddev * factor if b.HasField("p50_noise_stddev") else None for b in median]
        _add_median(
            figure,
            [b.wind_speed_centre for b in median],
            [b.p50_normalised_power * factor for b in median],
            where + ": P50 " + value,
            noise if any(b.HasField("p50_noise_stddev") for b in median) else None,
        )
    figure.add_trace(
        go.Scatter(
            x=[b.mean_wind_speed for b in released],
            y=[b.mean_power if in_kilowatts else b.mean_power_per_unit for b in released],
            mode="lines+markers",
            line={"color": INDUSTRY, "width": 2},
            marker={"size": 6, "color": INDUSTRY},
            name="industry mean",
            text=[_bin_hover(b, rated) for b in released],
            hovertemplate="%{text}<extra>industry mean</extra>",
        ),
        row=1,
        col=1,
    )
    if withheld:
        _mark_suppressed_bins(
            figure, [b.wind_speed_centre for b in withheld], [b.suppression_reason for b in withheld], 0.25, where
        )
    if own is not None:
        _add_own_curve(
            figure, own.wind_speed, own.power_per_unit, own.records, own.label, "V %{x:.2f} m/s: %{y:.3f} p.u."
        )
    _add_operators(figure, [b.wind_speed_centre for b in counted], [b.operator_count for b in counted], where)
    figure.update_yaxes(title_text=POWER_AXES[in_kilowatts], row=1, col=1)
    figure.update_yaxes(title_text="operators", rangemode="tozero", row=2, col=1)
    figure.update_xaxes(title_text=wind_speed_axis(curve), row=2, col=1)
    _layout(figure, f"{curve.cohort}: industry power curve", height=520)
    if in_kilowatts and scale is not None:
        figure.update_layout(title_subtitle_text=scale.note, margin_t=80)
    return figure


def _add_band(
    figure: go.Figure, x: Sequence[float], p10: Sequence[float], p90: Sequence[float], where: str, value: str
) -> None:
    """A curve's P10-P90 band (subplot row 1): P10 unlabelled, P90 filled down to it; hovers "WHERE: P10 VALUE"."""
    figure.add_trace(
        go.Scatter(
            x=x,
            y=p10,
            mode="lines",
            line={"width": 0},
            name="P10",
            showlegend=False,
            hovertemplate=f"{where}: P10 {value}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    figure.add_trace(
        go.Scatter(
            x=x,
            y=p90,
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor=BAND,
            name="P10-P90 band",
            hovertemplate=f"{where}: P90 {value}<extra></extra>",
        ),
        row=1,
        col=1,
    )


def _add_median(
    figure: go.Figure, x: Sequence[float], p50: Sequence[float], hover: str, noise: list[float | None] | None = None
) -> None:
    """A curve's P50 (subplot row 1), dashed with open diamonds; ``noise``: its error bars (a private release)."""
    figure.add_trace(
        go.Scatter(
            x=x,
            y=p50,
            mode="lines+markers",
            line={"color": MEDIAN, "dash": "dash", "width": 2},
            # Open diamonds, larger than the mean's dots: where P50 and the mean coincide both still show.
            marker={"symbol": "diamond-open", "size": 9, "color": MEDIAN, "line": {"width": 1.5}},
            error_y={"type": "data", "array": noise, "visible": True, "width": 2, "color": MEDIAN}
            if noise is not None
            else None,
            name="P50",
            hovertemplate=hover + "<extra></extra>",
        ),
        row=1,
        col=1,
    )


def _add_own_curve(
    figure: go.Figure, x: np.ndarray, y: np.ndarray, records: np.ndarray, label: str, hover: str
) -> None:
    """A site's own binned curve (subplot row 1) in red; ``hover`` says x and y, the records are added."""
    figure.add_trace(
        go.Scatter(
            x=x,
            y=y,
            mode="lines+markers",
            line={"color": OWN},
            marker={"size": 5},
            name=label,
            customdata=records,
            hovertemplate=hover + ", %{customdata} records<extra>" + label + "</extra>",
        ),
        row=1,
        col=1,
    )


def _add_operators(figure: go.Figure, x: Sequence[float], operators: Sequence[int], where: str) -> None:
    """Contributing operators per bin, as bars in subplot row 2."""
    figure.add_trace(
        go.Bar(
            x=x,
            y=operators,
            marker={"color": INDUSTRY},
            name="operators per bin",
            showlegend=False,
            hovertemplate=where + ": %{y} operators<extra></extra>",
        ),
        row=2,
        col=1,
    )


def _mark_suppressed_bins(
    figure: go.Figure, centres: Sequence[float], reasons: Sequence[str], half_width: float, where: str
) -> None:
    """Suppressed bins of a curve (subplot row 1): a grey column each, and a grey cross at 0 giving its reason.

    ``where`` is the hover's start for a bin centre (``"V %{x:.1f} m/s"``); ``half_width`` is half a
    column's width in the x axis's unit.
    """
    figure.add_trace(
        go.Scatter(
            x=list(centres),
            y=[0.0] * len(centres),
            mode="markers",
            marker={"symbol": "x", "size": 9, "color": SUPPRESSED_MARKER},
            name="suppressed bin",
            text=list(reasons),
            hovertemplate=where + " suppressed: %{text}<extra></extra>",
        ),
        row=1,
        col=1,
    )
    # One layout update, not an add_vrect per bin (each validates the whole layout).
    column = {"type": "rect", "xref": "x", "yref": "y domain", "y0": 0, "y1": 1, "fillcolor": SUPPRESSED}
    column |= {"line": {"width": 0}, "layer": "below"}
    figure.update_layout(shapes=[{**column, "x0": x - half_width, "x1": x + half_width} for x in centres])


POWER_AXES = {False: "P / P_rated [p.u.]", True: "P, density-normalised [kW]"}
"""The power curve's y-axis title, per unit of rated power or in kW."""


def released_solar_bins(curve: release_pb2.SolarCurve) -> list[release_pb2.SolarCurveBin]:
    """The bins of a solar curve that carry statistics (not suppressed)."""
    return [b for b in curve.bins if not b.suppressed and b.HasField("mean_specific_power")]


def _solar_bin_hover(cell: release_pb2.SolarCurveBin) -> str:
    """What a released irradiance bin's marker says: mean, P10/P50/P90 and counts."""
    lines = [f"G_i {cell.irradiance_centre:.0f} W/m^2: mean {cell.mean_specific_power:.3f} kW/kWp"]
    if all(cell.HasField(f"p{q}_specific_power") for q in (10, 50, 90)):
        p10, p50, p90 = cell.p10_specific_power, cell.p50_specific_power, cell.p90_specific_power
        lines.append(f"P50 {p50:.3f}, P10-P90 {p10:.3f}-{p90:.3f} (width {p90 - p10:.3f}) kW/kWp")
    if cell.HasField("record_count"):
        lines.append(f"{cell.record_count} records, {cell.operator_count} operators")
    if cell.HasField("p50_noise_stddev"):  # a differentially private release
        lines.append(f"noisy record weight {cell.noisy_record_weight:.0f}; P50 noise sd {cell.p50_noise_stddev:.3f}")
    return "<br>".join(lines)


def solar_curve_figure(curve: release_pb2.SolarCurve, bin_width: float, own: OwnSolarCurve | None = None) -> go.Figure:
    """A solar cohort's energy-normalised curve: specific power [kW/kWp] against in-plane irradiance [W/m^2].

    Top: P10 and P90 per irradiance bin as a shaded band, P50 dashed orange with a marker per bin,
    the mean solid blue with a marker per released bin, all at the bin's centre; suppressed bins are
    grey columns ``bin_width`` [W/m^2] wide with a grey cross whose hover gives the reason. A
    statistic a bin does not carry is left out, never drawn as 0. With ``own``, the plant's own
    curve in red. Bottom: contributing operators per bin.
    """
    released = released_solar_bins(curve)
    banded = [b for b in released if b.HasField("p10_specific_power") and b.HasField("p90_specific_power")]
    median = [b for b in released if b.HasField("p50_specific_power")]
    counted = [b for b in released if b.HasField("operator_count")]
    withheld = [b for b in curve.bins if b.suppressed]
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.74, 0.26], vertical_spacing=0.06)
    value, where = "%{y:.3f} kW/kWp", "G_i %{x:.0f} W/m^2"
    if banded:
        x = [b.irradiance_centre for b in banded]
        p10, p90 = [b.p10_specific_power for b in banded], [b.p90_specific_power for b in banded]
        _add_band(figure, x, p10, p90, where, value)
    if median:
        x, p50 = [b.irradiance_centre for b in median], [b.p50_specific_power for b in median]
        _add_median(figure, x, p50, where + ": P50 " + value)
    figure.add_trace(
        go.Scatter(
            x=[b.irradiance_centre for b in released],
            y=[b.mean_specific_power for b in released],
            mode="lines+markers",
            line={"color": INDUSTRY, "width": 2},
            marker={"size": 6, "color": INDUSTRY},
            name="industry mean",
            text=[_solar_bin_hover(b) for b in released],
            hovertemplate="%{text}<extra>industry mean</extra>",
        ),
        row=1,
        col=1,
    )
    if withheld:
        centres, reasons = [b.irradiance_centre for b in withheld], [b.suppression_reason for b in withheld]
        _mark_suppressed_bins(figure, centres, reasons, bin_width / 2, where)
    if own is not None:
        hover = "G_i %{x:.0f} W/m^2: %{y:.3f} kW/kWp"
        _add_own_curve(figure, own.irradiance_centre, own.specific_power, own.records, own.label, hover)
    _add_operators(figure, [b.irradiance_centre for b in counted], [b.operator_count for b in counted], where)
    figure.update_yaxes(title_text=SPECIFIC_POWER_AXIS, rangemode="tozero", row=1, col=1)
    figure.update_yaxes(title_text="operators", rangemode="tozero", row=2, col=1)
    figure.update_xaxes(title_text=IRRADIANCE_AXIS, row=2, col=1)
    return _layout(figure, f"{curve.cohort}: energy-normalised curve", height=520)


def solar_curve_trend_figure(curves: Sequence[tuple[str, release_pb2.SolarCurve]]) -> go.Figure:
    """A solar cohort's P50 specific power per irradiance bin in each release, one line per period."""
    figure = go.Figure()
    for label, curve in curves:
        released = [b for b in released_solar_bins(curve) if b.HasField("p50_specific_power")]
        figure.add_trace(
            go.Scatter(
                x=[b.irradiance_centre for b in released],
                y=[b.p50_specific_power for b in released],
                mode="lines+markers",
                marker={"size": 4},
                name=label,
                hovertemplate="G_i %{x:.0f} W/m^2: P50 %{y:.3f} kW/kWp<extra>" + label + "</extra>",
            )
        )
    figure.update_xaxes(title_text=IRRADIANCE_AXIS)
    figure.update_yaxes(title_text=f"P50 of {SPECIFIC_POWER_AXIS}")
    return _layout(figure, "P50 energy-normalised curve by period")


def _suppressed_categories(labels: Sequence[str], withheld: Sequence[Any]) -> go.Scatter:
    """Grey crosses at zero for the withheld cells of a per-category chart, each cell's reason on hover."""
    return go.Scatter(
        x=list(labels),
        y=[0.0] * len(labels),
        mode="markers",
        marker={"symbol": "x", "size": 9, "color": SUPPRESSED_MARKER},
        name="suppressed",
        text=[cell.suppression_reason for cell in withheld],
        hovertemplate="%{x} suppressed: %{text}<extra></extra>",
    )


def lost_production_distributions_figure(
    distributions: Sequence[release_pb2.Distribution], own: Mapping[str, float] | None = None, label: str = ""
) -> go.Figure:
    """A solar cohort's plants' lost production by cause: per category a box P10-P25-P50-P75-P90; suppressed grey.

    Parameters
    ----------
    distributions : sequence of Distribution
        One cohort's ``lost_production:<category>`` distributions [% of each plant's potential].
    own : mapping, optional
        Category -> the plant's own share of its potential production [%], drawn as a red marker.
    label : str
        The plant, for the legend.
    """
    category = {d.indicator: d.indicator.partition(":")[2] for d in distributions}
    released = [d for d in distributions if not d.suppressed and d.HasField("p50")]
    withheld = [d for d in distributions if d.suppressed]
    # A differentially private distribution publishes no quartiles: its box closes on the median.
    figure = go.Figure(
        go.Box(
            x=[loss_category_label(category[d.indicator]) for d in released],
            lowerfence=[d.p10 for d in released],
            q1=[d.p25 if d.HasField("p25") else d.p50 for d in released],
            median=[d.p50 for d in released],
            q3=[d.p75 if d.HasField("p75") else d.p50 for d in released],
            upperfence=[d.p90 for d in released],
            marker={"color": INDUSTRY},
            name="industry plants: P10, P25, P50, P75, P90",
        )
    )
    if own is not None:
        figure.add_trace(
            go.Scatter(
                x=[loss_category_label(c) for c in own],
                y=list(own.values()),
                mode="markers",
                marker={"symbol": "diamond", "size": 11, "color": OWN},
                name=label or "this plant",
                hovertemplate="%{x}: %{y:.2f} %<extra>" + (label or "this plant") + "</extra>",
            )
        )
    if withheld:
        figure.add_trace(
            _suppressed_categories([loss_category_label(category[d.indicator]) for d in withheld], withheld)
        )
    figure.update_yaxes(title_text="lost production [% of the plant's potential]", rangemode="tozero")
    cohort = distributions[0].cohort if distributions else ""
    return _layout(figure, f"{cohort}: plants' lost production by cause", height=360)


def power_coefficient_figure(curve: release_pb2.CohortCurve) -> go.Figure:
    """Power coefficient Cp per released bin (IEC 61400-12-1:2017, 9.4) against mean wind speed."""
    released = [b for b in released_bins(curve) if b.HasField("power_coefficient")]
    figure = go.Figure(
        go.Scatter(
            x=[b.mean_wind_speed for b in released],
            y=[b.power_coefficient for b in released],
            mode="lines+markers",
            line={"color": INDUSTRY},
            name="Cp",
            hovertemplate="V %{x:.2f} m/s: Cp %{y:.3f}<extra></extra>",
        )
    )
    figure.update_xaxes(title_text=wind_speed_axis(curve))
    figure.update_yaxes(title_text="Cp [-]", rangemode="tozero")
    return _layout(figure, f"{curve.cohort}: power coefficient", height=340)


def trimmed(counts: np.ndarray, margin: int = 3) -> slice:
    """The bins from the first to the last non-empty one, with ``margin`` empty bins either side."""
    filled = np.flatnonzero(counts)
    if not len(filled):
        return slice(0, len(counts))
    return slice(max(filled[0] - margin, 0), min(filled[-1] + margin + 1, len(counts)))


def distribution_figure(
    distribution: release_pb2.Distribution, you_are_here: float | None = None, label: str = "you are here"
) -> go.Figure:
    """The industry histogram of one indicator with its P10, P25, P50, P75 and P90 marked.

    ``you_are_here`` (in the distribution's unit) draws a red line: where the site's own turbine
    stands. Empty bins beyond the filled range are left out.
    """
    grid = distribution.bins
    counts = np.asarray(distribution.counts, dtype=np.float64)
    centres = grid.first_centre + grid.width * np.arange(len(counts))
    shown = trimmed(counts)
    unit = f" [{grid.unit}]" if grid.unit else ""
    figure = go.Figure(
        go.Bar(
            x=centres[shown],
            y=counts[shown],
            width=grid.width,
            marker={"color": INDUSTRY},
            name=distribution.counts_of,
            hovertemplate="%{x:.4g}: %{y:.0f} " + distribution.counts_of + "<extra></extra>",
        )
    )
    lines = [
        _vertical_line(getattr(distribution, name), name.upper(), "#555555", 1, "center")
        for name in PERCENTILES
        if distribution.HasField(name)
    ]
    if you_are_here is not None and np.isfinite(you_are_here):
        lines.append(_vertical_line(float(you_are_here), f"{label}: {you_are_here:.4g}", OWN, 3, "left"))
    # One layout update: Plotly's add_vline validates the whole layout once per line (0.1 s a figure).
    figure.update_layout(shapes=[shape for shape, _ in lines], annotations=[note for _, note in lines])
    figure.update_xaxes(title_text=f"{indicator_label(distribution.indicator)}{unit}")
    figure.update_yaxes(title_text=distribution.counts_of)
    return _layout(figure, f"{distribution.cohort}: {indicator_label(distribution.indicator)}", height=320)


def _vertical_line(x: float, text: str, colour: str, width: int, align: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A full-height line at ``x`` and its label at the top, as layout shape and annotation."""
    dash = "dot" if width == 1 else "solid"
    shape = {"type": "line", "x0": x, "x1": x, "xref": "x", "y0": 0, "y1": 1, "yref": "y domain"}
    shape["line"] = {"color": colour, "dash": dash, "width": width}
    annotation = {"x": x, "xref": "x", "y": 1, "yref": "y domain", "text": text, "showarrow": False}
    annotation |= {"xanchor": align, "yanchor": "bottom", "font": {"color": colour}}
    return shape, annotation


def age_band(rate: release_pb2.FailureRate) -> str:
    """A failure-rate cell's turbine-age band as the chart's axis names it: "0-5 y", or "20+ y" (open)."""
    if rate.age_to_years:
        return f"{rate.age_from_years:g}-{rate.age_to_years:g} y"
    return f"{rate.age_from_years:g}+ y"


def failure_rate_figure(rates: Sequence[release_pb2.FailureRate]) -> go.Figure:
    """Failures per turbine-year by component (bars) and turbine-age band (x); suppressed cells as grey crosses."""
    figure = go.Figure()
    bands = sorted({(r.age_from_years, age_band(r)) for r in rates})
    order = [label for _, label in bands]
    for component in dict.fromkeys(r.component for r in rates):
        released = [r for r in rates if r.component == component and not r.suppressed]
        figure.add_trace(
            go.Bar(
                x=[age_band(r) for r in released],
                y=[r.failures_per_turbine_year for r in released],
                name=component,
                customdata=[[r.failures, r.turbine_years, r.operator_count] for r in released],
                hovertemplate="%{x}: %{y:.3f} per turbine-year<br>%{customdata[0]} failures in "
                "%{customdata[1]:.1f} turbine-years, %{customdata[2]} operators<extra>" + component + "</extra>",
            )
        )
    withheld = [r for r in rates if r.suppressed]
    if withheld:
        figure.add_trace(
            go.Scatter(
                x=[age_band(r) for r in withheld],
                y=[0.0] * len(withheld),
                mode="markers",
                marker={"symbol": "x", "size": 9, "color": SUPPRESSED_MARKER},
                name="suppressed cell",
                text=[f"{r.component}: {r.suppression_reason}" for r in withheld],
                hovertemplate="%{x} %{text}<extra></extra>",
            )
        )
    figure.update_layout(barmode="group")
    figure.update_xaxes(title_text="turbine age", categoryorder="array", categoryarray=order)
    figure.update_yaxes(title_text="failures per turbine-year", rangemode="tozero")
    cohort = rates[0].cohort if rates else ""
    return _layout(figure, f"{cohort}: failure rates by component and age", height=360)


def _hours_per_failure(rate: release_pb2.SolarFailureRate) -> str:
    """A failure rate's mean downtime as a hover line, with its noise where private ("" where it has none)."""
    if not rate.HasField("mean_downtime_hours"):
        return ""
    noise = f" +- {rate.mean_downtime_noise_stddev:.1f}" if rate.HasField("mean_downtime_noise_stddev") else ""
    return f"<br>{rate.mean_downtime_hours:.1f}{noise} h down per failure"


def solar_failure_rate_figure(
    rates: Sequence[release_pb2.SolarFailureRate], own: Mapping[str, float] | None = None, label: str = ""
) -> go.Figure:
    """A solar cohort's failures per inverter-year by component (bars); suppressed grey; the plant's own beside.

    Parameters
    ----------
    rates : sequence of SolarFailureRate
        One cohort's failure rates, one per component.
    own : mapping, optional
        Component -> the plant's own failures per inverter-year [1/year].
    label : str
        The plant, for the legend.
    """
    released = [r for r in rates if not r.suppressed]
    withheld = [r for r in rates if r.suppressed]
    # A private release's rates carry noise (its standard deviation as error bars) and no operator count.
    noisy = any(r.HasField("rate_noise_stddev") for r in released)
    figure = go.Figure(
        go.Bar(
            x=[r.component.replace("_", " ") for r in released],
            y=[r.failures_per_inverter_year for r in released],
            error_y={"type": "data", "array": [r.rate_noise_stddev for r in released]} if noisy else None,
            marker={"color": INDUSTRY},
            name="industry",
            customdata=[
                [
                    r.failures,
                    r.inverter_years,
                    f"+- {r.rate_noise_stddev:.3f} from the noise" if noisy else f"{r.operator_count} operators",
                    _hours_per_failure(r),
                ]
                for r in released
            ],
            hovertemplate="%{x}: %{y:.3f} per inverter-year<br>%{customdata[0]} failures in "
            "%{customdata[1]:.1f} inverter-years, %{customdata[2]}%{customdata[3]}<extra></extra>",
        )
    )
    if own is not None:
        figure.add_trace(
            go.Bar(
                x=[component.replace("_", " ") for component in own],
                y=list(own.values()),
                marker={"color": OWN},
                name=label or "this plant",
                hovertemplate="%{x}: %{y:.3f} per inverter-year<extra>" + (label or "this plant") + "</extra>",
            )
        )
        figure.update_layout(barmode="group")
    if withheld:
        figure.add_trace(_suppressed_categories([r.component.replace("_", " ") for r in withheld], withheld))
    figure.update_yaxes(title_text="failures per inverter-year", rangemode="tozero")
    cohort = rates[0].cohort if rates else ""
    return _layout(figure, f"{cohort}: failures by component", height=340)


def lost_production_figure(losses: Sequence[release_pb2.LostProduction]) -> go.Figure:
    """Lost production per IEC 61400-26 category as a share of potential production; suppressed ones grey.

    Parameters
    ----------
    losses : sequence of LostProduction
        One cohort's lost production, a cell per category.
    """
    released = [x for x in losses if not x.suppressed]
    withheld = [x for x in losses if x.suppressed]
    figure = go.Figure(
        go.Bar(
            x=[loss_category_label(x.category) for x in released],
            y=[100.0 * x.share_of_potential for x in released],
            marker={"color": INDUSTRY},
            name="industry: share of potential",
            hovertemplate="%{x}: %{y:.2f} %<extra></extra>",
        )
    )
    if withheld:
        figure.add_trace(_suppressed_categories([loss_category_label(x.category) for x in withheld], withheld))
    figure.update_yaxes(title_text="lost production [% of potential]", rangemode="tozero")
    cohort = losses[0].cohort if losses else ""
    return _layout(figure, f"{cohort}: lost production by IEC 61400-26 category", height=340)


def curve_trend_figure(curves: Sequence[tuple[str, release_pb2.CohortCurve]]) -> go.Figure:
    """The cohort's P50 curve (P / P_rated per bin centre) of each release, one line per period."""
    figure = go.Figure()
    for label, curve in curves:
        released = [b for b in curve.bins if not b.suppressed and b.HasField("p50_normalised_power")]
        figure.add_trace(
            go.Scatter(
                x=[b.wind_speed_centre for b in released],
                y=[b.p50_normalised_power for b in released],
                mode="lines+markers",
                marker={"size": 4},
                name=label,
                hovertemplate="V %{x:.1f} m/s: P50 %{y:.3f}<extra>" + label + "</extra>",
            )
        )
    if curves:  # one cohort: one reference across periods
        figure.update_xaxes(title_text=wind_speed_axis(curves[0][1]))
    figure.update_yaxes(title_text="P50 of P / P_rated [p.u.]")
    return _layout(figure, "P50 power curve by period")


def distribution_trend_figure(distributions: Sequence[tuple[str, release_pb2.Distribution]]) -> go.Figure:
    """P10..P90 of one indicator's industry distribution over periods (suppressed periods left as gaps)."""
    labels = [label for label, _ in distributions]
    figure = go.Figure()
    for name, dash in zip(PERCENTILES, ("dot", "dash", "solid", "dash", "dot"), strict=True):
        values = [getattr(d, name) if not d.suppressed and d.HasField(name) else None for _, d in distributions]
        figure.add_trace(
            go.Scatter(
                x=labels,
                y=values,
                mode="lines+markers",
                line={"color": INDUSTRY, "dash": dash},
                name=name.upper(),
                hovertemplate="%{x}: " + name.upper() + " %{y:.4g}<extra></extra>",
            )
        )
    indicator = distributions[0][1].indicator if distributions else ""
    unit = distributions[0][1].bins.unit if distributions else ""
    figure.update_xaxes(title_text="period", type="category")
    figure.update_yaxes(title_text=f"{indicator_label(indicator)} [{unit}]" if unit else indicator_label(indicator))
    return _layout(figure, f"{indicator}: industry percentiles by period")


def residual_figure(
    day: np.ndarray, residual: np.ndarray, alarm: np.ndarray, threshold: float, target: str, label: str
) -> go.Figure:
    """A turbine's daily mean normal-behaviour-model residual [degC] with the flag threshold and alarm days.

    Parameters
    ----------
    day : ndarray of datetime64
        Days of the monitored window.
    residual : ndarray
        Daily mean residual, measured minus modelled [degC].
    alarm : ndarray of bool
        Days on which the persistence rule raises the alarm.
    threshold : float
        Daily mean residual above which a day counts as hot [degC].
    target, label : str
        The modelled channel and the turbine, for the title.
    """
    # Days without monitored records (an outage) become gaps in the line, not a straight bridge.
    every_day = np.arange(day.min(), day.max() + np.timedelta64(1, "D"), dtype="datetime64[D]") if len(day) else day
    daily = np.full(len(every_day), np.nan)
    daily[np.searchsorted(every_day, day.astype("datetime64[D]"))] = residual
    figure = go.Figure(
        go.Scatter(
            x=every_day,
            y=daily,
            mode="lines+markers",
            marker={"size": 4},
            line={"color": INDUSTRY},
            name="daily mean residual",
            hovertemplate="%{x|%Y-%m-%d}: %{y:+.2f} degC<extra></extra>",
        )
    )
    figure.add_hline(
        y=threshold,
        line={"color": "#555555", "dash": "dash"},
        annotation_text=f"threshold {threshold:+.1f} degC",
        annotation_position="top left",
    )
    if np.any(alarm):
        figure.add_trace(
            go.Scatter(
                x=day[alarm],
                y=residual[alarm],
                mode="markers",
                marker={"color": OWN, "size": 9, "symbol": "diamond"},
                name="alarm day",
                hovertemplate="%{x|%Y-%m-%d}: alarm, %{y:+.2f} degC<extra></extra>",
            )
        )
    figure.update_yaxes(title_text=f"{target} residual [degC]")
    return _layout(figure, f"{label}: {target}, measured minus normal behaviour", height=320)


def monthly_figure(
    distributions: Sequence[release_pb2.Distribution], own: Mapping[str, float] | None = None, label: str = ""
) -> go.Figure:
    """One indicator month by month: the industry's P10-P90 band and P50, and a turbine's own months.

    Parameters
    ----------
    distributions : sequence of Distribution
        One cohort's monthly distributions of one indicator (``month`` set), in month order.
    own : mapping, optional
        Month ("YYYY-MM") -> the turbine's value that month [-]; NaN or absent where not measured.
    label : str
        The turbine, for the legend and the title.
    """
    months = [d.month for d in distributions]
    figure = go.Figure()

    def percentile(name: str) -> list[float | None]:
        return [getattr(d, name) if not d.suppressed and d.HasField(name) else None for d in distributions]

    figure.add_trace(
        go.Scatter(x=months, y=percentile("p10"), mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip")
    )
    figure.add_trace(
        go.Scatter(
            x=months,
            y=percentile("p90"),
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor=BAND,
            name="industry P10-P90",
            hoverinfo="skip",
        )
    )
    hover = [
        f"suppressed: {d.suppression_reason}"
        if d.suppressed
        else f"P10 {d.p10:.1%} · P50 {d.p50:.1%} · P90 {d.p90:.1%}<br>{d.operator_count} members"
        for d in distributions
    ]
    figure.add_trace(
        go.Scatter(
            x=months,
            y=percentile("p50"),
            mode="lines+markers",
            line={"color": INDUSTRY},
            name="industry P50",
            customdata=hover,
            hovertemplate="%{x}: %{customdata}<extra></extra>",
        )
    )
    suppressed = [d for d in distributions if d.suppressed]
    if suppressed:
        figure.add_trace(
            go.Scatter(
                x=[d.month for d in suppressed],
                y=[0.0] * len(suppressed),
                mode="markers",
                marker={"color": SUPPRESSED_MARKER, "symbol": "x", "size": 9},
                name="industry month suppressed",
                customdata=[d.suppression_reason for d in suppressed],
                hovertemplate="%{x}: suppressed, %{customdata}<extra></extra>",
                yaxis="y2",
            )
        )
        figure.update_layout(yaxis2={"overlaying": "y", "range": [0, 1], "visible": False})
    if own is not None:
        values = [own.get(month, math.nan) for month in months]
        figure.add_trace(
            go.Scatter(
                x=months,
                y=[v if math.isfinite(v) else None for v in values],
                mode="lines+markers",
                line={"color": OWN},
                marker={"size": 8},
                name=label or "this turbine",
                hovertemplate="%{x}: %{y:.1%}<extra>" + (label or "this turbine") + "</extra>",
            )
        )
    indicator = distributions[0].indicator if distributions else ""
    figure.update_xaxes(title_text="month (UTC)", type="category")
    # The axis names the indicator short; the title carries its full label.
    figure.update_yaxes(title_text=f"{indicator_label(indicator).split(' (')[0]} [%]", tickformat=".0%")
    title = f"{label}: " if label else ""
    return _layout(figure, f"{title}{indicator_label(indicator)}, month by month", height=340)
