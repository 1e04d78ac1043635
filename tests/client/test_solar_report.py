"""The solar operator's report: the plant's own figures on the industry's, its flagged inverters, opened offline."""

from __future__ import annotations

import re
from dataclasses import replace
from html import unescape
from types import SimpleNamespace

import numpy as np
import pytest
from browser import docs_screenshot, offline_browser
from solar_releases import COHORT, two_solar_releases

from client.release_check import kept_census
from client.solar.ingest import read_solar_chunks
from client.solar.performance import underperforming_inverters
from client.solar.report import failure_table, plant_curve
from client.solar.site_config import load_solar_site_config
from client.solar.summaries import RECENT_DAYS, lost_production_shares, summarise_plant
from common.release_json import read_release_json
from fleetbench.cli import main
from protos.domain import SOLAR_COMPONENTS


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory):
    made = two_solar_releases(tmp_path_factory)
    out = tmp_path_factory.mktemp("solar-report") / "report.html"
    site, received = made.site_configs[0], made.received(0, 0)
    assert main(["report", "--site", str(site), "--release", str(received), "--out", str(out)]) == 0
    config = load_solar_site_config(site)
    release = read_release_json(received)
    spec, _ = kept_census(site, release.provenance.spec_sha256)
    summary = summarise_plant(lambda: read_solar_chunks(config), config, spec)
    return SimpleNamespace(out=out, site=config, release=release, summary=summary, html=out.read_text())


def test_the_report_shows_the_plants_own_figures_and_its_flagged_inverters(report):
    html, summary, site = unescape(report.html), report.summary, report.site
    plant = html.split('id="plant"')[1].split("</table>")[0]
    assert f"<td>{summary.performance_ratio:.3f}</td>" in plant
    assert f"<td>{summary.performance_ratio_stc:.3f}</td>" in plant
    assert "not estimated: needs two years" in plant  # one year of data: no year-on-year degradation
    under = underperforming_inverters(summary.inverter_ratio)
    flagged = [inverter.inverter_id for inverter, f in zip(site.inverters, under, strict=True) if f]
    if flagged:
        table = html.split('id="flags"')[1].split("</table>")[0]
        assert re.findall(r'<tr class="flagged"><td>([^<]+)</td>', table) == flagged
    else:
        assert "No inverter underperforms." in html
    for inverter in site.inverters:
        assert f"availability of inverter {inverter.inverter_id}" in html
    assert f"Against cohort {COHORT}" in html and "Against cohort fixed" not in html  # suppressed: nothing to compare
    # The wind report's head: network forbidden (the browser test checks nothing is asked for).
    assert "default-src 'none'" in html
    assert report.out.stat().st_mode & 0o077 == 0


def test_the_loss_table_places_the_plants_share_by_cause_on_the_industrys_plants(report):
    html, summary = unescape(report.html), report.summary
    table = html.split('class="losses"')[1].split("</table>")[0]
    cells = r"<td>([^<]+)</td>\s*" * 5
    rows = re.findall(r"<tr>\s*" + cells, table)
    shares = lost_production_shares(summary)
    assert len(rows) == len(shares) == len(report.release.solar.loss_categories)
    industry = {d.indicator: d for d in report.release.distributions if d.cohort == COHORT}
    for (_, mwh, own, p50, below), category, kwh, share in zip(
        rows, report.release.solar.loss_categories, summary.lost_energy_kwh, shares, strict=True
    ):
        assert float(mwh) == pytest.approx(kwh / 1000.0, abs=0.005) and float(own) == pytest.approx(share, abs=0.005)
        d = industry[f"lost_production:{category}"]
        assert float(p50) == pytest.approx(d.p50, abs=0.005)
        assert 0 <= float(below.rstrip(" %")) <= 100


