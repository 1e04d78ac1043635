"""A site that adds garbage to a secure sum: impossible cells are suppressed, possible ones are not caught."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from client import contribution
from protos.census import is_round_two
from protos.fleetbench.v1 import spec_pb2
from protos.statistics import BlockKey
from simulations.fleet import FleetConfig, forget_site_history, generate_fleet
from simulations.onboarding import fleet_spec, run_release_in_process

S = spec_pb2.Statistic
MODEL = "E-82/2300"
CONFIG = FleetConfig(operators=4, turbines_per_operator=1, months=1, seed=23, models=(MODEL,))


def _garbage(values: dict[BlockKey, np.ndarray], kind: str) -> dict[BlockKey, np.ndarray]:
    """One site's values round, tampered with after its honest census."""
    values = dict(values)
    count = values[BlockKey(MODEL, S.RECORD_COUNT)]
    if kind == "records":
        values[BlockKey(MODEL, S.RECORD_COUNT)] = 2 * count
    elif kind == "wind":
        values[BlockKey(MODEL, S.SUM_WIND_SPEED)] = values[BlockKey(MODEL, S.SUM_WIND_SPEED)] + 5.0 * count
    else:  # every record 100 kW higher, squares included: a possible sum
        power, squared = BlockKey(MODEL, S.SUM_POWER), BlockKey(MODEL, S.SUM_POWER_SQUARED)
        values[squared] = values[squared] + 200.0 * values[power] + 1e4 * count
        values[power] = values[power] + 100.0 * count
    return values


def _release_with_one_garbage_site(sites: list[Path], kind: str, monkeypatch: pytest.MonkeyPatch):
    honest = contribution.prepare_contribution

    def prepare(site_config, spec, baseline=None, census=None):
        prepared = honest(site_config, spec, baseline, census)
        if site_config != sites[0] or spec.census_of_sha256 or is_round_two(spec):
            return prepared
        return replace(prepared, values=_garbage(prepared.values, kind))

    for site in sites:
        forget_site_history(site)
    monkeypatch.setattr(contribution, "prepare_contribution", prepare)
    release = run_release_in_process(sites, fleet_spec(CONFIG, k_min_operators=3), indicators=False, send=False)
    return next(curve for curve in release.curves if curve.cohort == MODEL)


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return generate_fleet(CONFIG, tmp_path_factory.mktemp("plausibility"))


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("records", "records in the values round"),
        ("wind", "outside its bin"),
    ],
)
def test_a_bin_whose_secure_sum_is_impossible_is_suppressed(sites, monkeypatch, kind, reason):
    curve = _release_with_one_garbage_site(sites, kind, monkeypatch)
    impossible = [cell for cell in curve.bins if "impossible sum: " in cell.suppression_reason]
    assert len(impossible) > 10 and all(reason in cell.suppression_reason for cell in impossible)

    # Control: without the check the garbage is published (counts that contradict the census, or
    # mean wind speeds outside their bins).
    monkeypatch.setattr("server.publish.without_impossible_cells", lambda spec, totals, census, decision: decision)
    curve = _release_with_one_garbage_site(sites, kind, monkeypatch)
    published = [cell for cell in curve.bins if not cell.suppressed]
    assert len(published) > 10
    if kind == "wind":
        assert sum(cell.mean_wind_speed > cell.wind_speed_centre + 0.25 for cell in published) > 10


def test_possible_garbage_is_not_caught(sites, monkeypatch):
    """100 kW more per record is a possible sum: published (docs/privacy.md says so), and visibly shifted."""
    shifted = _release_with_one_garbage_site(sites, "power", monkeypatch)
    monkeypatch.undo()  # honest sites again
    for site in sites:
        forget_site_history(site)
    honest = run_release_in_process(sites, fleet_spec(CONFIG, k_min_operators=3), indicators=False, send=False)
    honest_curve = next(curve for curve in honest.curves if curve.cohort == MODEL)
    by_centre = {cell.wind_speed_centre: cell for cell in honest_curve.bins}
    assert not any("impossible" in cell.suppression_reason for cell in shifted.bins)
    published = [cell for cell in shifted.bins if not cell.suppressed]
    assert len(published) > 10 and all(not by_centre[cell.wind_speed_centre].suppressed for cell in published)
    shifts = [cell.mean_power - by_centre[cell.wind_speed_centre].mean_power for cell in published]
    assert 5.0 < np.mean(shifts) < 100.0  # one site of four: a quarter of its records' shift, roughly
