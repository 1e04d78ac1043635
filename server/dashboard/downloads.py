"""Every chart's data as a table to download, CSV or JSON: what the chart draws, a row per bin or cell.

Each table is built from the API's models (:mod:`server.dashboard.api`), so a download, the JSON
API and the page say the same. Column names carry their unit (``wind_speed_bin_centre_m_s``,
``mean_power_kw``, ``p50_power_pu``; a dimensionless indicator has none). A suppressed bin or cell
is a row whose values are empty, with ``suppressed`` true and its ``suppression_reason``: never a 0.

:func:`table_response` is the one way a table leaves the dashboard. A new chart needs a function
that builds its :class:`ChartTable`, an entry in RELEASE_CHARTS or TREND_CHARTS, and the ``data``
links of the ``chart`` macro (templates/macros.html) under it; :func:`data_links` makes them.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPBearer

from common import figures
from protos.fleetbench.v1 import release_pb2
from server.dashboard.api import (
    ERRORS,
    CohortName,
    DistributionOut,
    FailureRateOut,
    LostProductionOut,
    PowerCurveBinOut,
    Releases,
    ReleasesDep,
    SolarFailureRateOut,
    as_api,
    check_cohort,
    cohort_curve,
    curve_out,
    curve_trend,
    distribution_trend,
    monthly_trend,
    solar_curve,
    solar_curve_out,
    solar_curve_trend,
)

Cell = float | int | str | bool | None
Format = Literal["csv", "json"]
UNIT_SUFFIXES = {
    "": "",
    "1": "",
    "-": "",
    "%": "_percent",
    "%/year": "_percent_per_year",
    "m/s": "_m_s",
    "kW": "_kw",
    "W/m^2": "_w_m2",
    "kW/kWp": "_kw_kwp",
}
"""A BinGrid unit as a column name's suffix; any other unit is spelled as it is ("deg", "degC")."""


@dataclass(frozen=True)
class ChartTable:
    """A chart's data: one row per bin or cell drawn, each a value per column (None: empty)."""

    name: str  # the downloaded file's name without its extension
    columns: tuple[str, ...]
    rows: list[dict[str, Cell]]  # keyed by exactly ``columns``