def test_a_wind_release_is_refused_with_what_to_do(report, tmp_path, capsys):
    wind = tmp_path / "wind.json"
    wind.write_text('{"contract": "fleetbench/v1", "spec_id": "q1"}')
    site = str(report.site.path)
    assert main(["report", "--site", site, "--release", str(wind), "--out", str(tmp_path / "r.html")]) == 2
    assert "is not a solar release" in capsys.readouterr().err


def test_the_solar_report_opens_offline_with_the_plants_curve_over_the_cohorts(report, tmp_path):
    own = plant_curve(report.summary, report.release.solar.irradiance_bins, "")
    with offline_browser() as browser:
        page = browser.context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(report.out.as_uri())
        every_chart_drawn = "() => [...document.querySelectorAll('.chart')].every(c => c.querySelector('.main-svg'))"
        page.wait_for_function(every_chart_drawn)
        curve = page.locator(f"#{COHORT}-solar-curve .subplot.xy .scatterlayer .trace")
        # P10, P90, P50, industry mean (suppressed bins, if any), then the plant's own curve, last.
        assert curve.nth(curve.count() - 1).locator("path.point").count() == len(own.records) > 10
        here = page.locator(f"#{COHORT}-performance_ratio .annotation-text").all_text_contents()
        assert any(text.startswith(f"{report.site.name}: ") for text in here), here
        chart = page.locator(f"#{COHORT}-solar-curve")
        chart.screenshot(path=str(tmp_path / "solar-curve.png"))
        docs_screenshot(chart, "report-solar-curve.png")
        assert errors == []
    browser.assert_offline()
    assert np.all([url.startswith("file://") for url in browser.requested])


def test_the_report_says_how_many_hours_it_took_as_snow(report, monkeypatch):
    """A plant whose summary took hours as snow says so beside its inverters; one without says nothing of snow."""
    import client.solar.report as solar_report

    assert 'id="snow"' not in report.html
    snowy = replace(report.summary, snow_hours=np.array([6.0, 6.25] + [0.0] * (len(report.site.inverters) - 2)))
    monkeypatch.setattr(solar_report, "summarise_plant", lambda *_: snowy)
    html = unescape(solar_report.render_solar_report(report.site, report.release))
    assert re.search(r'id="snow">12 inverter-hours without output in good\s+light', html)


def test_a_plant_without_light_enough_for_a_pr_says_why_it_has_none(report, monkeypatch):
    """A summary whose insolation is under MIN_PR_INSOLATION (polar night) shows no PR, and says why beside the plant's
    figures and in place of its position; one with light enough says nothing of it."""
    import client.solar.report as solar_report

    assert 'id="no-pr"' not in report.html
    dark = replace(
        report.summary, performance_ratio=np.nan, performance_ratio_stc=np.nan, insolation_kwh_per_m2_day=0.0051
    )
    monkeypatch.setattr(solar_report, "summarise_plant", lambda *_: dark)
    html = unescape(solar_report.render_solar_report(report.site, report.release))
    why = "not computed: the in-plane insolation averaged 0.0051 kWh/m^2 a day, under the 0.5 a PR needs"
    assert f'id="no-pr">PR: {why}' in html
    positions = html.split('class="positions"')[1].split("</table>")[0]
    assert positions.count(why) == 2  # PR and PR_STC


def test_the_inverters_window_is_the_days_there_are_and_a_plant_without_light_says_so(report, monkeypatch):
    """The flag's window names the days with light it holds and their dates (the period's, fewer than RECENT_DAYS in
    a short one); a plant with no day in good light (polar night) says no inverter is judged, not "( .. )"."""
    import client.solar.report as solar_report

    inverters = solar_report.inverter_table(report.summary, report.site)
    days, first, last = inverters[["recent_days", "recent_from", "recent_to"]].iloc[0]
    assert days == min((report.summary.inverter_daily[1].sum(axis=0) > 0).sum(), RECENT_DAYS)
    text = re.sub(r"\s+", " ", unescape(report.html))
    assert f"the period's last {days} days with light ({first} .. {last})" in text
    dark = replace(report.summary, inverter_daily=np.zeros_like(report.summary.inverter_daily))
    monkeypatch.setattr(solar_report, "summarise_plant", lambda *_: dark)
    html = re.sub(r"\s+", " ", unescape(solar_report.render_solar_report(report.site, report.release)))
    assert "No inverter is judged: no day of the period has records in good light (200 W/m^2 or more" in html
    assert "( .. )" not in html


