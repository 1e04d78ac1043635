"""Solar releases on the dashboard: cohorts beside wind ones, their curve, distributions and lost production in the
JSON API, on the pages and as downloads, suppressed cells empty with their reason, and trends across solar releases."""

from __future__ import annotations

import csv
import io
import re
from html import unescape

import pytest
from fastapi.testclient import TestClient
from solar_releases import COHORT, SUPPRESSED_COHORT, private_solar_release, two_solar_releases

from common.labels import indicator_label
from protos.fleetbench.v1 import spec_pb2
from protos.statistics import SOLAR_INDICATORS
from server.dashboard.app import create_app
from server.dashboard.tokens import create_token
from server.store import write_release

S = spec_pb2.Statistic

CHART = re.compile(r'<div class="chart" id="([^"]+)"')
LINK = re.compile(r'<p class="chart-data" id="([^"]+)-data">(.*?)</p>', re.S)


@pytest.fixture
def solar(tmp_path, tmp_path_factory):
    made = two_solar_releases(tmp_path_factory)
    token = create_token(tmp_path / "tokens.json", "sunny-operator")
    client = TestClient(create_app(made.store, tmp_path / "tokens.json"), headers={"Authorization": f"Bearer {token}"})
    return made, client


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_a_solar_release_lists_its_cohorts_and_solar_spec(solar):
    made, client = solar
    listed = client.get("/api/releases").json()
    assert [r["spec_id"] for r in listed] == [r.spec_id for r in made.releases]
    detail = client.get("/api/releases/1").json()
    release = made.releases[0]
    assert detail["kind"] == "solar" and detail["cohorts"] == []
    cohorts = {c["cohort"]: c for c in detail["solar_cohorts"]}
    assert list(cohorts) == [COHORT, SUPPRESSED_COHORT]
    curve = next(c for c in release.solar_curves if c.cohort == COHORT)
    assert cohorts[COHORT]["bins_released"] == sum(not b.suppressed for b in curve.bins) >= 10
    assert cohorts[COHORT]["operator_count"] == 4
    assert cohorts[SUPPRESSED_COHORT]["bins_released"] == 0 < cohorts[SUPPRESSED_COHORT]["bins_suppressed"]
    assert detail["solar"]["irradiance_bins"]["unit"] == "W/m^2"
    assert detail["solar"]["loss_categories"] == list(release.solar.loss_categories)
    assert "solar" not in detail["settings"] and "solar_curves" not in detail["settings"]
    losses = {f"lost_production:{category}" for category in release.solar.loss_categories}
    assert set(detail["indicators"]) <= set(SOLAR_INDICATORS) | losses and "performance_ratio" in detail["indicators"]
    assert losses <= set(detail["indicators"])


def test_the_solar_curve_carries_every_bin_with_suppressed_ones_empty(solar):
    made, client = solar
    got = client.get(f"/api/releases/1/solar-curve?cohort={COHORT}").json()
    curve = next(c for c in made.releases[0].solar_curves if c.cohort == COHORT)
    assert got["release_id"] == 1 and len(got["bins"]) == len(curve.bins)
    for out, cell in zip(got["bins"], curve.bins, strict=True):
        assert out["irradiance_centre"] == cell.irradiance_centre and out["suppressed"] == cell.suppressed
        if cell.suppressed:
            assert out["suppression_reason"] and out["mean_specific_power"] is None and out["record_count"] is None
        else:
            assert out["mean_specific_power"] == cell.mean_specific_power and out["record_count"] == cell.record_count
            assert out["p10_specific_power"] <= out["p50_specific_power"] <= out["p90_specific_power"]
    fixed = client.get(f"/api/releases/1/solar-curve?cohort={SUPPRESSED_COHORT}").json()
    assert fixed["bins"] and all(b["suppressed"] and b["mean_specific_power"] is None for b in fixed["bins"])
    # The solar cohort's distributions and lost production filter by it like a wind cohort's.
    pr = client.get(f"/api/releases/1/distributions?cohort={COHORT}&indicator=performance_ratio").json()
    expected = next(
        d for d in made.releases[0].distributions if (d.cohort, d.indicator) == (COHORT, "performance_ratio")
    )
    assert [d["p50"] for d in pr] == [expected.p50] and pr[0]["counts_of"] == "plants"
    grid = f"/api/releases/1/distributions?cohort={SUPPRESSED_COHORT}&indicator=lost_production:grid"
    losses = client.get(grid).json()
    assert losses and all(x["suppressed"] and x["p50"] is None and not x["counts"] for x in losses)
    assert client.get("/api/releases/1/lost-production").json() == []  # no energy shares in a solar release
    rates = client.get(f"/api/releases/1/solar-failure-rates?cohort={COHORT}").json()
    expected = [r for r in made.releases[0].solar_failure_rates if r.cohort == COHORT]
    assert [(r["component"], r["failures"]) for r in rates] == [(r.component, r.failures) for r in expected]


