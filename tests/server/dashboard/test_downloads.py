"""Every chart's data as CSV and JSON: what the chart draws, units in the column names, suppressed rows empty
with their reason, members only; the power curve's p.u./kW switch and the trends page with one release."""

from __future__ import annotations

import csv
import io
import json
import re
from html import unescape
from urllib.parse import quote

import pytest
from dashboard_releases import private_release
from fastapi.testclient import TestClient

from server.dashboard.app import create_app
from server.dashboard.downloads import ChartTable, table_response
from server.dashboard.tokens import create_token

COHORT = "E-82/2300"
BAND = "1500-3000 kW"
CHART = re.compile(r'<div class="chart" id="([^"]+)"')
LINK = re.compile(r'<p class="chart-data" id="([^"]+)-data">(.*?)</p>', re.S)


@pytest.fixture
def client(dashboard) -> TestClient:
    return TestClient(dashboard.app, follow_redirects=False, headers={"Authorization": f"Bearer {dashboard.token}"})


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _cohort(release_id: int, cohort: str, unit: str = "") -> str:
    return f"/releases/{release_id}/cohort?name={quote(cohort, safe='')}" + (f"&unit={unit}" if unit else "")


@pytest.mark.parametrize("page", [_cohort(1, COHORT), _cohort(2, BAND), f"/trends?cohort={quote(COHORT, safe='')}"])
def test_every_chart_has_csv_and_json_links_that_answer_with_a_named_file(client, page):
    html = client.get(page).text
    charts = CHART.findall(html)
    links = dict(LINK.findall(html))
    assert charts and list(links) == charts  # one pair of links under each chart, in order
    for chart, paragraph in links.items():
        hrefs = [unescape(h) for h in re.findall(r'href="([^"]+)"', paragraph)]
        assert [h.rsplit("format=", 1)[1] for h in hrefs] == ["csv", "json"], chart
        csv_answer, json_answer = (client.get(h) for h in hrefs)
        assert csv_answer.status_code == json_answer.status_code == 200, hrefs
        assert csv_answer.headers["content-type"].startswith("text/csv")
        assert re.fullmatch(r'attachment; filename="[A-Za-z0-9._-]+\.csv"', csv_answer.headers["content-disposition"])
        assert json_answer.headers["content-disposition"].endswith('.json"')
        # The same table both ways: the CSV's header is the JSON objects' keys, its rows their values.
        rows, objects = _rows(csv_answer.text), json_answer.json()
        assert len(rows) == len(objects) > 0 and list(rows[0]) == list(objects[0])


def test_the_power_curve_data_carries_units_kw_and_suppressed_bins_with_their_reason(dashboard, client):
    curve = next(c for c in dashboard.made.releases[0].curves if c.cohort == COHORT)
    answer = client.get(f"/api/releases/1/charts/power-curve?cohort={quote(COHORT, safe='')}&format=csv")
    rows = _rows(answer.text)
    assert answer.headers["content-disposition"] == 'attachment; filename="release-1_E-82-2300_power-curve.csv"'
    assert list(rows[0])[:4] == ["wind_speed_bin_centre_m_s", "mean_wind_speed_m_s", "mean_power_pu", "p10_power_pu"]
    assert {"mean_power_kw", "p50_power_kw", "rated_power_kw", "operator_count", "suppression_reason"} <= set(rows[0])
    assert len(rows) == len(curve.bins)
    for row, cell in zip(rows, curve.bins, strict=True):
        assert float(row["wind_speed_bin_centre_m_s"]) == cell.wind_speed_centre
        if cell.suppressed:  # every value empty, never 0, and the reason given
            values = {k: v for k, v in row.items() if k not in ("wind_speed_bin_centre_m_s", "suppressed")}
            assert values == dict.fromkeys(values, "") | {"suppression_reason": cell.suppression_reason}
            assert row["suppressed"] == "true"
        else:
            assert row["suppressed"] == "false" and row["suppression_reason"] == ""
            assert float(row["mean_power_kw"]) == cell.mean_power and float(row["p50_power_pu"]) == pytest.approx(
                cell.p50_normalised_power
            )
            # One model, one rated power: the kW percentiles are the p.u. ones times it.
            assert float(row["rated_power_kw"]) == pytest.approx(2300.0)
            assert float(row["p90_power_kw"]) == pytest.approx(2300.0 * cell.p90_normalised_power)
    assert any(c.suppressed for c in curve.bins) and any(not c.suppressed for c in curve.bins)
    as_json = client.get(f"/api/releases/1/charts/power-curve?cohort={quote(COHORT, safe='')}&format=json").json()
    withheld = next(o for o in as_json if o["suppressed"])
    assert withheld["mean_power_pu"] is None and withheld["suppression_reason"]