def test_an_inverter_whose_every_status_is_blank_has_no_availability_and_says_why(report, monkeypatch):
    """Blank status cells count neither for nor against availability: an inverter with nothing but blanks has none,
    and the report says it had no daylight record with a status code (not that it had no daylight)."""
    import client.solar.report as solar_report

    availability = report.summary.inverter_availability.copy()
    availability[0] = np.nan
    monkeypatch.setattr(
        solar_report, "summarise_plant", lambda *_: replace(report.summary, inverter_availability=availability)
    )
    html = re.sub(r"\s+", " ", unescape(solar_report.render_solar_report(report.site, report.release)))
    first = report.site.inverters[0].inverter_id
    assert re.search(
        rf"availability of inverter {first}</td> <td>-</td> <td>-</td><td>no daylight records with a status code", html
    )


def test_the_failure_table_notes_a_private_rates_noise_beside_the_plants_own(report):
    """The plant's failures per inverter-year beside the industry's: exact, or with the noise a private release
    puts on it; withheld, with why."""
    private = type(report.release)()
    private.CopyFrom(report.release)
    rates = [r for r in private.solar_failure_rates if r.cohort == COHORT]
    for rate in rates:
        rate.ClearField("operator_count")
        rate.ClearField("mean_downtime_hours")
        rate.rate_noise_stddev = 0.031
    rates[1].suppressed, rates[1].suppression_reason = True, "its inverter-years do not stand out from the noise"
    rates[0].failures_per_inverter_year = 0.25
    rates[2].mean_downtime_hours, rates[2].mean_downtime_noise_stddev = 7.5, 2.25
    table = failure_table(report.summary, private, COHORT).set_index("component")
    first, second, third = (r.component for r in rates[:3])
    assert table.loc[first, "industry"] == 0.25 and np.isnan(table.loc[first, "industry_hours_per_failure"])
    assert table.loc[first, "note"] == (
        "industry 0.250 +- 0.031 per inverter-year from the privacy noise, each inverter's failures counted up to "
        "the spec's cap (the release's note)"
    )
    assert np.isnan(table.loc[second, "industry"]) and "do not stand out" in table.loc[second, "note"]
    assert table.loc[third, "industry_hours_per_failure"] == 7.5
    assert "; 8 +- 2 h per failure, each inverter's hours counted up to the spec's cap" in table.loc[third, "note"]
    exact = failure_table(report.summary, report.release, COHORT).set_index("component")
    assert (exact["note"] == "").all()
    years = report.summary.failure_inverter_years
    np.testing.assert_allclose(exact["per_inverter_year"], report.summary.failures / years)
    n = len(report.summary.failures)
    failing = replace(report.summary, failures=np.r_[2.0, np.zeros(n - 1)], failure_hours=np.r_[5.0, np.zeros(n - 1)])
    mean_downtime = type(report.release)()
    mean_downtime.CopyFrom(report.release)
    component = SOLAR_COMPONENTS[0]
    rate = next(r for r in mean_downtime.solar_failure_rates if (r.cohort, r.component) == (COHORT, component))
    rate.mean_downtime_hours = 12.0
    table = failure_table(failing, mean_downtime, COHORT).set_index("component")
    assert table.loc[component, "hours_per_failure"] == 2.5 and table.loc[component, "industry_hours_per_failure"] == 12
    assert np.isnan(table["hours_per_failure"].iloc[1])