def table_response(table: ChartTable, fmt: Format) -> Response:
    """``table`` as a CSV file (a header row, then a line per row) or a JSON list of one object per row.

    Either is sent as an attachment named ``table.name`` with its extension. None is an empty CSV
    field and JSON null; True and False are ``true`` and ``false`` in both.
    """
    headers = {"Content-Disposition": f'attachment; filename="{table.name}.{fmt}"'}
    if fmt == "json":
        return JSONResponse([{column: row[column] for column in table.columns} for row in table.rows], headers=headers)
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(table.columns)
    writer.writerows([_csv_cell(row[column]) for column in table.columns] for row in table.rows)
    return Response(text.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


def _csv_cell(value: Cell) -> str | float | int:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _slug(text: str) -> str:
    """``text`` safe in a file name: runs of anything but letters, digits, dots and hyphens as one hyphen."""
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-")


def unit_suffix(unit: str) -> str:
    """A unit as the suffix of a column name: "_m_s" for m/s, "" for a dimensionless one."""
    return UNIT_SUFFIXES.get(unit, "_" + _slug(unit).replace("-", "_"))


def _filename(scope: str, cohort: str, chart: str, indicator: str | None) -> str:
    return "_".join(_slug(part) for part in (scope, cohort, chart, indicator) if part)


WITHHELD = ("suppressed", "suppression_reason")
"""The last two columns of every table: whether a row is suppressed, and why."""


def _withheld(suppressed: bool, reason: str) -> dict[str, Cell]:
    return {"suppressed": suppressed, "suppression_reason": reason if suppressed else None}


POWER_CURVE_COLUMNS = (
    "wind_speed_bin_centre_m_s",
    "mean_wind_speed_m_s",
    "mean_power_pu",
    "p10_power_pu",
    "p50_power_pu",
    "p90_power_pu",
    "p50_noise_sd_pu",
    "mean_power_kw",
    "p10_power_kw",
    "p50_power_kw",
    "p90_power_kw",
    "rated_power_kw",
    "record_count",
    "noisy_record_weight",
    "operator_count",
    *WITHHELD,
)


def _power_curve(curve: release_pb2.CohortCurve, release_id: int) -> list[dict[str, Cell]]:
    """The power curve in p.u. and in kW (percentiles in kW only with the cohort's one rated power)."""
    scale = figures.kilowatts(curve)
    rated = scale.rated_power if scale is not None else None

    def kw(per_unit: float | None) -> float | None:
        return per_unit * rated if per_unit is not None and rated is not None else None

    return [
        {
            "wind_speed_bin_centre_m_s": b.wind_speed_centre,
            "mean_wind_speed_m_s": b.mean_wind_speed,
            "mean_power_pu": b.mean_power_per_unit,
            "p10_power_pu": b.p10_normalised_power,
            "p50_power_pu": b.p50_normalised_power,
            "p90_power_pu": b.p90_normalised_power,
            "p50_noise_sd_pu": b.p50_noise_stddev,
            "mean_power_kw": b.mean_power,
            "p10_power_kw": kw(b.p10_normalised_power),
            "p50_power_kw": kw(b.p50_normalised_power),
            "p90_power_kw": kw(b.p90_normalised_power),
            "rated_power_kw": None if b.suppressed else rated,
            "record_count": b.record_count,
            "noisy_record_weight": b.noisy_record_weight,
            "operator_count": b.operator_count,
            **_withheld(b.suppressed, b.suppression_reason),
        }
        for b in curve_out(curve, release_id).bins
    ]


def power_curve_table(release: release_pb2.Release, release_id: int, cohort: str, _: str | None) -> ChartTable:
    """The cohort page's power curve: every bin, in p.u. and kW, with its counts."""
    rows = _power_curve(cohort_curve(release, release_id, cohort), release_id)
    return ChartTable(_filename(f"release-{release_id}", cohort, "power-curve", None), POWER_CURVE_COLUMNS, rows)


SOLAR_CURVE_COLUMNS = (
    "irradiance_bin_centre_w_m2",
    "mean_specific_power_kw_kwp",
    "std_specific_power_kw_kwp",
    "p10_specific_power_kw_kwp",
    "p50_specific_power_kw_kwp",
    "p90_specific_power_kw_kwp",
    "p50_noise_sd_kw_kwp",
    "record_count",
    "noisy_record_weight",
    "operator_count",
    *WITHHELD,
)


def solar_curve_table(release: release_pb2.Release, release_id: int, cohort: str, _: str | None) -> ChartTable:
    """A solar cohort page's energy-normalised curve: every irradiance bin, specific power in kW/kWp, its counts."""
    rows: list[dict[str, Cell]] = [
        {
            "irradiance_bin_centre_w_m2": b.irradiance_centre,
            "mean_specific_power_kw_kwp": b.mean_specific_power,
            "std_specific_power_kw_kwp": b.std_specific_power,
            "p10_specific_power_kw_kwp": b.p10_specific_power,
            "p50_specific_power_kw_kwp": b.p50_specific_power,
            "p90_specific_power_kw_kwp": b.p90_specific_power,
            "p50_noise_sd_kw_kwp": b.p50_noise_stddev,
            "record_count": b.record_count,
            "noisy_record_weight": b.noisy_record_weight,
            "operator_count": b.operator_count,
            **_withheld(b.suppressed, b.suppression_reason),
        }
        for b in solar_curve_out(solar_curve(release, release_id, cohort), release_id).bins
    ]
    return ChartTable(_filename(f"release-{release_id}", cohort, "solar-curve", None), SOLAR_CURVE_COLUMNS, rows)


def power_coefficient_table(release: release_pb2.Release, release_id: int, cohort: str, _: str | None) -> ChartTable:
    """The cohort page's Cp chart: every bin's Cp (empty where suppressed or not published)."""
    bins: Sequence[PowerCurveBinOut] = curve_out(cohort_curve(release, release_id, cohort), release_id).bins
    columns = (
        "wind_speed_bin_centre_m_s",
        "mean_wind_speed_m_s",
        "power_coefficient",
        "suppressed",
        "suppression_reason",
    )
    rows = [
        {
            "wind_speed_bin_centre_m_s": b.wind_speed_centre,
            "mean_wind_speed_m_s": b.mean_wind_speed,
            "power_coefficient": b.power_coefficient,
            **_withheld(b.suppressed, b.suppression_reason),
        }
        for b in bins
    ]
    return ChartTable(_filename(f"release-{release_id}", cohort, "power-coefficient", None), columns, rows)


def distribution_table(release: release_pb2.Release, release_id: int, cohort: str, indicator: str | None) -> ChartTable:
    """One indicator's histogram as drawn (its filled range and 3 empty bins either side), then its percentiles.

    A row's ``statistic`` says what it is: "bin" (value: the bin's centre, with its width and
    count) or "P10" .. "P90" (value: the percentile). A suppressed distribution is one empty row.
    """
    check_cohort(release, release_id, cohort)  # 404 for an unknown cohort
    found = [d for d in release.distributions if (d.cohort, d.indicator) == (cohort, indicator)]
    if indicator is None or not found:
        raise HTTPException(404, f"release {release_id} has no distribution of {indicator!r} in cohort {cohort!r}")
    d = as_api(DistributionOut, found[0])
    unit = unit_suffix(d.bins.unit if d.bins is not None else "")
    value = _slug(indicator.replace(":", "_")).replace("-", "_") + unit
    columns = (
        "statistic",
        value,
        "bin_width" + unit,
        d.counts_of,
        "operator_count",
        "suppressed",
        "suppression_reason",
    )
    name = _filename(f"release-{release_id}", cohort, "distribution", indicator)
    empty: dict[str, Cell] = dict.fromkeys(columns)
    if d.suppressed or d.bins is None:
        return ChartTable(name, columns, [{**empty, **_withheld(True, d.suppression_reason)}])
    grid, released = d.bins, {"operator_count": d.operator_count, **_withheld(False, "")}
    drawn = range(len(d.counts))[figures.trimmed(np.asarray(d.counts))]
    rows = [
        {**empty, "statistic": "bin", value: grid.first_centre + grid.width * i, "bin_width" + unit: grid.width}
        | {d.counts_of: d.counts[i], **released}
        for i in drawn
    ]
    rows += [
        {**empty, "statistic": percentile.upper(), value: getattr(d, percentile), **released}
        for percentile in figures.PERCENTILES
        if getattr(d, percentile) is not None
    ]
    return ChartTable(name, columns, rows)


def failure_rate_table(release: release_pb2.Release, release_id: int, cohort: str, _: str | None) -> ChartTable:
    """The cohort page's failure rates: a row per component and turbine-age band (open band: no upper age)."""
    check_cohort(release, release_id, cohort)
    columns: tuple[str, ...] = ("component", "age_band", "age_from_years", "age_to_years")
    columns += ("failures_per_turbine_year", "failures", "turbine_years", "operator_count", *WITHHELD)
    rows: list[dict[str, Cell]] = []
    for rate in (r for r in release.failure_rates if r.cohort == cohort):
        r = as_api(FailureRateOut, rate)
        rows.append(
            {
                "component": r.component,
                "age_band": figures.age_band(rate),
                "age_from_years": r.age_from_years,
                "age_to_years": r.age_to_years or None,  # 0 marks the open last band: no upper age
                "failures_per_turbine_year": r.failures_per_turbine_year,
                "failures": r.failures,
                "turbine_years": r.turbine_years,
                "operator_count": r.operator_count,
                **_withheld(r.suppressed, r.suppression_reason),
            }
        )
    return ChartTable(_filename(f"release-{release_id}", cohort, "failure-rates", None), columns, rows)


def lost_production_table(release: release_pb2.Release, release_id: int, cohort: str, _: str | None) -> ChartTable:
    """The wind cohort page's lost production: a row per IEC 61400-26 category, in % of potential."""
    check_cohort(release, release_id, cohort)
    columns = ("category", "lost_production_percent_of_potential", *WITHHELD)
    rows: list[dict[str, Cell]] = [
        {
            "category": loss.category,
            "lost_production_percent_of_potential": None if share is None else 100.0 * share,
            **_withheld(loss.suppressed, loss.suppression_reason),
        }
        for loss in (as_api(LostProductionOut, x) for x in release.lost_production if x.cohort == cohort)
        for share in (loss.share_of_potential,)
    ]
    return ChartTable(_filename(f"release-{release_id}", cohort, "lost-production", None), columns, rows)


def solar_failure_rate_table(release: release_pb2.Release, release_id: int, cohort: str, _: str | None) -> ChartTable:
    """A solar cohort page's failure rates: a row per component."""
    check_cohort(release, release_id, cohort)
    columns = (
        "component",
        "failures_per_inverter_year",
        "failures",
        "inverter_years",
        "mean_downtime_hours",
        "operator_count",
        "rate_noise_stddev",
        "mean_downtime_noise_stddev",
        *WITHHELD,
    )
    rows: list[dict[str, Cell]] = [
        {
            "component": r.component,
            "failures_per_inverter_year": r.failures_per_inverter_year,
            "failures": r.failures,
            "inverter_years": r.inverter_years,
            "mean_downtime_hours": r.mean_downtime_hours,
            "operator_count": r.operator_count,
            "rate_noise_stddev": r.rate_noise_stddev,
            "mean_downtime_noise_stddev": r.mean_downtime_noise_stddev,
            **_withheld(r.suppressed, r.suppression_reason),
        }
        for r in (as_api(SolarFailureRateOut, x) for x in release.solar_failure_rates if x.cohort == cohort)
    ]
    return ChartTable(_filename(f"release-{release_id}", cohort, "solar-failure-rates", None), columns, rows)


def plant_lost_production_table(
    release: release_pb2.Release, release_id: int, cohort: str, _: str | None
) -> ChartTable:
    """A solar cohort page's lost production: a row per cause, the percentiles of the plants' shares of potential."""
    check_cohort(release, release_id, cohort)
    percentiles = tuple(f"{p}_percent_of_potential" for p in figures.PERCENTILES)
    columns = ("category", *percentiles, "plants", "operator_count", *WITHHELD)
    rows: list[dict[str, Cell]] = []
    for d in release.distributions:
        kind, _, category = d.indicator.partition(":")
        if d.cohort != cohort or kind != "lost_production":
            continue
        released = not d.suppressed
        rows.append(
            {
                "category": category,
                **{
                    column: getattr(d, p) if released and d.HasField(p) else None
                    for column, p in zip(percentiles, figures.PERCENTILES, strict=True)
                },
                "plants": sum(d.counts) if released else None,
                "operator_count": d.operator_count if released and d.HasField("operator_count") else None,
                **_withheld(d.suppressed, d.suppression_reason),
            }
        )
    return ChartTable(_filename(f"release-{release_id}", cohort, "plant-lost-production", None), columns, rows)


def curve_trend_table(releases: Releases, cohort: str, _: str | None) -> ChartTable:
    """The trends page's P50 curves: a row per release and bin."""
    columns = ("release_id", "period_start", "period_end", "wind_speed_bin_centre_m_s", "p50_power_pu", *WITHHELD)
    rows: list[dict[str, Cell]] = [
        {
            "release_id": row.release_id,
            "period_start": row.period_start,
            "period_end": row.period_end,
            "wind_speed_bin_centre_m_s": b.wind_speed_centre,
            "p50_power_pu": b.p50_normalised_power,
            **_withheld(b.suppressed, b.suppression_reason),
        }
        for row, curve in curve_trend(releases, cohort)
        for b in curve_out(curve, row.release_id).bins
    ]
    return ChartTable(_filename("trends", cohort, "curve-trend", None), columns, rows)


def solar_curve_trend_table(releases: Releases, cohort: str, _: str | None) -> ChartTable:
    """The trends page's P50 solar curves: a row per release and irradiance bin."""
    columns = ("release_id", "period_start", "period_end", "irradiance_bin_centre_w_m2", "p50_specific_power_kw_kwp")
    rows: list[dict[str, Cell]] = [
        {
            "release_id": row.release_id,
            "period_start": row.period_start,
            "period_end": row.period_end,
            "irradiance_bin_centre_w_m2": b.irradiance_centre,
            "p50_specific_power_kw_kwp": b.p50_specific_power,
            **_withheld(b.suppressed, b.suppression_reason),
        }
        for row, curve in solar_curve_trend(releases, cohort)
        for b in solar_curve_out(curve, row.release_id).bins
    ]
    return ChartTable(_filename("trends", cohort, "solar-curve-trend", None), (*columns, *WITHHELD), rows)


def distribution_trend_table(releases: Releases, cohort: str, indicator: str | None) -> ChartTable:
    """The trends page's percentiles of one indicator: a row per release."""
    points = distribution_trend(releases, cohort, indicator or "performance_index")
    unit = unit_suffix(points[0][1].bins.unit)
    percentiles = [p + unit for p in figures.PERCENTILES]
    columns = ("release_id", "period_start", "period_end", *percentiles, "operator_count", *WITHHELD)
    rows: list[dict[str, Cell]] = []
    for row, distribution in points:
        d = as_api(DistributionOut, distribution)
        cells: dict[str, Cell] = {"release_id": row.release_id, "period_start": row.period_start}
        cells |= {"period_end": row.period_end} | {p + unit: getattr(d, p) for p in figures.PERCENTILES}
        rows.append(cells | {"operator_count": d.operator_count, **_withheld(d.suppressed, d.suppression_reason)})
    return ChartTable(_filename("trends", cohort, "distribution-trend", indicator), columns, rows)


def _monthly_rows(points: Sequence[tuple[int | None, release_pb2.Distribution]]) -> list[dict[str, Cell]]:
    rows: list[dict[str, Cell]] = []
    for release_id, distribution in points:
        d = as_api(DistributionOut, distribution)
        cells: dict[str, Cell] = {"release_id": release_id} if release_id is not None else {}
        cells |= {"month": d.month} | {
            p + "_percent": None if getattr(d, p) is None else 100.0 * getattr(d, p) for p in figures.PERCENTILES
        }
        rows.append(cells | {"operator_count": d.operator_count, **_withheld(d.suppressed, d.suppression_reason)})
    return rows


MONTHLY_COLUMNS = ("month", *(p + "_percent" for p in figures.PERCENTILES), "operator_count", *WITHHELD)


def monthly_table(release: release_pb2.Release, release_id: int, cohort: str, indicator: str | None) -> ChartTable:
    """The cohort page's month-by-month chart of one indicator: a row per month, percentiles in %."""
    check_cohort(release, release_id, cohort)
    found = [d for d in release.monthly_distributions if (d.cohort, d.indicator) == (cohort, indicator)]
    if indicator is None or not found:
        raise HTTPException(404, f"release {release_id} has no monthly {indicator!r} in cohort {cohort!r}")
    rows = _monthly_rows([(None, d) for d in sorted(found, key=lambda d: d.month)])
    return ChartTable(_filename(f"release-{release_id}", cohort, "monthly", indicator), MONTHLY_COLUMNS, rows)


def monthly_trend_table(releases: Releases, cohort: str, indicator: str | None) -> ChartTable:
    """The trends page's months across releases of one indicator: a row per month, with its release."""
    points = monthly_trend(releases, cohort, indicator or "performance_index")
    if not points:
        raise HTTPException(404, f"no release has monthly {indicator!r} in cohort {cohort!r}")
    rows = _monthly_rows([(row.release_id, d) for row, d in points])
    name = _filename("trends", cohort, "monthly-trend", indicator)
    return ChartTable(name, ("release_id", *MONTHLY_COLUMNS), rows)


ReleaseChart = Callable[[release_pb2.Release, int, str, str | None], ChartTable]
TrendChart = Callable[[Releases, str, str | None], ChartTable]
RELEASE_CHARTS: dict[str, ReleaseChart] = {
    "power-curve": power_curve_table,
    "power-coefficient": power_coefficient_table,
    "solar-curve": solar_curve_table,
    "distribution": distribution_table,
    "failure-rates": failure_rate_table,
    "lost-production": lost_production_table,
    "plant-lost-production": plant_lost_production_table,
    "solar-failure-rates": solar_failure_rate_table,
    "monthly": monthly_table,
}
"""A release's charts by the name their download path carries."""
TREND_CHARTS: dict[str, TrendChart] = {
    "curve-trend": curve_trend_table,
    "solar-curve-trend": solar_curve_trend_table,
    "distribution-trend": distribution_trend_table,
    "monthly-trend": monthly_trend_table,
}
"""The trends page's charts by the name their download path carries."""


def data_links(path: str, **query: str | None) -> dict[str, str]:
    """The CSV and JSON download links of the chart whose data ``path`` serves, with ``query`` (None: left out)."""
    given = {key: value for key, value in query.items() if value is not None}
    return {fmt.upper(): f"{path}?{urlencode({**given, 'format': fmt})}" for fmt in ("csv", "json")}


def _known(chart: str, charts: Sequence[str]) -> None:
    if chart not in charts:
        raise HTTPException(404, f"no chart {chart!r}; charts: {list(charts)}")


Indicator = Annotated[str | None, Query(description="the indicator of a distribution chart, e.g. performance_index")]
FormatQuery = Annotated[Format, Query(alias="format", description="csv or json")]

# Under /api/ like the JSON API: the app's gate refuses it without a member token (401), and the
# OpenAPI schema declares the bearer authentication.
router = APIRouter(prefix="/api", responses=ERRORS, dependencies=[Depends(HTTPBearer(auto_error=False))])
DOWNLOAD: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}, "application/json": {}}, "description": "the chart's data"}
}


