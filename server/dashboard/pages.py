"""The dashboard's HTML pages: server-rendered (Jinja2), each chart a Plotly figure drawn by /static/charts.js."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from common import figures
from common.labels import SOLAR_CURVE_NOTE, wind_speed_reference_note
from protos.fleetbench.v1 import release_pb2
from protos.statistics import MONTHLY_INDICATORS, SOLAR_INDICATORS
from server.dashboard.api import (
    Releases,
    cohort_curve,
    curve_out,
    curve_trend,
    distribution_trend,
    monthly_trend,
    release_detail,
    solar_curve_out,
    solar_curve_trend,
)
from server.dashboard.downloads import data_links
from server.dashboard.releases import StoredRelease

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)


def _page(request: Request, template: str, **context: Any) -> Response:
    page: Response = request.app.state.templates.TemplateResponse(
        request, template, {"member": request.state.member, **context}
    )
    return page


def _releases(request: Request) -> Releases:
    releases: Releases = request.app.state.releases
    return releases


def _period(start: str, end: str) -> str:
    return f"{start[:10]} .. {end[:10]}"


SUPPRESSIBLE = ("cohorts", "curve bins", "models", "distributions", "failure-rate cells", "lost-production cells")
"""What a release suppresses, in the order the overview lists it."""


def suppressions_by_reason(release: release_pb2.Release) -> list[dict[str, Any]]:
    """Every suppressed cell of ``release`` counted by its reason and kind, with the cohorts it is in.

    One row per reason, most frequent first: how many whole cohorts, curve bins, models,
    distributions, failure-rate and lost-production cells it withholds, and which cohorts.
    """
    cells: list[tuple[str, str, str]] = []  # (reason, kind, cohort)
    for curve in release.curves:
        if curve.suppressed:
            cells.append((curve.suppression_reason, "cohorts", curve.cohort))
        cells += [(b.suppression_reason, "curve bins", curve.cohort) for b in curve.bins if b.suppressed]
    for solar in release.solar_curves:
        cells += [(b.suppression_reason, "curve bins", solar.cohort) for b in solar.bins if b.suppressed]
    for kind, items in (
        ("models", release.models),
        ("distributions", release.distributions),
        ("failure-rate cells", release.failure_rates),
        ("failure-rate cells", release.solar_failure_rates),
        ("lost-production cells", release.lost_production),
    ):
        cells += [(item.suppression_reason, kind, item.cohort) for item in items if item.suppressed]
    rows: dict[str, dict[str, Any]] = {}
    for reason, kind, cohort in cells:
        row = rows.setdefault(reason, {"reason": reason, "total": 0, "counts": dict.fromkeys(SUPPRESSIBLE, 0)})
        row["total"] += 1
        row["counts"][kind] += 1
        row.setdefault("in_cohorts", {})[cohort] = None  # ordered, once each
    return sorted(rows.values(), key=lambda row: -row["total"])


@router.get("/")
def release_list(request: Request) -> Response:
    """Every release with its provenance."""
    releases = _releases(request)
    rows = releases.store.releases()
    details = [release_detail(row, releases.get(row.release_id)) for row in reversed(rows)]
    return _page(request, "releases.html", releases=details)


@router.get("/releases/{release_id}")
def release_page(request: Request, release_id: int) -> Response:
    """One release: provenance, settings, cohorts and the normal-behaviour models."""
    releases = _releases(request)
    release = releases.get(release_id)
    return _page(
        request,
        "release.html",
        release=release_detail(releases.row(release_id), release),
        suppressions=suppressions_by_reason(release),
        kinds=SUPPRESSIBLE,
        models=list(release.models),
    )


@router.get("/releases/{release_id}/cohort")
def cohort_page(
    request: Request,
    release_id: int,
    name: Annotated[str, Query(min_length=1, description="cohort name")],
    unit: Annotated[Literal["pu", "kw"], Query(description="the power curve per unit of rated power or in kW")] = "pu",
) -> Response:
    """One cohort of a release: curve, Cp, AEP, baselines, distributions, failure rates and lost production.

    The power curve is drawn per unit of rated power, or with ``unit=kw`` in kW where the release
    carries power in kW (a differentially private one does not: then per unit, and the page says so).
    """
    releases = _releases(request)
    release = releases.get(release_id)
    if any(c.cohort == name for c in release.solar_curves):
        return _solar_cohort_page(request, releases, release, release_id, name)
    curve = cohort_curve(release, release_id, name)
    kilowatts = figures.kilowatts(curve)
    in_kilowatts = unit == "kw" and kilowatts is not None
    charts = f"/api/releases/{release_id}/charts"
    rates = [r for r in release.failure_rates if r.cohort == name]
    losses = [x for x in release.lost_production if x.cohort == name]
    monthly: dict[str, list[release_pb2.Distribution]] = {indicator: [] for indicator in MONTHLY_INDICATORS}
    for d in release.monthly_distributions:
        if d.cohort == name and d.indicator in monthly:
            monthly[d.indicator].append(d)
    released = figures.released_bins(curve)
    return _page(
        request,
        "cohort.html",
        release=release_detail(releases.row(release_id), release),
        curve=curve,
        bins=curve_out(curve, release_id).bins,
        wind_speed_note=wind_speed_reference_note(curve),
        unit=unit,
        kilowatts=kilowatts,
        in_kilowatts=in_kilowatts,
        curve_figure=figures.power_curve_figure(curve, in_kilowatts=in_kilowatts).to_json() if curve.bins else None,
        curve_data=data_links(f"{charts}/power-curve", cohort=name),
        cp_figure=figures.power_coefficient_figure(curve).to_json() if released else None,
        cp_data=data_links(f"{charts}/power-coefficient", cohort=name),
        withheld=figures.suppressed_bins(curve),
        models=[m for m in release.models if m.cohort == name],
        distributions=_distribution_charts(release, charts, name),
        rates=rates,
        rates_suppressed=sum(r.suppressed for r in rates),
        rates_figure=figures.failure_rate_figure(rates).to_json() if rates else None,
        rates_data=data_links(f"{charts}/failure-rates", cohort=name),
        losses=losses,
        losses_figure=figures.lost_production_figure(losses).to_json() if losses else None,
        losses_data=data_links(f"{charts}/lost-production", cohort=name),
        monthly=[
            (
                indicator,
                figures.monthly_figure(months).to_json(),
                data_links(f"{charts}/monthly", cohort=name, indicator=indicator),
            )
            for indicator in MONTHLY_INDICATORS
            for months in [sorted(monthly[indicator], key=lambda d: d.month)]
            if months
        ],
    )


def _distribution_charts(
    release: release_pb2.Release, charts: str, cohort: str, order: tuple[str, ...] = ()
) -> list[tuple[release_pb2.Distribution, str | None, dict[str, str]]]:
    """The cohort's distributions (those in ``order`` first, in its order), each with its figure and data links.

    A solar cohort's lost production by cause (``lost_production:<cause>``) is drawn as one figure of its own.
    """
    mine = [d for d in release.distributions if d.cohort == cohort and not d.indicator.startswith("lost_production:")]
    mine.sort(key=lambda d: order.index(d.indicator) if d.indicator in order else len(order))
    return [
        (
            d,
            None if d.suppressed else figures.distribution_figure(d).to_json(),
            data_links(f"{charts}/distribution", cohort=cohort, indicator=d.indicator),
        )
        for d in mine
    ]


def _solar_cohort_page(
    request: Request, releases: Releases, release: release_pb2.Release, release_id: int, name: str
) -> Response:
    """A solar cohort: its energy-normalised curve, its plants' distributions, lost production by cause and failures."""
    curve = next(c for c in release.solar_curves if c.cohort == name)
    charts = f"/api/releases/{release_id}/charts"
    losses = [d for d in release.distributions if d.cohort == name and d.indicator.startswith("lost_production:")]
    failures = [r for r in release.solar_failure_rates if r.cohort == name]
    return _page(
        request,
        "solar_cohort.html",
        release=release_detail(releases.row(release_id), release),
        curve=curve,
        bins=solar_curve_out(curve, release_id).bins,
        curve_note=SOLAR_CURVE_NOTE,
        curve_figure=(
            figures.solar_curve_figure(curve, release.solar.irradiance_bins.width).to_json() if curve.bins else None
        ),
        curve_data=data_links(f"{charts}/solar-curve", cohort=name),
        withheld=[b for b in curve.bins if b.suppressed],
        released=figures.released_solar_bins(curve),
        private=release.HasField("privacy"),
        distributions=_distribution_charts(release, charts, name, SOLAR_INDICATORS),
        losses=losses,
        losses_figure=figures.lost_production_distributions_figure(losses).to_json() if losses else None,
        losses_data=data_links(f"{charts}/plant-lost-production", cohort=name),
        failures=failures,
        failures_figure=figures.solar_failure_rate_figure(failures).to_json() if failures else None,
        failures_data=data_links(f"{charts}/solar-failure-rates", cohort=name),
    )


