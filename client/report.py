"""The operator's local report: its own turbines against a final release, as one self-contained HTML file.

Everything is computed on the site, from the site's own export, against the release it received:
each turbine's binned power curve over the industry curve and its P10-P90 band, its flags with
their evidence (daily model residuals with the threshold and the alarm days), and its place in
each industry distribution ("you are here"). The file inlines Plotly and carries a
Content-Security-Policy that forbids any network access, so it opens offline and sends nothing.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd
import plotly.offline
from google.protobuf import json_format

from client.curve_diagnosis import diagnose_curve
from client.flags import FlagRules, turbine_flags
from client.indicators import criticality_alarms
from client.ingest import read_canonical_chunks
from client.maintenance import site_indicators
from client.power_curve import bin_index, bin_power_curve
from client.site_config import SiteConfig, load_site_config
from client.summaries import prepared_records
from common import figures
from common.atomic_file import write_text_atomically
from common.labels import indicator_label, wind_speed_reference_note
from common.release_json import read_release_json
from protos.domain import MIN_RECORDS_PER_BIN
from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.statistics import MONTHLY_INDICATORS

DEFAULT_RULES = FlagRules()
KPI_INDICATORS = ("performance_index", "yaw_misalignment", "time_availability", "production_availability")


def turbine_power_curves(
    read_chunks: Callable[[], Iterable[pd.DataFrame]],
    site: SiteConfig,
    spec: spec_pb2.BenchmarkSpec,
    min_records: int = MIN_RECORDS_PER_BIN,
) -> dict[str, figures.OwnCurve]:
    """Each turbine's binned power curve over the spec's period, after the spec's filters.

    The same records, density normalisation and bins as the site's contribution to the
    industry curve (:func:`client.summaries.prepared_records`), binned per turbine: bins with at
    least ``min_records`` records (IEC 61400-12-1:2017, 8.3), mean density-normalised wind speed
    [m/s] and mean P / P_rated [-].
    """
    grid = spec.wind_speed_bins
    n_turbines = len(site.turbines)
    count = np.zeros(n_turbines * grid.count)
    sum_wind_speed = np.zeros_like(count)
    sum_power_per_unit = np.zeros_like(count)
    for records in prepared_records(read_chunks, site, spec):
        ws_bin = bin_index(records.density_normalised_wind_speed, grid.first_centre, grid.width, grid.count)
        # One cell per (turbine, bin): the cohort kernel, run over turbines instead of cohorts.
        cell = np.where(ws_bin >= 0, records.asset * grid.count + ws_bin, -1)
        n, s_ws, s_pu, _ = bin_power_curve(
            cell, records.density_normalised_wind_speed, records.power_per_unit, len(count)
        )
        count += n
        sum_wind_speed += s_ws
        sum_power_per_unit += s_pu
    curves = {}
    for i, turbine in enumerate(site.turbines):
        cells = slice(i * grid.count, (i + 1) * grid.count)
        n = count[cells]
        shown = n >= max(min_records, 1)
        curves[turbine.asset_id] = figures.OwnCurve(
            label=f"{turbine.asset_id} (this site)",
            bin_centre=grid.first_centre + grid.width * np.flatnonzero(shown),
            wind_speed=sum_wind_speed[cells][shown] / n[shown],
            power_per_unit=sum_power_per_unit[cells][shown] / n[shown],
            records=n[shown].astype(np.int64),
        )
    return curves


@dataclass(frozen=True)
class TurbineSection:
    """What the report shows of one turbine."""

    asset_id: str
    cohort: str
    flags: list[dict]  # rows of turbine_flags for this turbine
    charts: list[tuple[str, str, str]]  # (element id, heading, figure JSON)
    notes: list[str]  # what the curve's wind speed is; what could not be drawn, and why
    check: str  # what its curve's shape against the typical turbine's says to check ("" when nothing)


def _turbine_section(
    asset_id: str,
    cohort: str,
    flags: pd.DataFrame,
    release: release_pb2.Release,
    own: figures.OwnCurve,
    daily_residuals: pd.DataFrame,
    monthly: pd.DataFrame,
    rules: FlagRules,
) -> TurbineSection:
    curve = next(c for c in release.curves if c.cohort == cohort)
    charts = [
        (
            f"{asset_id}-power-curve",
            "Power curve against the industry",
            figures.power_curve_figure(curve, own).to_json(),
        )
    ]
    notes = [wind_speed_reference_note(curve)]
    rows = flags[flags["asset_id"] == asset_id]
    values = dict(zip(rows["indicator"], rows["value"], strict=True))
    distributions = {d.indicator: d for d in release.distributions if d.cohort == cohort}
    check = _curve_check(curve, own, distributions.get("performance_index"))
    for indicator in KPI_INDICATORS:
        d = distributions.get(indicator)
        if d is None:
            continue
        if d.suppressed:
            notes.append(f"industry {indicator} not released: {d.suppression_reason}")
            continue
        value = values.get(indicator, float("nan"))
        figure = figures.distribution_figure(d, value, asset_id)
        charts.append((f"{asset_id}-{indicator}", f"{indicator_label(indicator)}: you are here", figure.to_json()))
    own_months = monthly[monthly["asset_id"] == asset_id].set_index("month")
    for indicator in MONTHLY_INDICATORS:
        industry = sorted(
            (d for d in release.monthly_distributions if (d.cohort, d.indicator) == (cohort, indicator)),
            key=lambda d: d.month,
        )
        if industry:
            figure = figures.monthly_figure(industry, own_months[indicator].to_dict(), asset_id)
            heading = f"{indicator_label(indicator)}, month by month"
            charts.append((f"{asset_id}-monthly-{indicator}", heading, figure.to_json()))
    mine = daily_residuals[(daily_residuals["asset_id"] == asset_id) & (daily_residuals["cohort"] == cohort)]
    for target, days in mine.groupby("target"):
        days = days.sort_values("day")
        residual = days["residual"].to_numpy(dtype=np.float64)
        alarm = criticality_alarms(residual > rules.residual_above_deg_c, rules.alarm_after_days)
        figure = figures.residual_figure(
            days["day"].to_numpy(), residual, alarm, rules.residual_above_deg_c, str(target), asset_id
        )
        heading = f"{indicator_label(f'residual:{target}')}, day by day"
        charts.append((f"{asset_id}-residual-{target}", heading, figure.to_json()))
    table = rows.assign(first_alarm=rows["first_alarm"].astype(str)).to_dict(orient="records")
    return TurbineSection(asset_id, cohort, table, charts, notes, check)


def _curve_check(
    curve: release_pb2.CohortCurve, own: figures.OwnCurve, performance: release_pb2.Distribution | None
) -> str:
    """What the turbine's curve against the typical turbine's says to check (:func:`diagnose_curve`)."""
    released = [b for b in curve.bins if not b.suppressed and b.HasField("mean_power_per_unit")]
    typical = performance.p50 if performance is not None and not performance.suppressed else 1.0
    diagnosis = diagnose_curve(
        own.wind_speed,
        own.power_per_unit,
        np.array([b.mean_wind_speed for b in released]),
        np.array([b.mean_power_per_unit for b in released]),
        typical,
    )
    return diagnosis.hint if diagnosis.shape in ("shift", "scale", "plateau") else ""


REPORT_HEAD = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
 content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1rem 2rem; color: #222; max-width: 1200px; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: left; font-size: 0.9rem; }
tr.flagged td, td.flagged { background: #fde8e8; }
.chart { width: 100%; min-height: 320px; }
.note { color: #666; font-style: italic; }
section.turbine { border-top: 2px solid #12355b; margin-top: 2rem; }
</style>
<script>{{ plotly_js | safe }}</script>
<script>{{ render_script | safe }}</script>
</head>
<body>
{% macro charts(items) -%}
{% for id, heading, figure in items %}
<h3>{{ heading }}</h3>
<div class="chart" id="{{ id }}" role="img" aria-label="{{ figure | accessible_name }}"
 data-figure="{{ figure }}"></div>
{% endfor %}
{%- endmacro %}
"""
"""Every local report's head (wind and solar): a Content-Security-Policy that forbids any network access,
the style, Plotly and the figure renderer inlined; ``title`` is the page's title."""