def test_a_band_cohort_gives_its_mean_in_kw_and_no_percentile_in_kw(client):
    rows = _rows(client.get(f"/api/releases/1/charts/power-curve?cohort={quote(BAND, safe='')}").text)
    released = [r for r in rows if r["suppressed"] == "false"]
    assert released and all(r["mean_power_kw"] for r in released)
    assert all(r["p50_power_kw"] == r["rated_power_kw"] == "" for r in released)


def test_suppressed_cells_of_every_release_chart_are_empty_rows_with_their_reason(dashboard, client):
    release = dashboard.made.releases[0]
    rates = [r for r in release.failure_rates if r.cohort == COHORT]
    assert any(r.suppressed for r in rates)  # or this would prove nothing
    rows = _rows(client.get(f"/api/releases/1/charts/failure-rates?cohort={quote(COHORT, safe='')}").text)
    assert list(rows[0]) == [
        "component",
        "age_band",
        "age_from_years",
        "age_to_years",
        "failures_per_turbine_year",
        "failures",
        "turbine_years",
        "operator_count",
        "suppressed",
        "suppression_reason",
    ]
    assert len(rows) == len(rates)
    for row, rate in zip(rows, rates, strict=True):
        assert row["component"] == rate.component
        if rate.suppressed:
            assert row["failures_per_turbine_year"] == row["failures"] == ""
            assert row["suppression_reason"] == rate.suppression_reason
        else:
            assert float(row["failures_per_turbine_year"]) == pytest.approx(rate.failures_per_turbine_year)
    cp = _rows(client.get(f"/api/releases/1/charts/power-coefficient?cohort={quote(COHORT, safe='')}").text)
    assert all(r["power_coefficient"] == "" and r["suppression_reason"] for r in cp if r["suppressed"] == "true")
    losses = _rows(client.get(f"/api/releases/1/charts/lost-production?cohort={quote(COHORT, safe='')}").text)
    shares = {x.category: 100 * x.share_of_potential for x in release.lost_production if x.cohort == COHORT}
    assert {r["category"]: float(r["lost_production_percent_of_potential"]) for r in losses} == pytest.approx(shares)


def test_a_distribution_downloads_its_drawn_bins_and_percentiles_in_its_unit(dashboard, client):
    d = next(
        d for d in dashboard.made.releases[1].distributions if (d.cohort, d.indicator) == (COHORT, "yaw_misalignment")
    )
    path = f"/api/releases/2/charts/distribution?cohort={quote(COHORT, safe='')}&indicator=yaw_misalignment"
    rows = _rows(client.get(path).text)
    assert list(rows[0])[:4] == ["statistic", "yaw_misalignment_deg", "bin_width_deg", d.counts_of]
    assert sum(int(r[d.counts_of]) for r in rows if r["statistic"] == "bin") == sum(d.counts)
    assert {r["statistic"]: float(r["yaw_misalignment_deg"]) for r in rows if r["statistic"] != "bin"} == {
        "P10": d.p10,
        "P25": d.p25,
        "P50": d.p50,
        "P75": d.p75,
        "P90": d.p90,
    }
    trend = _rows(
        client.get(
            f"/api/trends/charts/distribution-trend?cohort={quote(COHORT, safe='')}&indicator=yaw_misalignment"
        ).text
    )
    assert [r["p50_deg"] for r in trend][-1] == repr(d.p50)


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        (f"/api/releases/1/charts/pie?cohort={COHORT}", 404, "charts: ['power-curve'"),
        (f"/api/releases/1/charts/distribution?cohort={COHORT}&indicator=nope", 404, "no distribution of 'nope'"),
        ("/api/releases/1/charts/power-curve?cohort=nope", 404, "has no cohort 'nope'"),
        (f"/api/releases/1/charts/power-curve?cohort={COHORT}&format=xlsx", 422, "csv"),
        (f"/api/trends/charts/pie?cohort={COHORT}", 404, "charts: ['curve-trend'"),
    ],
)
def test_unknown_charts_and_formats_get_a_clear_4xx(client, path, status, says):
    answer = client.get(path)
    assert answer.status_code == status and says in answer.text


def test_downloads_need_a_member_token_or_session(dashboard):
    anonymous = TestClient(dashboard.app, follow_redirects=False)
    path = f"/api/releases/1/charts/power-curve?cohort={quote(COHORT, safe='')}"
    refused = anonymous.get(path)
    assert refused.status_code == 401 and "valid member token" in refused.json()["detail"]
    assert anonymous.get(path, headers={"Authorization": "Bearer fbt_nope_nope"}).status_code == 401
    logged_in = anonymous.post(
        "/login", content=f"token={dashboard.token}&next=/", headers={"Origin": "http://testserver"}
    )
    assert logged_in.status_code == 303
    assert anonymous.get(path).status_code == 200  # a browser's session, as the page's links use it