DEFAULT_INDICATOR = {"wind": "performance_index", "solar": "performance_ratio"}
"""The indicator the trends page shows of a cohort unless asked for another, by the cohort's kind."""


@router.get("/trends")
def trends_page(
    request: Request,
    cohort: Annotated[str | None, Query(min_length=1, description="by default the first cohort by name")] = None,
    indicator: Annotated[
        str | None,
        Query(min_length=1, description="by default performance_index, or a solar cohort's performance_ratio"),
    ] = None,
) -> Response:
    """A cohort across releases: the P50 curve per period, an indicator's percentiles per period and by month.

    A solar cohort's curve is its energy-normalised one, and its indicators its plants' (performance
    ratio, degradation, ...). With one release of the cohort so far there is no trend across
    releases to draw: the page says so and links to it, and still shows the months inside that
    release (performance index and time availability are released month by month).
    """
    releases = _releases(request)
    stored = [releases.get(row.release_id) for row in releases.store.releases()]
    solar = {c.cohort for release in stored for c in release.solar_curves}
    cohorts = sorted({c.cohort for release in stored for c in release.curves} | solar)
    if not cohorts:  # an empty store: the navigation's Trends link still lands on a page
        return _page(request, "trends.html", cohort=None, cohorts=[], periods=[])
    cohort = cohort if cohort is not None else cohorts[0]
    kind = "solar" if cohort in solar else "wind"
    indicator = indicator if indicator is not None else DEFAULT_INDICATOR[kind]
    curves: list[tuple[StoredRelease, Any]] = (
        list(solar_curve_trend(releases, cohort)) if kind == "solar" else list(curve_trend(releases, cohort))
    )
    labels = {row.release_id: f"{_period(row.period_start, row.period_end)} (#{row.release_id})" for row, _ in curves}
    periods = [(row, labels[row.release_id]) for row, _ in curves]
    indicators = sorted(
        {d.indicator for row, _ in curves for d in releases.get(row.release_id).distributions if d.cohort == cohort}
    )
    context: dict[str, Any] = {"cohort": cohort, "indicator": indicator, "cohorts": cohorts, "indicators": indicators}
    months = [d for _, d in monthly_trend(releases, cohort, indicator)]
    if months:
        context["monthly_figure"] = figures.monthly_figure(months).to_json()
        context["monthly_data"] = data_links("/api/trends/charts/monthly-trend", cohort=cohort, indicator=indicator)
    if len(curves) < 2:
        return _page(request, "trends.html", periods=periods, **context)
    distribution_figure = None
    if indicator in indicators:
        points = distribution_trend(releases, cohort, indicator)
        distribution_figure = figures.distribution_trend_figure(
            [(labels.get(row.release_id, str(row.release_id)), d) for row, d in points]
        ).to_json()
    by_period = [(labels[row.release_id], c) for row, c in curves]
    if kind == "solar":
        curve_heading, chart = "P50 energy-normalised curve by period", "solar-curve-trend"
        curve_figure = figures.solar_curve_trend_figure(by_period)
    else:
        curve_heading, chart = "P50 power curve by period", "curve-trend"
        curve_figure = figures.curve_trend_figure(by_period)
    return _page(
        request,
        "trends.html",
        periods=periods,
        curve_heading=curve_heading,
        curve_figure=curve_figure.to_json(),
        curve_data=data_links(f"/api/trends/charts/{chart}", cohort=cohort),
        distribution_figure=distribution_figure,
        distribution_data=data_links("/api/trends/charts/distribution-trend", cohort=cohort, indicator=indicator),
        **context,
    )


@router.get("/api-docs")
def api_docs(request: Request) -> Response:
    """The JSON API, rendered from the app's own OpenAPI schema (no Swagger UI: it would load from a CDN)."""
    schema = request.app.openapi()
    operations = [
        {
            "method": method.upper(),
            "path": path,
            "summary": operation.get("summary", ""),
            "description": operation.get("description", ""),
            "parameters": [
                f"{p['name']} ({p['in']}{', required' if p.get('required') else ''})"
                for p in operation.get("parameters", [])
            ],
            "responses": sorted(operation.get("responses", {})),
        }
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]
    return _page(request, "api_docs.html", operations=operations, version=schema["info"]["version"])