@pytest.mark.parametrize(
    ("path", "says"),
    [
        (
            "/api/releases/1/solar-curve?cohort=E-82/2300",
            "release 1 has no cohort 'E-82/2300'; cohorts: ['all', 'fixed']",
        ),
        (
            f"/api/releases/1/curve?cohort={COHORT}",
            "'all' of release 1 is a solar cohort: its curve is at /solar-curve",
        ),
        ("/api/trends/solar-curve?cohort=mono", "no release has a solar cohort 'mono'"),
    ],
)
def test_a_wind_question_about_a_solar_cohort_gets_a_404_that_says_where_to_look(solar, path, says):
    response = solar[1].get(path)
    assert response.status_code == 404 and says in response.json()["detail"]


def test_the_solar_cohort_page_draws_the_curve_distributions_and_losses_with_their_data(solar):
    made, client = solar
    html = client.get(f"/releases/1/cohort?name={COHORT}").text
    charts = CHART.findall(html)
    released = {d.indicator for d in made.releases[0].distributions if d.cohort == COHORT and not d.suppressed}
    shown = [i for i in SOLAR_INDICATORS if i in released]
    assert charts == ["solar-curve", *(f"distribution-{i}" for i in shown), "lost-production", "solar-failure-rates"]
    for indicator in shown:
        assert indicator_label(indicator) in unescape(html)
    links = dict(LINK.findall(html))
    assert list(links) == charts
    for chart, paragraph in links.items():
        csv_href, json_href = (unescape(h) for h in re.findall(r'href="([^"]+)"', paragraph))
        csv_answer, json_answer = client.get(csv_href), client.get(json_href)
        assert csv_answer.status_code == json_answer.status_code == 200, chart
        rows, objects = _rows(csv_answer.text), json_answer.json()
        assert len(rows) == len(objects) > 0 and list(rows[0]) == list(objects[0])
    curve = _rows(client.get(f"/api/releases/1/charts/solar-curve?cohort={COHORT}&format=csv").text)
    assert list(curve[0])[:2] == ["irradiance_bin_centre_w_m2", "mean_specific_power_kw_kwp"]
    released = [r for r in curve if r["suppressed"] == "false"]
    assert released and all(
        r["suppression_reason"] == "" and float(r["mean_specific_power_kw_kwp"]) >= 0 for r in released
    )


def test_a_suppressed_solar_cohort_is_marked_on_its_page_and_empty_in_its_downloads(solar):
    made, client = solar
    html = client.get(f"/releases/1/cohort?name={SUPPRESSED_COHORT}").text
    table = html.split('id="suppressed-bins"')[1].split("</table>")[0]
    curve = next(c for c in made.releases[0].solar_curves if c.cohort == SUPPRESSED_COHORT)
    assert table.count('<tr class="suppressed">') == len(curve.bins) > 0
    assert curve.bins[0].suppression_reason in table
    rows = _rows(client.get(f"/api/releases/1/charts/solar-curve?cohort={SUPPRESSED_COHORT}&format=csv").text)
    assert len(rows) == len(curve.bins)
    for row in rows:
        assert row["suppressed"] == "true" and row["suppression_reason"]
        assert row["mean_specific_power_kw_kwp"] == row["p50_specific_power_kw_kwp"] == row["record_count"] == ""
    pr = client.get(
        f"/api/releases/1/charts/distribution?cohort={SUPPRESSED_COHORT}&indicator=performance_ratio&format=json"
    ).json()
    assert pr == [
        {
            "statistic": None,
            "performance_ratio": None,
            "bin_width": None,
            "plants": None,
            "operator_count": None,
            "suppressed": True,
            "suppression_reason": pr[0]["suppression_reason"],
        }
    ]
    assert pr[0]["suppression_reason"]


def test_the_release_pages_list_solar_cohorts_and_count_their_suppressed_bins(solar):
    _, client = solar
    front = client.get("/").text
    assert "solar: " in front and f'/releases/1/cohort?name={SUPPRESSED_COHORT}"' in front
    page = client.get("/releases/1").text
    assert 'id="solar-cohorts"' in page and 'id="cohorts"' not in page
    suppressions = page.split('id="suppressions"')[1].split("</table>")[0]
    assert SUPPRESSED_COHORT in suppressions