def test_a_table_becomes_csv_and_json_with_none_empty_and_never_zero():
    table = ChartTable("t", ("x_m_s", "y_kw", "suppressed", "suppression_reason"), [])
    table.rows.extend(
        [
            {"x_m_s": 1.5, "y_kw": 0.0, "suppressed": False, "suppression_reason": None},
            {"x_m_s": 2.0, "y_kw": None, "suppressed": True, "suppression_reason": "fewer than 3 operators"},
        ]
    )
    assert table_response(table, "csv").body.decode() == (
        "x_m_s,y_kw,suppressed,suppression_reason\r\n1.5,0.0,false,\r\n2.0,,true,fewer than 3 operators\r\n"
    )
    assert table_response(table, "json").body == (
        b'[{"x_m_s":1.5,"y_kw":0.0,"suppressed":false,"suppression_reason":null},'
        b'{"x_m_s":2.0,"y_kw":null,"suppressed":true,"suppression_reason":"fewer than 3 operators"}]'
    )


def _figure(page: str, chart: str) -> dict:
    """The figure a page's chart draws, from its data-figure attribute."""
    found = re.search(rf'id="{chart}"[^>]*data-figure="([^"]*)"', page)
    assert found, chart
    return json.loads(unescape(found.group(1)))


def test_the_power_curve_switches_between_pu_and_kw(client):
    per_unit, kilowatts = client.get(_cohort(1, COHORT)).text, client.get(_cohort(1, COHORT, "kw")).text
    assert _figure(per_unit, "power-curve")["layout"]["yaxis"]["title"]["text"] == "P / P_rated [p.u.]"
    assert _figure(kilowatts, "power-curve")["layout"]["yaxis"]["title"]["text"] == "P, density-normalised [kW]"
    assert 'href="/releases/1/cohort?name=E-82/2300&amp;unit=kw#power-unit">kW</a>' in per_unit
    assert "x 2300 kW, the rated power of E-82/2300" in unescape(kilowatts.split('id="power-unit-note"')[1])
    band = unescape(client.get(_cohort(1, BAND, "kw")).text)
    assert "P10/P50/P90 of P/P_rated convert to kW only with one rated power" in band
    assert client.get(_cohort(1, COHORT, "mw")).status_code == 422


def test_nav_has_trends_and_it_opens_on_the_first_cohort(client):
    home = client.get("/").text
    assert '<a href="/trends">Trends</a>' in home
    trends = client.get("/trends").text
    assert "<h1>Trends: 1500-3000 kW</h1>" in trends and "2 releases:" in trends and "1 releases" not in trends


def test_one_release_is_said_in_words_not_drawn_as_a_trend(tmp_path, tmp_path_factory):
    store, release = private_release(tmp_path_factory)
    token = create_token(tmp_path / "tokens.json", "north-wind")
    client = TestClient(create_app(store, tmp_path / "tokens.json"), headers={"Authorization": f"Bearer {token}"})
    page = client.get("/trends").text
    assert "One release so far: trends across releases appear from the second." in page
    assert "releases:" not in page and 'class="chart"' not in page
    assert 'href="/releases/1/cohort?name=E-82/2300"' in page
    # A private release carries no kW: no switch, and asked for kW the page says why it draws p.u.
    cohort = client.get(_cohort(1, COHORT)).text
    assert 'id="power-unit"' not in cohort
    assert "carries no power in kW" in client.get(_cohort(1, COHORT, "kw")).text
    assert release.curves[0].cohort == COHORT


def test_months_inside_a_release_and_across_releases_download_as_drawn(dashboard, client):
    """The cohort page's months, and the trends page's months of every release, one row per month in %."""
    releases = dashboard.made.releases
    first = {
        d.month: d
        for d in releases[0].monthly_distributions
        if (d.cohort, d.indicator) == (COHORT, "time_availability")
    }
    assert first and all(not d.suppressed for d in first.values())
    cohort = client.get(_cohort(1, COHORT)).text
    assert 'id="monthly-performance_index"' in cohort and 'id="monthly-time_availability"' in cohort
    rows = _rows(
        client.get(f"/api/releases/1/charts/monthly?cohort={quote(COHORT)}&indicator=time_availability&format=csv").text
    )
    assert [row["month"] for row in rows] == sorted(first)
    for row in rows:
        assert float(row["p50_percent"]) == pytest.approx(100 * first[row["month"]].p50)
        assert int(row["operator_count"]) == first[row["month"]].operator_count
    # Across releases: January from release 1, February from release 2, in month order.
    trend = client.get(
        f"/api/trends/charts/monthly-trend?cohort={quote(COHORT)}&indicator=performance_index&format=json"
    )
    points = trend.json()
    assert [(p["release_id"], p["month"]) for p in points] == [(1, "2025-01"), (2, "2025-02")]
    assert 'id="monthly-trend"' in client.get(f"/trends?cohort={quote(COHORT, safe='')}").text
    api = client.get(f"/api/releases/2/monthly?cohort={quote(COHORT)}").json()
    assert {(d["indicator"], d["month"]) for d in api} == {
        ("performance_index", "2025-02"),
        ("time_availability", "2025-02"),
    }