REPORT_TEMPLATE = (
    REPORT_HEAD
    + """<h1>{{ site.name }}: its turbines against the industry</h1>
<p>Release <strong>{{ release.spec_id }}</strong>, period {{ release.period.start }} .. {{ release.period.end }},
{{ release.provenance.participants }} operators (k = {{ release.k_min_operators }}), created
{{ release.provenance.created_utc }}.</p>
<p><strong>Computed on this machine</strong> from the data that <code>{{ site.path }}</code> maps;
nothing was sent anywhere. This file shows this site's own turbines: keep it within your organisation.</p>

<h2>Turbines, the most energy short first</h2>
<p><a id="ranking-csv" download="{{ site.name }}-ranking.csv" href="{{ downloads.ranking }}">CSV</a></p>
<table id="ranking">
<thead><tr><th>turbine</th><th>performance index</th><th>short of the median turbine [MWh]</th>
<th>lost in downtime [MWh]</th><th>total [MWh]</th><th>flags</th></tr></thead>
<tbody>{% for r in ranking %}<tr><td><a href="#{{ r.asset_id }}">{{ r.asset_id }}</a></td>
<td>{{ "%.3f" | format(r.performance_index) }}</td>
{% for key in ("short_of_median_mwh", "downtime_mwh", "total_mwh") %}
<td>{{ "%.0f" | format(r[key]) if r[key] == r[key] else "not measured" }}</td>{% endfor %}
<td>{{ r.flags }}</td></tr>{% endfor %}</tbody>
</table>

<h2>Flags</h2>
<p><a id="flags-csv" download="{{ site.name }}-indicators.csv" href="{{ downloads.flags }}">CSV, every indicator</a>
</p>
{% if flagged %}
<table id="flags">
<thead><tr><th>turbine</th><th>cohort</th><th>indicator</th><th>evidence</th><th>what to check</th></tr></thead>
<tbody>{% for f in flagged %}<tr class="flagged"><td><a href="#{{ f.asset_id }}">{{ f.asset_id }}</a></td>
<td>{{ f.cohort }}</td><td>{{ label(f.indicator) }}</td><td>{{ f.evidence }}</td>
<td>{{ checks.get(f.asset_id, "") if f.indicator == "performance_index" else "" }}</td></tr>{% endfor %}</tbody>
</table>
{% else %}<p id="flags">No turbine is flagged.</p>{% endif %}

<h2>Performance index, month by month</h2>
<p><a id="monthly-csv" download="{{ site.name }}-monthly.csv" href="{{ downloads.monthly }}">CSV, with the
industry's P10, P50 and P90 of each month</a>. A month below the industry's P10 is marked.</p>
{% if monthly is not none %}
<table id="monthly">
<thead><tr><th>turbine</th>{% for month in monthly.columns %}<th>{{ month }}</th>{% endfor %}</tr></thead>
<tbody>{% for asset_id, row in monthly.iterrows() %}<tr><td><a href="#{{ asset_id }}">{{ asset_id }}</a></td>
{% for month, value in row.items() %}<td class="{{ 'flagged' if below_p10.loc[asset_id, month] else '' }}">
{{- "%.1f %%" | format(100 * value) if value == value else "-" }}</td>{% endfor %}</tr>{% endfor %}</tbody>
</table>
{% endif %}
{% if unmatched %}
<p class="note">Not in any released cohort, so not compared: {{ unmatched | join(", ") }}.</p>
{% endif %}

{% for t in turbines %}
<section class="turbine" id="{{ t.asset_id }}">
<h2>{{ t.asset_id }} <small>({{ t.cohort }})</small></h2>
{% if t.check %}<p class="check"><strong>What to check:</strong> {{ t.check }}.</p>{% endif %}
<table>
<thead><tr><th>indicator</th><th>value</th><th>share of the industry below</th><th>flag</th></tr></thead>
<tbody>{% for f in t.flags %}<tr class="{{ 'flagged' if f.flagged else '' }}"><td>{{ label(f.indicator) }}</td>
<td>{{ "%.4g" | format(f.value) }}</td>
<td>{% if f.industry_percentile == f.industry_percentile %}{{ "%.0f %%" | format(100 * f.industry_percentile) }}
{%- else %}-{% endif %}</td>
<td>{{ f.evidence if f.flagged else '' }}</td></tr>{% endfor %}</tbody>
</table>
{% for note in t.notes %}<p class="note">{{ note }}</p>{% endfor %}
{{ charts(t.charts) }}
</section>
{% endfor %}
</body>
</html>
"""
)