def test_trends_across_solar_releases_draw_the_p50_curve_and_a_plant_indicator(solar):
    made, client = solar
    page = client.get(f"/trends?cohort={COHORT}").text
    assert "P50 energy-normalised curve by period" in page
    assert CHART.findall(page) == ["curve-trend", "distribution-trend"]
    assert "<option selected>performance_ratio</option>" in page
    points = client.get(f"/api/trends/distribution?cohort={COHORT}&indicator=performance_ratio").json()
    assert [p["distribution"]["p50"] for p in points] == [
        next(d for d in r.distributions if (d.cohort, d.indicator) == (COHORT, "performance_ratio")).p50
        for r in made.releases
    ]
    curves = client.get(f"/api/trends/solar-curve?cohort={COHORT}").json()
    assert [p["release"]["release_id"] for p in curves] == [1, 2]
    rows = _rows(client.get(f"/api/trends/charts/solar-curve-trend?cohort={COHORT}&format=csv").text)
    assert {r["release_id"] for r in rows} == {"1", "2"}
    assert all((r["p50_specific_power_kw_kwp"] == "") == (r["suppressed"] == "true") for r in rows)
    degradation = client.get(f"/trends?cohort={COHORT}&indicator=soiling_loss").text
    assert "<option selected>soiling_loss</option>" in degradation


def test_a_private_solar_release_shows_noisy_weights_and_no_counts(tmp_path):
    release = private_solar_release().release
    assert not release.distributions  # without a distribution share, the curve alone
    write_release(tmp_path / "release.sqlite", release)
    token = create_token(tmp_path / "tokens.json", "sunny-operator")
    app = create_app(tmp_path / "release.sqlite", tmp_path / "tokens.json")
    client = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    assert client.get("/api/releases/1").json()["settings"]["privacy"]["privacy_unit"] == "inverter"
    released = [
        b for b in client.get(f"/api/releases/1/solar-curve?cohort={COHORT}").json()["bins"] if not b["suppressed"]
    ]
    assert released and all(b["noisy_record_weight"] is not None and b["record_count"] is None for b in released)
    assert any(b["p50_noise_stddev"] is not None for b in released)
    html = unescape(client.get(f"/releases/1/cohort?name={COHORT}").text)
    assert "differentially private per inverter: noisy record weights, no counts" in html
    assert "<th>noisy record weight</th><th>P50 noise sd</th>" in html and "solar-curve" in CHART.findall(html)
    rows = _rows(client.get(f"/api/releases/1/charts/solar-curve?cohort={COHORT}&format=csv").text)
    shown = [row for row in rows if row["suppressed"] == "false"]
    assert len(shown) == len(released) and all(row["noisy_record_weight"] and not row["record_count"] for row in shown)
    published = sum(b.HasField("p50_noise_stddev") for b in release.solar_curves[0].bins)
    assert published == sum(row["p50_noise_sd_kw_kwp"] != "" for row in shown) > 0


def test_a_private_distribution_shows_its_noise_and_p50_error_and_no_operator_count(tmp_path):
    """2,000 plants at epsilon 10 with half the budget on the distributions: the page and API state the noise."""
    release = private_solar_release(plants=2000, epsilon=10.0).release
    (d,) = (d for d in release.distributions if d.indicator == "performance_ratio" and not d.suppressed)
    write_release(tmp_path / "release.sqlite", release)
    token = create_token(tmp_path / "tokens.json", "sunny-operator")
    client = TestClient(
        create_app(tmp_path / "release.sqlite", tmp_path / "tokens.json"), headers={"Authorization": f"Bearer {token}"}
    )
    (api,) = client.get(f"/api/releases/1/distributions?cohort={COHORT}&indicator=performance_ratio").json()
    assert api["p50_noise_stddev"] == pytest.approx(d.p50_noise_stddev) and api["operator_count"] is None
    assert api["count_noise_stddev"] == pytest.approx(d.count_noise_stddev) and api["p25"] is None
    html = unescape(client.get(f"/releases/1/cohort?name={COHORT}").text)
    shown = f"P50 {d.p50:.4g} ± {d.p50_noise_stddev:.2g}"
    assert f"Differentially private: about {sum(d.counts)} plants (noise {d.count_noise_stddev:.2g}" in html
    assert shown in html and "distribution-performance_ratio" in CHART.findall(html)