@router.get(
    "/releases/{release_id}/charts/{chart}",
    summary="A cohort chart's data, CSV or JSON",
    response_class=Response,
    responses=DOWNLOAD,
)
def get_release_chart(
    release_id: int,
    chart: str,
    cohort: CohortName,
    releases: ReleasesDep,
    indicator: Indicator = None,
    fmt: FormatQuery = "csv",
) -> Response:
    """What a chart of the cohort page draws, a row per bin or cell; suppressed ones empty, with their reason.

    Charts: power-curve, power-coefficient, solar-curve, distribution (with indicator), failure-rates,
    lost-production (a wind cohort's), plant-lost-production and solar-failure-rates (a solar cohort's), monthly
    (with indicator).
    """
    _known(chart, list(RELEASE_CHARTS))
    return table_response(RELEASE_CHARTS[chart](releases.get(release_id), release_id, cohort, indicator), fmt)


@router.get(
    "/trends/charts/{chart}", summary="A trend chart's data, CSV or JSON", response_class=Response, responses=DOWNLOAD
)
def get_trend_chart(
    chart: str, cohort: CohortName, releases: ReleasesDep, indicator: Indicator = None, fmt: FormatQuery = "csv"
) -> Response:
    """What a chart of the trends page draws, a row per release (and bin); suppressed ones empty, with their reason.

    Charts: curve-trend, solar-curve-trend, distribution-trend (indicator, by default performance_index),
    monthly-trend.
    """
    _known(chart, list(TREND_CHARTS))
    return table_response(TREND_CHARTS[chart](releases, cohort, indicator), fmt)