def turbine_ranking(flags: pd.DataFrame) -> pd.DataFrame:
    """The site's turbines, the most energy short first: against the median turbine, and in downtime [MWh].

    One row per turbine: its performance index, the MWh it made less than the industry's median
    turbine would have from its wind in normal operation, the MWh it lost in downtime, their sum
    and how many of its indicators are flagged.
    """
    columns = ["asset_id", "performance_index", "short_of_median_mwh", "downtime_mwh", "total_mwh", "flags"]
    if not len(flags):
        return pd.DataFrame(columns=columns)
    by = flags.pivot_table(index="asset_id", columns="indicator", values="energy_mwh", aggfunc="first")
    ranking = pd.DataFrame(
        {
            "performance_index": flags[flags["indicator"] == "performance_index"].set_index("asset_id")["value"],
            "short_of_median_mwh": by.get("performance_index"),
            "downtime_mwh": by.get("time_availability"),
            "flags": flags.groupby("asset_id")["flagged"].sum(),
        }
    )
    ranking["total_mwh"] = ranking[["short_of_median_mwh", "downtime_mwh"]].sum(axis=1, min_count=1)
    ranking = ranking.sort_values("total_mwh", ascending=False, na_position="last")
    return ranking.reset_index(names="asset_id")[columns]


def monthly_table(monthly: pd.DataFrame, release: release_pb2.Release, cohort_of: dict[str, str]) -> pd.DataFrame:
    """Each compared turbine's month: its performance index and time availability beside its cohort's P10/P50/P90.

    One row per (asset_id, month); the industry columns are empty where the month is suppressed
    (``industry_note`` says why) or not released.
    """
    industry = pd.DataFrame(
        [
            {
                "cohort": d.cohort,
                "month": d.month,
                "indicator": d.indicator,
                **{name: getattr(d, name) if d.HasField(name) else np.nan for name in ("p10", "p50", "p90")},
                "note": f"{d.indicator} suppressed: {d.suppression_reason}" if d.suppressed else "",
            }
            for d in release.monthly_distributions
        ],
        columns=["cohort", "month", "indicator", "p10", "p50", "p90", "note"],
    )
    table = monthly[monthly["asset_id"].isin(list(cohort_of))].assign(cohort=lambda f: f["asset_id"].map(cohort_of))
    for indicator in MONTHLY_INDICATORS:
        mine = industry[industry["indicator"] == indicator].drop(columns="indicator")
        mine = mine.rename(columns={name: f"industry_{name}_{indicator}" for name in ("p10", "p50", "p90", "note")})
        table = table.merge(mine, on=["cohort", "month"], how="left")
    notes = table[[f"industry_note_{indicator}" for indicator in MONTHLY_INDICATORS]].fillna("")
    table["industry_note"] = notes.apply(lambda row: "; ".join(n for n in row if n), axis=1)
    table = table.drop(columns=list(notes.columns))
    return table.sort_values(["asset_id", "month"]).reset_index(drop=True)


