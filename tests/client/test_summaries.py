"""A site's blocks: only normal, in-period records of cohort turbines count."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from minimal_site import write_minimal_site

from client.contribution import contribute, summarise_export
from client.ingest import exported_columns, read_canonical_chunks
from client.policy import ContributionRefused
from client.site_config import SiteConfig, Turbine, load_site_config
from client.summaries import summarise_site, summary_channels
from protos.disclosure import cohort_atoms
from protos.fleetbench.v1 import spec_pb2
from protos.statistics import BlockKey, CensusFields, spec_block
from server.spec import power_curve_spec

S = spec_pb2.Statistic

SPEC = power_curve_spec(
    "t",
    "2025-01-01T00:00:00Z",
    "2025-02-01T00:00:00Z",
    ["E-82/2300", "V90/2000"],
    filters=[("status", {"downtime_wind_speed": 4.5, "curtailment_pitch": 5.0})],
)


def _site(turbines: tuple[Turbine, ...]) -> SiteConfig:
    return SiteConfig(
        path=Path("site.toml"),
        name="s",
        timezone="UTC",
        elevation_m=0.0,
        resolution=pd.Timedelta(minutes=10),
        layout="long",
        files=(),
        file_format="csv",
        delimiter=",",
        decimal=".",
        columns={},
        units={},
        normal_status_codes=(0,),
        turbines=turbines,
    )


def test_only_usable_records_of_cohort_turbines_are_summed_after_density_normalisation():
    site = _site((Turbine("A", "E-82/2300", 2000.0, 82, 98), Turbine("B", "Other/1", 1000.0, 50, 60)))
    frame = pd.DataFrame(
        {
            "time": pd.to_datetime(
                [
                    "2025-01-01T00:00Z",
                    "2025-01-01T00:10Z",
                    "2025-01-01T00:20Z",
                    "2024-12-31T23:50Z",
                    "2025-01-01T00:30Z",
                    "2025-01-01T00:40Z",
                ]
            ),
            "asset_id": ["A", "A", "A", "A", "B", "A"],
            "WTUR_W": [1000.0, 500.0, 1200.0, 900.0, 700.0, 800.0],
            "WMET_HorWdSpd": [8.1, 8.2, 8.0, 7.9, 8.0, 8.05],
            "WMET_EnvTmp": [15.0, 15.0, 15.0, 15.0, 15.0, np.nan],  # the last record has no density
            "WTUR_TurSt": [0, 0, 3, 0, 0, 0],  # record 3 is not normal operation, record 4 is before the period
        }
    )
    summary = summarise_site(lambda: [frame.iloc[:3], frame.iloc[3:]], site, SPEC)  # two chunks
    values = summary.values
    count = values[BlockKey("E-82/2300", S.RECORD_COUNT)]
    assert count[16] == 2 and count.sum() == 2  # 8.0 m/s bin: records 1 and 2 only
    # Sea level, 15 degC, 50 % humidity: rho = 1.22123 kg/m^3 (IEC 61400-12-1 eq. 12), V_n = V (rho / 1.225)^(1/3).
    factor = (1.22123 / 1.225) ** (1 / 3)
    assert values[BlockKey("E-82/2300", S.SUM_WIND_SPEED)][16] == pytest.approx((8.1 + 8.2) * factor, rel=2e-5)
    assert values[BlockKey("E-82/2300", S.SUM_POWER)][16] == 1500.0
    assert values[BlockKey("E-82/2300", S.SUM_POWER_SQUARED)][16] == 1000.0**2 + 500.0**2
    assert values[BlockKey("E-82/2300", S.SUM_POWER_PER_UNIT)][16] == pytest.approx(0.75)
    area = np.pi * 82**2 / 4
    assert values[BlockKey("E-82/2300", S.SUM_POWER_PER_AREA)][16] == pytest.approx(1.5e6 / area)
    hist = values[BlockKey("E-82/2300", S.NORMALISED_POWER_HISTOGRAM)]
    assert hist[16].sum() == 2 and hist[16, 60] == 1 and hist[16, 35] == 1  # 0.5 p.u. and 0.25 p.u.
    assert values[BlockKey("E-82/2300", S.BIN_CONTRIBUTOR)].sum() == 1
    assert values[BlockKey("E-82/2300", S.COHORT_CONTRIBUTOR)][0] == 1
    # The census of the one atom {E-82/2300}: this site, its 2 records in bin 16, squared.
    atom = cohort_atoms(SPEC.cohorts).index((0,))
    census = CensusFields(*summary.census[BlockKey("", S.CURVE_CENSUS)])
    assert (census.contributor[atom, 16], census.total[atom, 16], census.total_squared[atom, 16]) == (1, 2, 4)
    n_atoms = len(cohort_atoms(SPEC.cohorts))
    assert census.total[:n_atoms].sum() == 2 and census.total[n_atoms + 0, 16] == 2  # and the cohort's own row
    assert CensusFields(*summary.census[BlockKey("", S.COHORT_CENSUS)]).total[atom] == 2
    assert (
        values[BlockKey("V90/2000", S.COHORT_CONTRIBUTOR)][0] == 0
        and values[BlockKey("V90/2000", S.RECORD_COUNT)].sum() == 0
    )
    report = summary.filter_report
    assert report.loc["A", "records"] == 4 and report.loc["A", "status"] == 1 and report.loc["A", "used"] == 3
    by_wind_speed = summary.filters_by_wind_speed  # the same counts, by 1 m/s of measured wind speed
    assert (by_wind_speed.sum() == report.drop(columns="used").sum()).all()


def test_a_refusal_sends_no_detail_but_logs_it_on_site(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    secret_path = tmp_path / "customer-north-secret" / "site.toml"
    with caplog.at_level(logging.ERROR, logger="fleetbench.site"), pytest.raises(ContributionRefused) as error:
        contribute(secret_path, SPEC.SerializeToString())
    assert "secret" not in str(error.value) and str(tmp_path) not in str(error.value)
    assert error.value.__cause__ is None and error.value.__suppress_context__
    assert "customer-north-secret" in caplog.text


@pytest.mark.parametrize("chunk_rows", [997, 4_000])
def test_streamed_summaries_with_the_bin_filter_equal_one_chunk(small_fleet, chunk_rows: int):
    # The bin filter's statistics cover the whole period; its second pass replays a spill, so
    # chunk boundaries (here mid-turbine, mid-run) must change no block and no count.
    fleet = small_fleet(3)
    site = load_site_config(fleet.site_configs[0])
    assert "bin_outlier" in [f.name for f in fleet.spec.filters]
    whole = summarise_site(lambda: read_canonical_chunks(site, chunk_rows=10**7), site, fleet.spec)
    streamed = summarise_site(lambda: read_canonical_chunks(site, chunk_rows=chunk_rows), site, fleet.spec)
    assert whole.values.keys() == streamed.values.keys()
    for name, value in whole.values.items():
        # Counts agree exactly; float sums to their summation order.
        np.testing.assert_allclose(streamed.values[name], value, rtol=1e-12, atol=0, err_msg=name)
    pd.testing.assert_frame_equal(streamed.filter_report, whole.filter_report)
    report = whole.filter_report.iloc[0]
    assert report["bin_outlier"] > 0 and report["used"] > 0.9 * report["records"]


def test_round_one_reads_only_the_channels_it_needs_and_sums_the_same(small_fleet):
    fleet = small_fleet(3)
    site = load_site_config(fleet.site_configs[0])
    vane = site.columns["WMET_HorWdDirRel"]  # mapped for round 2's yaw, not read in round 1
    narrowed = exported_columns(site.with_channels(summary_channels(fleet.spec)))
    assert vane in exported_columns(site) and vane not in narrowed
    assert {site.columns[name] for name in ("time", "asset_id", "WTUR_W", "WMET_HorWdSpd")} <= set(narrowed)
    full = summarise_site(lambda: read_canonical_chunks(site), site, fleet.spec)
    read_less = summarise_export(site, fleet.spec)
    assert full.values.keys() == read_less.values.keys()
    for name, value in full.values.items():
        np.testing.assert_array_equal(read_less.values[name], value, err_msg=name)
    pd.testing.assert_frame_equal(read_less.filter_report, full.filter_report)


def test_a_statistic_the_site_does_not_compute_is_an_error_not_zeros():
    site = _site((Turbine("A", "E-82/2300", 2000.0, 82, 98),))
    spec = spec_pb2.BenchmarkSpec()
    spec.CopyFrom(SPEC)
    spec.blocks.append(spec_block(spec, "E-82/2300", S.INDICATOR_CONTRIBUTOR))  # a round-2 statistic in round 1
    with pytest.raises(ValueError, match="E-82/2300:INDICATOR_CONTRIBUTOR, which a site does not compute in round 1"):
        summarise_site(lambda: [], site, spec)


def _setup_message(monkeypatch: pytest.MonkeyPatch):
    """A SecAgg+ setup message, as the aggregator sends one (Flower stamps it with the sender's identity)."""
    from flwr.app import ConfigRecord, Message, RecordDict
    from flwr.app.message_type import MessageType
    from flwr.common.secure_aggregation.secaggplus_constants import RECORD_KEY_CONFIGS, Key, Stage
    from flwr.supercore.task_identity import TaskIdentity

    for name, value in (("_task_id", 1), ("_run_id", 7), ("_node_id", 0)):
        monkeypatch.setattr(TaskIdentity, name, value)

    configs = {Key.STAGE: Stage.SETUP, Key.SAMPLE_NUMBER: 5, Key.SHARE_NUMBER: 5, Key.THRESHOLD: 3}
    return Message(
        RecordDict({RECORD_KEY_CONFIGS: ConfigRecord(configs)}), dst_node_id=1, message_type=MessageType.TRAIN
    )


def test_a_deleted_export_is_logged_as_what_it_is_and_the_aggregator_hears_nothing_more(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
):
    from flwr.app import Context, RecordDict

    from client.guard import make_site_guard

    site = write_minimal_site(tmp_path)
    guard = make_site_guard(lambda context: site)
    context = Context(run_id=7, node_id=1, node_config={}, state=RecordDict(), run_config={})
    # Control: a site that is no member refuses by its policy, and its log says so.
    with caplog.at_level(logging.ERROR, logger="fleetbench.site"), pytest.raises(ContributionRefused):
        guard(_setup_message(monkeypatch), context, lambda msg, context: pytest.fail("passed the guard"))
    assert "round refused by site policy" in caplog.text and "no [member] table" in caplog.text
    caplog.clear()

    (tmp_path / "export.csv").unlink()
    with caplog.at_level(logging.ERROR, logger="fleetbench.site"), pytest.raises(ContributionRefused) as refused:
        guard(_setup_message(monkeypatch), context, lambda msg, context: pytest.fail("passed the guard"))
    assert "cannot take part: site.toml or a file it names cannot be used" in caplog.text
    assert "'export.csv' matches no file" in caplog.text and "site policy" not in caplog.text
    assert "export" not in str(refused.value) and refused.value.__cause__ is None
    caplog.clear()

    # The export gone between the round's setup and its contribution: the same, from the ClientApp.
    with caplog.at_level(logging.ERROR, logger="fleetbench.site"), pytest.raises(ContributionRefused) as refused:
        contribute(site, SPEC.SerializeToString())
    assert "no contribution: cannot take part: the export fails validation" in caplog.text
    assert "'export.csv' matches no file" in caplog.text and "export" not in str(refused.value)
