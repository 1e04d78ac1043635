"""The dashboard in headless Chromium: login, a cohort's curve with points, band and suppressed bins, refusals.

Screenshots go to the test's own tmp_path (pytest keeps the last runs under its basetemp).
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from browser import docs_screenshot, offline_browser, serving
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from playwright.sync_api import Page
from solar_releases import COHORT as SOLAR_COHORT
from solar_releases import SUPPRESSED_COHORT, two_solar_releases

from server.dashboard import app as dashboard_app
from server.dashboard.app import create_app
from server.dashboard.tokens import create_token
from server.store import write_release

COHORT = "E-82/2300"


def _cohort_url(base: str, release_id: int) -> str:
    return f"{base}/releases/{release_id}/cohort?name={quote(COHORT, safe='')}"


def test_dashboard_refuses_without_a_token(dashboard, tmp_path):
    with serving(dashboard.app) as base, offline_browser() as browser:
        page = browser.context.new_page()
        page.goto(_cohort_url(base, 1))
        assert page.url.startswith(f"{base}/login?next=")
        assert page.locator("form input#token").count() == 1
        assert page.locator(".chart").count() == 0 and page.locator(".main-svg").count() == 0
        page.fill("#token", dashboard.token[:-2] + "xx")
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        assert "/login?failed=true" in page.url
        assert "not valid" in page.locator(".error").inner_text()
        assert browser.context.cookies() == []
        api = page.request.get(f"{base}/api/releases")
        assert api.status == 401 and "valid member token" in api.json()["detail"]
        page.screenshot(path=str(tmp_path / "refused.png"), full_page=True)
        browser.assert_offline()


def test_dashboard_logs_in_and_draws_the_cohort_curve_with_band_and_suppressed_bins(dashboard, tmp_path):
    curve = next(c for c in dashboard.made.releases[0].curves if c.cohort == COHORT)
    released = [b for b in curve.bins if not b.suppressed]
    withheld = [b for b in curve.bins if b.suppressed]
    assert released and withheld  # the fixture has both, or this test would prove nothing
    with serving(dashboard.app) as base, offline_browser() as browser:
        page = browser.context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(_cohort_url(base, 1))
        page.fill("#token", dashboard.token)
        page.click("button[type=submit]")
        page.wait_for_url(_cohort_url(base, 1))  # back where the member was sent to log in
        (cookie,) = browser.context.cookies()
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and dashboard.token not in cookie["value"]

        chart = page.locator("#power-curve")
        chart.locator(".main-svg").first.wait_for()
        names = page.locator(".chart").evaluate_all("charts => charts.map(c => c.getAttribute('aria-label'))")
        assert names and all(name.startswith("chart: ") and len(name) > 12 for name in names), names
        assert f"chart: {COHORT}: industry power curve" in names
        main = chart.locator(".subplot.xy .scatterlayer .trace")
        # P10, P90 (the band), P50, the industry mean, the suppressed bins: in the order the figure adds them.
        assert main.count() == 5
        assert main.nth(3).locator("path.point").count() == len(released)
        assert main.nth(4).locator("path.point").count() == len(withheld)
        band = main.locator("path.js-fill")  # Plotly draws a tonexty fill in the group of the trace below
        assert band.count() == 1 and len(band.get_attribute("d")) > 100  # a filled area, not an empty path
        assert chart.locator(".barlayer .point").count() == len(released)  # operators per bin
        assert chart.locator(".layer-below .shapelayer path").count() == len(withheld)  # grey columns
        legend = chart.locator(".legendtext").all_text_contents()
        assert {"P10-P90 band", "industry mean", "suppressed bin", "P50"} <= set(legend)
        # Hovering a suppressed bin's cross says why it is suppressed.
        box = main.nth(4).locator("path.point").first.bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        hover = chart.locator(".hoverlayer .hovertext")
        hover.first.wait_for()
        assert withheld[0].suppression_reason in hover.first.text_content()
        rows = page.locator("#suppressed-bins tbody tr.suppressed")
        assert rows.count() == len(withheld)
        # The modebar offers nothing that sends a chart anywhere (Plotly.js 3 shows "Share chart", which uploads
        # the chart's data to Plotly Cloud, unless told not to).
        chart.hover()
        titles = chart.locator(".modebar-btn").evaluate_all("buttons => buttons.map(b => b.dataset.title)")
        assert "Download plot as a PNG" in titles and not [t for t in titles if "share" in t.lower()]
        # Control: the same figure drawn with Plotly's default config has the button.
        default_titles = page.evaluate(
            """async () => {
                const element = document.querySelector("#power-curve");
                const div = document.createElement("div");
                document.body.appendChild(div);
                await Plotly.newPlot(div, element.data, element.layout);
                const titles = [...div.querySelectorAll(".modebar-btn")].map(b => b.dataset.title);
                Plotly.purge(div);
                div.remove();
                return titles;
            }"""
        )
        assert [t for t in default_titles if t.startswith("Share chart")]
        chart.screenshot(path=str(tmp_path / "power-curve.png"))
        docs_screenshot(chart, "dashboard-power-curve.png")
        page.screenshot(path=str(tmp_path / "cohort.png"), full_page=True)
        docs_screenshot(page, "dashboard-cohort.png")
        assert page.locator("#power-coefficient .main-svg").count() > 0
        assert page.locator("#aep tbody tr").count() == len(curve.aep)
        # P50 no longer hides under the mean: its own markers, drawn beside the mean's.
        assert main.nth(2).locator("path.point").count() == len(
            [b for b in released if b.HasField("p50_normalised_power")]
        )
        _assert_every_chart_links_its_data(page)
        assert page.locator("header nav a[href='/trends']").inner_text() == "Trends"

        # The unit switch redraws the curve in kW: the y-axis says so.
        y_title = chart.locator(".g-ytitle").first
        assert y_title.text_content() == "P / P_rated [p.u.]"
        page.click("#power-unit a")
        page.wait_for_url("**unit=kw*")
        chart.locator(".main-svg").first.wait_for()
        assert y_title.text_content() == "P, density-normalised [kW]"
        assert "2300 kW" in chart.locator(".gtitle-subtitle, .g-gtitle").first.text_content()
        chart.screenshot(path=str(tmp_path / "power-curve-kw.png"))

        page.goto(f"{base}/trends?cohort={quote(COHORT, safe='')}")
        trend = page.locator("#curve-trend")
        trend.locator(".main-svg").first.wait_for()
        assert trend.locator(".scatterlayer .trace").count() == len(dashboard.made.releases)
        spread = page.locator("#distribution-trend .scatterlayer .trace")
        assert spread.count() == 5 and spread.nth(2).locator("path.point").count() == len(dashboard.made.releases)
        _assert_every_chart_links_its_data(page)
        page.screenshot(path=str(tmp_path / "trends.png"), full_page=True)
        docs_screenshot(page, "dashboard-trends.png")

        page.goto(base + "/")
        assert page.locator("#releases tbody a[href='/releases/2']").count() == 1
        page.screenshot(path=str(tmp_path / "releases.png"), full_page=True)
        docs_screenshot(page, "dashboard-releases.png")
        assert errors == []
        browser.assert_offline()


def _assert_every_chart_links_its_data(page: Page) -> None:
    """Under each chart of ``page`` a CSV and a JSON link, each answering 200 with a file to save."""
    charts = page.locator(".chart").evaluate_all("charts => charts.map(c => c.id)")
    data = page.locator(".chart-data").evaluate_all("links => links.map(p => p.id)")
    assert charts and data == [f"{chart}-data" for chart in charts]
    for link in page.locator(".chart-data a").all():
        answer = page.request.get(link.evaluate("a => a.href"))  # the browser's session cookie, as a click sends
        assert answer.status == 200 and "attachment" in answer.headers["content-disposition"], link


@pytest.mark.parametrize("defended", [True, False], ids=["defended", "control-without-the-origin-check"])
def test_a_page_of_another_site_cannot_log_the_browser_in_to_its_session(dashboard, monkeypatch, defended):
    # Login CSRF: a page on another site posts the attacker's own token to /login, so that what the
    # victim then does on the dashboard happens in the attacker's session.
    attacker_token = create_token(dashboard.tokens, "attacker-co")
    if not defended:
        monkeypatch.setattr(dashboard_app, "_from_own_origin", lambda request: True)
    with serving(dashboard.app) as base:
        lure = FastAPI()

        @lure.get("/")
        def lure_page() -> HTMLResponse:
            return HTMLResponse(
                f'<form method="post" action="{base}/login"><input type="hidden" name="token" value="{attacker_token}">'
                '<input type="hidden" name="next" value="/"><button type="submit">See the data</button></form>'
            )

        with serving(lure) as lure_base, offline_browser() as browser:
            page = browser.context.new_page()
            page.goto(lure_base.replace("127.0.0.1", "localhost"))  # another site than 127.0.0.1
            page.click("button[type=submit]")
            page.wait_for_url(lambda url: url.startswith(base))
            page.wait_for_load_state()
            if defended:
                assert "own login page" in page.locator(".error").inner_text()
                assert browser.context.cookies(base) == []
            page.goto(base + "/")
            if defended:
                assert page.url.startswith(f"{base}/login?next=")
            else:  # the attack works: the victim's browser is in the attacker's session
                assert page.url == base + "/" and "attacker-co" in page.locator("header").inner_text()
            browser.assert_offline()


def test_a_missing_chromium_fails_the_browser_tests_with_the_fix(monkeypatch, tmp_path):
    import browser

    monkeypatch.setattr(browser, "CHROMIUM", tmp_path / "no-chromium")
    with pytest.raises(pytest.fail.Exception, match="chromium package"), offline_browser():
        pass


def test_pages_fit_a_390_px_phone_without_horizontal_scrolling(dashboard, tmp_path):
    with serving(dashboard.app) as base, offline_browser() as browser:
        page = browser.context.new_page()
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{base}/login")
        page.fill("#token", dashboard.token)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        for path in ("/", "/releases/1", _cohort_url("", 1)):
            page.goto(base + path)
            page.wait_for_load_state("networkidle")
            width = page.evaluate("document.documentElement.scrollWidth")
            page.screenshot(path=str(tmp_path / f"phone{path.replace('/', '_')[:40]}.png"), full_page=True)
            assert width <= 390, (path, width)
        # A store of one release: the trends page says so in words, instead of a trend of one dot per period.
        store = tmp_path / "one-release.sqlite"
        write_release(store, dashboard.made.releases[0])
        token = create_token(tmp_path / "one-release-tokens.json", "north-wind")
        with serving(create_app(store, tmp_path / "one-release-tokens.json")) as one:
            page.set_extra_http_headers({"Authorization": f"Bearer {token}"})
            page.goto(f"{one}/trends")
            assert (
                page.locator("#one-release")
                .inner_text()
                .startswith("One release so far: trends across releases appear from the second.")
            )
            # Only the months inside that one release are drawn.
            assert page.locator(".chart").evaluate_all("charts => charts.map(c => c.id)") == ["monthly-trend"]
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
        browser.assert_offline()


def test_a_solar_cohort_page_draws_its_energy_normalised_curve_and_its_suppressed_bins(tmp_path, tmp_path_factory):
    made = two_solar_releases(tmp_path_factory)
    token = create_token(tmp_path / "tokens.json", "sunny-operator")
    app = create_app(made.store, tmp_path / "tokens.json")
    release = made.releases[0]
    with serving(app) as base, offline_browser(extra_http_headers={"Authorization": f"Bearer {token}"}) as browser:
        page = browser.context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        for cohort in (SOLAR_COHORT, SUPPRESSED_COHORT):
            curve = next(c for c in release.solar_curves if c.cohort == cohort)
            released = [b for b in curve.bins if not b.suppressed]
            withheld = [b for b in curve.bins if b.suppressed]
            page.goto(f"{base}/releases/1/cohort?name={cohort}")
            chart = page.locator("#solar-curve")
            chart.locator(".main-svg").first.wait_for()
            assert f"chart: {cohort}: energy-normalised curve" in chart.get_attribute("aria-label")
            main = chart.locator(".subplot.xy .scatterlayer .trace")
            # P10, P90 (the band), P50 and the mean where bins are released, then the suppressed bins' crosses.
            assert main.count() == (4 if released else 0) + (1 if withheld else 0)  # an empty mean draws nothing
            if released:
                assert main.nth(3).locator("path.point").count() == len(released) >= 10
                assert main.locator("path.js-fill").count() == 1
                assert chart.locator(".barlayer .point").count() == len(released)  # operators per bin
            assert chart.locator(".layer-below .shapelayer path").count() == len(withheld)
            if withheld:
                assert main.nth(main.count() - 1).locator("path.point").count() == len(withheld)
            axes = chart.locator(".g-xtitle, .g-x2title, .g-ytitle").all_text_contents()
            assert any("W/m^2" in text for text in axes) and any("kW/kWp" in text for text in axes), axes
            if cohort == SOLAR_COHORT:
                page.screenshot(path=str(tmp_path / "solar-cohort.png"))
                docs_screenshot(page, "dashboard-solar-cohort.png")
                assert page.locator("#distribution-performance_ratio .main-svg").count() >= 1
        assert errors == []
        browser.assert_offline()
