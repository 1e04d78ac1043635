"""The solar operator's local report: its plant against a solar release, as one self-contained HTML file.

Everything is computed on the site, from the plant's own export and the release it received: the
plant's performance ratio (plain and temperature-corrected), degradation rate with its interval,
soiling loss, clipping share and each inverter's availability placed on the industry's
distributions ("you are here"), its energy-normalised curve over the cohort's, the inverters
:func:`client.solar.performance.underperforming_inverters` flags with the energy they lose, its lost
energy by cause on the cohort's plants' shares, and its failures by component against the cohort's
rates. The plant is summarised for the very spec it contributed under (kept beside its site.toml,
:func:`client.release_check.kept_census`), so its cohorts and its figures are those it sent. The file
is the wind report's (client/report.py): Plotly inlined and a Content-Security-Policy that forbids
any network access.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from client.indicators import position_in_distribution
from client.release_check import kept_census, kept_censuses_dir
from client.report import REPORT_HEAD, csv_link, read_received_release, render_html, write_html
from client.solar.ingest import read_solar_chunks
from client.solar.performance import (
    MIN_PR_INSOLATION,
    UNDERPERFORMANCE_THRESHOLD,
    underperforming_inverters,
    underperforming_since,
)
from client.solar.site_config import SolarSiteConfig, load_solar_site_config
from client.solar.summaries import (
    NORMALISATION_IRRADIANCE,
    RECENT_DAYS,
    PlantSummary,
    lost_production_shares,
    plant_values,
    summarise_plant,
)
from common import figures
from common.labels import SOLAR_CURVE_NOTE, indicator_label, loss_category_label
from protos.disclosure import plant_in_cohort
from protos.domain import KWH_PER_MWH, MIN_RECORDS_PER_BIN, SOLAR_COMPONENTS, SOLAR_LOSS_CATEGORIES
from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.statistics import SOLAR_INDICATORS


def plant_curve(summary: PlantSummary, grid: spec_pb2.BinGrid, label: str) -> figures.OwnSolarCurve:
    """The plant's energy-normalised curve: mean specific power [kW/kWp] per irradiance bin [W/m^2].

    The very sums the plant added to the cohort's curve, per bin with at least MIN_RECORDS_PER_BIN records.
    """
    shown = summary.curve_records >= MIN_RECORDS_PER_BIN
    return figures.OwnSolarCurve(
        label=label,
        irradiance_centre=grid.first_centre + grid.width * np.flatnonzero(shown),
        specific_power=summary.curve_sum[shown] / summary.curve_records[shown],
        records=summary.curve_records[shown].astype(np.int64),
    )


def inverter_table(
    summary: PlantSummary, site: SolarSiteConfig, threshold: float = UNDERPERFORMANCE_THRESHOLD
) -> pd.DataFrame:
    """Each inverter: availability, recent measured/expected ratio, whether it underperforms, since when, its loss.

    An inverter underperforms when its ratio over the window, the period's last RECENT_DAYS days with
    expected energy (all of them in a shorter period: ``recent_days`` says how many), is below
    ``threshold`` times the plant's median (:func:`underperforming_inverters`); since when is the
    first day of its latest run below (:func:`underperforming_since`, 14-day windows: a fault shows
    about a week after it began, sooner when it is deep). Its shortfall is counted from that day to
    the period's end (``shortfall_from``; from the window's first day for an inverter back above the
    line by then, and for the others), so days before a fault do not dilute it: its ratio to the
    plant's median inverter's over those days, and what it lost, (median ratio - its ratio) x its own
    expected energy over them, the energy it would have made at the median inverter's ratio [MWh].
    """
    ratio = np.asarray(summary.inverter_ratio, dtype=np.float64)
    flagged = underperforming_inverters(ratio, threshold)
    measured, expected = summary.inverter_daily
    days = np.flatnonzero(expected.sum(axis=0) > 0)[-RECENT_DAYS:]
    since = underperforming_since(summary.inverter_daily, threshold)
    first = np.where(flagged & (since >= 0), since, days[0] if len(days) else 0)
    to_median, lost_kwh = np.full(len(ratio), np.nan), np.zeros(len(ratio))
    with np.errstate(invalid="ignore", divide="ignore"):
        for j, day in enumerate(first):
            ratios = measured[:, day:].sum(axis=1) / expected[:, day:].sum(axis=1)
            median = np.nanmedian(ratios) if np.isfinite(ratios).any() else math.nan
            to_median[j] = ratios[j] / median
            lost_kwh[j] = (median - ratios[j]) * expected[j, day:].sum() if flagged[j] else 0.0
    dates = summary.daily.index
    return pd.DataFrame(
        {
            "inverter": [inverter.inverter_id for inverter in site.inverters],
            "availability": summary.inverter_availability,
            "ratio_to_expected": ratio,
            "underperforming": flagged,
            "underperforming_since": [
                dates[d].date().isoformat() if is_flagged and d >= 0 else ""
                for d, is_flagged in zip(since, flagged, strict=True)
            ],
            "shortfall_from": [dates[d].date().isoformat() if len(days) else "" for d in first],
            "ratio_to_plant_median": to_median,
            "lost_mwh": lost_kwh / KWH_PER_MWH,
            "recent_days": len(days),
            "recent_from": dates[days[0]].date().isoformat() if len(days) else "",
            "recent_to": dates[days[-1]].date().isoformat() if len(days) else "",
        }
    )


def loss_table(summary: PlantSummary, release: release_pb2.Release, cohort: str) -> pd.DataFrame:
    """Lost energy by cause: the plant's [MWh] and share of its potential [%], placed on the cohort's plants' shares.

    ``industry_p50`` is the median plant's share [%], ``share_below`` the share of the cohort's plants that lost
    less (NaN where the cohort's distribution is withheld, ``industry_note`` says why).
    """
    shares = lost_production_shares(summary)
    industry = {d.indicator: d for d in release.distributions if d.cohort == cohort}
    rows = []
    for category, kwh, share in zip(SOLAR_LOSS_CATEGORIES, summary.lost_energy_kwh, shares, strict=True):
        d = industry.get(f"lost_production:{category}")
        released = d is not None and not d.suppressed and d.HasField("p50")
        rows.append(
            {
                "category": category,
                "lost_mwh": kwh / KWH_PER_MWH,
                "percent_of_potential": share,
                "industry_p50": d.p50 if released else math.nan,
                "share_below": (
                    position_in_distribution(share, np.array(d.counts, dtype=float), d.bins.first_centre, d.bins.width)
                    if released and math.isfinite(share)
                    else math.nan
                ),
                "industry_note": f"suppressed: {d.suppression_reason}" if d is not None and d.suppressed else "",
            }
        )
    return pd.DataFrame(rows)


def failure_table(summary: PlantSummary, release: release_pb2.Release, cohort: str) -> pd.DataFrame:
    """Failures by component: the plant's count, hours, rate per inverter-year and hours per failure, and the cohort's.

    Empty when the plant names no failure codes ([status.components]) or maps no status column; the industry's
    rate is NaN where the cohort's cell is withheld (``note`` says why), its hours per failure NaN where the
    release has none (a private spec that does not bound downtime, or failures that do not stand out).
    """
    years = summary.failure_inverter_years
    columns = ["component", "failures", "hours", "per_inverter_year", "hours_per_failure", "industry"]
    if summary.failures is None or summary.failure_hours is None or not years:
        return pd.DataFrame(columns=[*columns, "industry_hours_per_failure", "note"])
    industry = {r.component: r for r in release.solar_failure_rates if r.cohort == cohort}
    rows = []
    for component, failures, hours in zip(SOLAR_COMPONENTS, summary.failures, summary.failure_hours, strict=True):
        rate = industry.get(component)
        released = rate is not None and not rate.suppressed and rate.HasField("failures_per_inverter_year")
        rows.append(
            {
                "component": component,
                "failures": int(failures),
                "hours": float(hours),
                "per_inverter_year": failures / years,
                "hours_per_failure": hours / failures if failures else math.nan,
                "industry": rate.failures_per_inverter_year if released else math.nan,
                "industry_hours_per_failure": (
                    rate.mean_downtime_hours if released and rate.HasField("mean_downtime_hours") else math.nan
                ),
                "note": _failure_rate_note(rate),
            }
        )
    return pd.DataFrame(rows)


def _failure_rate_note(rate: release_pb2.SolarFailureRate | None) -> str:
    """Why the industry's rate is missing, or the noise a private release put on it."""
    if rate is None:
        return ""
    if rate.suppressed:
        return f"suppressed: {rate.suppression_reason}"
    if rate.HasField("rate_noise_stddev"):  # the release's note says the cap, which under-counts frequent failers
        downtime = (
            f"; {rate.mean_downtime_hours:.0f} +- {rate.mean_downtime_noise_stddev:.0f} h per failure, each "
            "inverter's hours counted up to the spec's cap"
            if rate.HasField("mean_downtime_noise_stddev")
            else ""
        )
        return (
            f"industry {rate.failures_per_inverter_year:.3f} +- {rate.rate_noise_stddev:.3f} per inverter-year from "
            f"the privacy noise, each inverter's failures counted up to the spec's cap{downtime} (the release's note)"
        )
    return ""


@dataclass(frozen=True)
class CohortSection:
    """What the report shows of the plant in one cohort it belongs to."""

    cohort: str
    positions: list[dict]  # label, value, unit, share of the industry below, note
    charts: list[tuple[str, str, str]]  # (element id, heading, figure JSON)
    losses: list[dict]  # rows of loss_table
    failures: list[dict]  # rows of failure_table


def _cohort_section(
    cohort: str, release: release_pb2.Release, summary: PlantSummary, inverters: pd.DataFrame, site: SolarSiteConfig
) -> CohortSection:
    curve = next(c for c in release.solar_curves if c.cohort == cohort)
    own = plant_curve(summary, release.solar.irradiance_bins, f"{site.name} (this plant)")
    charts = [
        (
            f"{cohort}-solar-curve",
            "Energy-normalised curve against the industry",
            figures.solar_curve_figure(curve, release.solar.irradiance_bins.width, own).to_json(),
        )
    ]
    distributions = {d.indicator: d for d in release.distributions if d.cohort == cohort}
    values = plant_values(summary)
    positions = []
    for indicator in SOLAR_INDICATORS:
        d = distributions.get(indicator)
        if indicator == "inverter_availability":
            lowest = (
                int(np.nanargmin(summary.inverter_availability))
                if np.isfinite(summary.inverter_availability).any()
                else None
            )
            value = float(summary.inverter_availability[lowest]) if lowest is not None else math.nan
            label = f"{site.inverters[lowest].inverter_id} (lowest)" if lowest is not None else site.name
        else:
            value, label = values[indicator], site.name
        note = ""
        if not math.isfinite(value):
            note = _no_value(indicator, summary)
        elif d is None:
            note = "no industry distribution of it in this release"
        elif d.suppressed:
            note = f"industry distribution suppressed: {d.suppression_reason}"
        share = math.nan
        if d is not None and not d.suppressed:
            share = position_in_distribution(value, np.array(d.counts, dtype=float), d.bins.first_centre, d.bins.width)
            figure = figures.distribution_figure(d, value if math.isfinite(value) else None, label)
            charts.append((f"{cohort}-{indicator}", f"{indicator_label(indicator)}: you are here", figure.to_json()))
        if indicator != "inverter_availability":
            unit = d.bins.unit if d is not None else ""
            positions.append(
                {"label": indicator_label(indicator), "value": value, "unit": unit, "share_below": share, "note": note}
            )
    availability = distributions.get("inverter_availability")
    for row in inverters.itertuples(index=False):
        share = math.nan
        if availability is not None and not availability.suppressed:
            counts = np.array(availability.counts, dtype=float)
            share = position_in_distribution(
                row.availability, counts, availability.bins.first_centre, availability.bins.width
            )
        positions.append(
            {
                "label": f"availability of inverter {row.inverter}",
                "value": row.availability,
                "unit": "1",
                "share_below": share,
                "note": "" if math.isfinite(row.availability) else "no daylight records with a status code",
            }
        )
    losses = loss_table(summary, release, cohort)
    industry = [d for d in distributions.values() if d.indicator.startswith("lost_production:")]
    if industry:
        own_shares = dict(zip(losses["category"], losses["percent_of_potential"], strict=True))
        figure = figures.lost_production_distributions_figure(industry, own_shares, site.name)
        charts.append((f"{cohort}-lost-production", "Lost energy by cause against the industry", figure.to_json()))
    failures = failure_table(summary, release, cohort)
    rates = [r for r in release.solar_failure_rates if r.cohort == cohort]
    if rates and len(failures):
        own = dict(zip(failures["component"], failures["per_inverter_year"], strict=True))
        figure = figures.solar_failure_rate_figure(rates, own, site.name)
        charts.append((f"{cohort}-failures", "Failures by component against the industry", figure.to_json()))
    return CohortSection(
        cohort, positions, charts, losses.to_dict(orient="records"), failures.to_dict(orient="records")
    )


def _no_value(indicator: str, summary: PlantSummary) -> str:
    """Why the plant has no value of ``indicator`` over the period."""
    if indicator.startswith("performance_ratio") and summary.insolation_kwh_per_m2_day < MIN_PR_INSOLATION:
        return _too_dark(summary)
    if indicator.startswith("degradation"):
        return "not estimated: year-on-year degradation needs two years of the period"
    if indicator == "soiling_loss":
        return "not estimated: RdTools found no soiling interval in the period"
    return "no records in the period"


def _too_dark(summary: PlantSummary) -> str:
    """Why a plant with records has no PR: too little light for one."""
    return (
        f"not computed: the in-plane insolation averaged {summary.insolation_kwh_per_m2_day:.2g} kWh/m^2 a day, under "
        f"the {MIN_PR_INSOLATION:g} a PR needs (below it the sensor's offset and the inverters' night consumption "
        "outweigh the light)"
    )


REPORT_BODY = """
<h1>{{ site.name }}: its plant against the industry</h1>
<p>Release <strong>{{ release.spec_id }}</strong>, period {{ release.period.start }} .. {{ release.period.end }},
{{ release.provenance.participants }} operators (k = {{ release.k_min_operators }}), created
{{ release.provenance.created_utc }}.</p>
<p><strong>Computed on this machine</strong> from the data that <code>{{ site.path }}</code> maps, for the spec this
plant contributed under; nothing was sent anywhere. This file shows this plant's own figures: keep it within your
organisation.</p>

<h2>How much: the plant over the period</h2>
<table id="plant">
<thead><tr><th>performance ratio PR</th><th>PR_STC</th><th>degradation [%/year]</th><th>soiling loss [%]</th>
<th>clipping share</th><th>produced [MWh]</th><th>lost [MWh]</th></tr></thead>
<tbody><tr><td>{{ fmt(values.performance_ratio, "%.3f") }}</td><td>{{ fmt(values.performance_ratio_stc, "%.3f") }}</td>
<td>{% if degradation %}{{ "%+.2f" | format(degradation.rate_pct_per_year) }}
({{ "%+.2f" | format(degradation.ci_low) }} .. {{ "%+.2f" | format(degradation.ci_high) }},
{{ "%.1f" | format(confidence) }} %){% else %}not estimated: needs two years{% endif %}</td>
<td>{{ fmt(values.soiling_loss, "%.2f") }}</td><td>{{ fmt(100 * values.clipping_share, "%.1f %%") }}</td>
<td>{{ "%.0f" | format(produced_mwh) }}</td><td>{{ fmt(lost_mwh, "%.1f") }}</td></tr></tbody>
</table>
{% if too_dark %}<p class="note" id="no-pr">PR: {{ too_dark }}.</p>{% endif %}

<h2>What to check: inverters</h2>
<p><a id="inverters-csv" download="{{ site.name }}-inverters.csv" href="{{ downloads.inverters }}">CSV</a>.
{% if recent_days %}An inverter is flagged when its measured over expected energy of the period's last {{ recent_days }}
days with light ({{ recent_from }} .. {{ recent_to }}) is below {{ "%.0f" | format(100 * threshold) }} % of the
plant's median inverter's. "Since" is the first day of its latest run below that line in 14-day windows (a fault shows
about a week after it began, sooner when it is deep); its ratio and what it lost, the energy it would have made at the
median inverter's ratio, are counted from then to the period's end (from {{ recent_from }} for an inverter back above
the line by then).{% else %}No inverter is judged: no day of the period has records in good light
({{ good_light }} W/m^2 or more in the plane of the modules) to compare them by.{% endif %}</p>
{% if flagged %}
<table id="flags">
<thead><tr><th>inverter</th><th>since</th><th>ratio to the plant's median since then</th>
<th>lost since then [MWh]</th><th>availability</th></tr></thead>
<tbody>{% for f in flagged %}<tr class="flagged"><td>{{ f.inverter }}</td>
<td>{{ f.underperforming_since or "-" }}</td><td>{{ "%.1f %%" | format(100 * f.ratio_to_plant_median) }}</td>
<td>{{ "%.1f" | format(f.lost_mwh) }}</td>
<td>{{ fmt(100 * f.availability, "%.1f %%") }}</td></tr>{% endfor %}</tbody>
</table>
{% elif recent_days %}<p id="flags">No inverter underperforms.</p>{% endif %}
{% if snow_hours %}<p class="note" id="snow">{{ "%.0f" | format(snow_hours) }} inverter-hours without output in good
light, with the modules at the snow's temperature, were taken as snow on the modules, not as inverters out: they count
neither for nor against availability (the export has no status codes to tell).</p>{% endif %}

{% if not sections %}
<p class="note" id="no-cohort">This plant is in no cohort of the release that carries a curve, so it is compared
with nothing.</p>
{% endif %}
{% for s in sections %}
<section class="turbine" id="cohort-{{ loop.index }}">
<h2>Against cohort {{ s.cohort }}</h2>
<p class="note">{{ curve_note }}</p>
<h3>Where it stands in the industry</h3>
<table class="positions">
<thead><tr><th>indicator</th><th>this plant</th><th>share of the industry below</th><th></th></tr></thead>
<tbody>{% for p in s.positions %}<tr><td>{{ p.label }}</td>
<td>{{ fmt(p.value, "%.4g") }}{% if p.unit and p.unit != "1" %} {{ p.unit }}{% endif %}</td>
<td>{{ fmt(100 * p.share_below, "%.0f %%") }}</td><td>{{ p.note }}</td></tr>{% endfor %}</tbody>
</table>
<h3>Lost energy by cause</h3>
<table class="losses">
<thead><tr><th>cause</th><th>this plant [MWh]</th><th>this plant [% of potential]</th>
<th>median plant of the industry [% of potential]</th><th>share of the industry's plants that lost less</th></tr>
</thead>
<tbody>{% for x in s.losses %}<tr><td>{{ loss_label(x.category) }}</td><td>{{ fmt(x.lost_mwh, "%.2f") }}</td>
<td>{{ fmt(x.percent_of_potential, "%.2f") }}</td>
<td>{{ x.industry_note or fmt(x.industry_p50, "%.2f") }}</td>
<td>{{ fmt(100 * x.share_below, "%.0f %%") }}</td></tr>{% endfor %}</tbody>
</table>
<h3>Failures by component</h3>
{% if s.failures %}
<table class="failures">
<thead><tr><th>component</th><th>this plant: failures</th><th>hours</th><th>per inverter-year</th>
<th>hours per failure</th><th>industry: per inverter-year</th><th>industry: hours per failure</th></tr></thead>
<tbody>{% for x in s.failures %}<tr><td>{{ x.component | replace("_", " ") }}</td><td>{{ x.failures }}</td>
<td>{{ "%.1f" | format(x.hours) }}</td><td>{{ fmt(x.per_inverter_year, "%.3f") }}</td>
<td>{{ fmt(x.hours_per_failure, "%.1f") }}</td>
<td>{{ x.note or fmt(x.industry, "%.3f") }}</td><td>{{ fmt(x.industry_hours_per_failure, "%.1f") }}</td></tr>
{% endfor %}</tbody>
</table>
{% else %}<p class="note">Not counted: site.toml names no failure codes ([status.components]) or maps no status
column.</p>{% endif %}
{{ charts(s.charts) }}
</section>
{% endfor %}
</body>
</html>
"""

SOLAR_REPORT_TEMPLATE = REPORT_HEAD + REPORT_BODY


def _fmt(value: float, fmt: str) -> str:
    """``value`` formatted, or "-" where it is NaN (not measured)."""
    return fmt % value if value is not None and math.isfinite(value) else "-"


def contributed_spec(site: SolarSiteConfig, release: release_pb2.Release) -> spec_pb2.BenchmarkSpec:
    """The values spec the plant contributed under to ``release``, as the site kept it.

    Raises
    ------
    ValueError
        If the release is not a solar one, or the site kept no spec of it (it did not take part).
    """
    if not release.HasField("solar"):
        raise ValueError(
            f"release {release.spec_id} is not a solar release: `fleetbench report` of a wind site reads it"
        )
    kept = kept_census(site.path, release.provenance.spec_sha256)
    if kept is None:
        raise ValueError(
            f"site {site.name} keeps no spec of release {release.spec_id} (no "
            f"{kept_censuses_dir(site.path) / (release.provenance.spec_sha256 + '.json')}): the report compares a "
            "plant with a release it contributed to"
        )
    return kept[0]


def render_solar_report(site: SolarSiteConfig, release: release_pb2.Release) -> str:
    """The report of ``site``'s plant against the solar ``release``, as HTML."""
    spec = contributed_spec(site, release)
    summary = summarise_plant(lambda: read_solar_chunks(site), site, spec)
    plant = site.plant
    member = [
        c.name
        for c in spec.cohorts
        if plant_in_cohort(c, plant.module_technology, plant.mounting, plant.climate_zone, site.dc_ac_ratio)
    ]
    released = {c.cohort for c in release.solar_curves if any(not b.suppressed for b in c.bins)}
    inverters = inverter_table(summary, site)
    sections = [_cohort_section(cohort, release, summary, inverters, site) for cohort in member if cohort in released]
    values = plant_values(summary)
    return render_html(
        SOLAR_REPORT_TEMPLATE,
        title=f"{site.name}: plant against {release.spec_id}",
        site=site,
        release=release,
        values=values,
        degradation=summary.degradation,
        too_dark=_too_dark(summary) if summary.insolation_kwh_per_m2_day < MIN_PR_INSOLATION else "",
        confidence=release.solar.degradation_confidence_level,
        produced_mwh=summary.produced_kwh / KWH_PER_MWH,
        lost_mwh=summary.lost_energy_kwh.sum() / KWH_PER_MWH,
        flagged=inverters[inverters["underperforming"]].to_dict(orient="records"),
        threshold=UNDERPERFORMANCE_THRESHOLD,
        recent_days=int(inverters["recent_days"].iloc[0]) if len(inverters) else 0,
        good_light=f"{NORMALISATION_IRRADIANCE:g}",
        snow_hours=float(summary.snow_hours.sum()),
        recent_from=inverters["recent_from"].iloc[0] if len(inverters) else "",
        recent_to=inverters["recent_to"].iloc[0] if len(inverters) else "",
        downloads={"inverters": csv_link(inverters)},
        sections=sections,
        curve_note=SOLAR_CURVE_NOTE,
        fmt=_fmt,
        loss_label=loss_category_label,
    )


def write_solar_report(site_config: Path, release_json: Path, out: Path) -> Path:
    """Write the report of solar site ``site_config`` against ``release_json`` to ``out`` atomically; return ``out``.

    As :func:`client.report.write_report`: the file replaces ``out`` in one step, readable by its owner only.
    """
    release = read_received_release(release_json, out)
    return write_html(out, render_solar_report(load_solar_site_config(Path(site_config)), release))