def csv_link(table: pd.DataFrame) -> str:
    """``table`` as a data: URL of CSV, for a download link that needs no server and no network."""
    return "data:text/csv;charset=utf-8," + urllib.parse.quote(table.to_csv(index=False))


def render_report(site: SiteConfig, release: release_pb2.Release, rules: FlagRules = DEFAULT_RULES) -> str:
    """The report of ``site``'s turbines against the final ``release``, as HTML.

    Raises
    ------
    ValueError
        If the release has no indicator round (a round-1 release has no distributions to compare with).
    """
    if not release.HasField("indicator_spec"):
        raise ValueError(
            f"release {release.spec_id} has no indicator round; the report needs a final (two-round) release"
        )
    spec = release.indicator_spec
    indicators = site_indicators(lambda: read_canonical_chunks(site), site, spec, release)
    flags = turbine_flags(indicators, release, rules)
    own = turbine_power_curves(lambda: read_canonical_chunks(site), site, spec)
    cohort_of = dict(zip(flags["asset_id"], flags["cohort"], strict=False)) if len(flags) else {}
    sections = [
        _turbine_section(
            t.asset_id,
            cohort_of[t.asset_id],
            flags,
            release,
            own[t.asset_id],
            indicators.daily_residuals,
            indicators.monthly,
            rules,
        )
        for t in site.turbines
        if t.asset_id in cohort_of
    ]
    flagged = flags[flags["flagged"]].to_dict(orient="records") if len(flags) else []
    ranking = turbine_ranking(flags)
    months = monthly_table(indicators.monthly, release, cohort_of)
    return render_html(
        REPORT_TEMPLATE,
        title=f"{site.name}: turbines against {release.spec_id}",
        site=site,
        release=release,
        flagged=flagged,
        turbines=sections,
        checks={section.asset_id: section.check for section in sections},
        ranking=ranking.to_dict(orient="records"),
        downloads={
            "ranking": csv_link(ranking),
            "flags": csv_link(flags.drop(columns=["first_alarm"]) if len(flags) else flags),
            "monthly": csv_link(months),
        },
        monthly=months.pivot(index="asset_id", columns="month", values="performance_index") if len(months) else None,
        below_p10=(
            months.assign(low=months["performance_index"] < months["industry_p10_performance_index"]).pivot(
                index="asset_id", columns="month", values="low"
            )
            if len(months)
            else None
        ),
        unmatched=[t.asset_id for t in site.turbines if t.asset_id not in cohort_of],
    )


def render_html(template: str, **context: object) -> str:
    """A local report's ``template`` (:data:`REPORT_HEAD` and its body) rendered with ``context``.

    Autoescaped, strict about undefined names, with the indicator labels and the charts' accessible
    names; Plotly and the figure renderer inlined, so the file needs no network.
    """
    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    environment.globals["label"] = indicator_label
    environment.filters["accessible_name"] = figures.accessible_name
    return environment.from_string(template).render(
        plotly_js=plotly.offline.get_plotlyjs(), render_script=figures.RENDER_SCRIPT, **context
    )


def write_report(site_config: Path, release_json: Path, out: Path, rules: FlagRules = DEFAULT_RULES) -> Path:
    """Write the report of the site ``site_config`` against ``release_json`` to ``out`` atomically; return ``out``.

    A reader sees the previous file or the new one, never a part: the HTML goes to a temporary file
    beside ``out`` and replaces it in one step. The file is readable by its owner only (mode 0600,
    as the temporary file is created): it shows the site's own turbines.
    """
    release = read_received_release(release_json, out)
    return write_html(out, render_report(load_site_config(Path(site_config)), release, rules))


def read_received_release(release_json: Path, out: Path) -> release_pb2.Release:
    """The release a report reads, once its ``out`` folder is known to exist (each refused with the fix)."""
    out = Path(out)
    if not out.parent.is_dir():
        raise FileNotFoundError(f"--out {out}: folder {out.parent} does not exist; create it or choose another path")
    try:
        return read_release_json(Path(release_json))
    except (ValueError, json_format.ParseError) as exc:
        raise ValueError(
            f"--release {release_json} is not a release JSON ({exc}); use the one the site keeps under releases/"
        ) from None


def write_html(out: Path, html: str) -> Path:
    """Write a report's ``html`` to ``out`` atomically, readable by its owner only (0600); return ``out``."""
    write_text_atomically(Path(out), html)
    return Path(out)
