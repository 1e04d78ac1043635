"""Validation of small messy exports the tests write themselves: every finding names where and how to fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from client.contribution import SiteValidationError, site_contribution
from client.ingest import read_canonical_chunks, read_event_log
from client.site_config import SiteConfigError, load_site_config
from client.validate import states_utc_offsets, validate_site
from protos.census import census_spec
from server.spec import power_curve_spec

SITE = """
[site]
timezone = "Europe/Berlin"
elevation_m = 100
[source]
files = ["export.csv"]
[columns]
time = "t"
asset_id = "wtg"
WTUR_W = "p"
WMET_HorWdSpd = "v"
WMET_EnvTmp = "temp"
[units]
WTUR_W = "{unit}"
[sentinels]
WMET_EnvTmp = [-273.2]
[[turbines]]
asset_id = "A"
model = "E-82/2300"
rated_power_kw = 2300
rotor_diameter_m = 82
hub_height_m = 98
"""


def _export(tmp_path: Path, n: int = 300, unit: str = "kW", scale: float = 1.0, edit=None) -> Path:
    rng = np.random.default_rng(0)
    times = pd.date_range("2025-01-01", periods=n, freq="10min", tz="UTC")
    wind = rng.uniform(3, 15, n).round(3)
    frame = pd.DataFrame(
        {
            "t": times.map(lambda t: t.isoformat()),
            "wtg": "A",
            "p": np.clip((wind - 3) / 9, 0, 1) * 2300 * scale,
            "v": wind,
            "temp": 5.0,
        }
    )
    if edit:
        frame = edit(frame)
    frame.to_csv(tmp_path / "export.csv", index=False)
    (tmp_path / "site.toml").write_text(SITE.format(unit=unit))
    return tmp_path / "site.toml"


def _problems(report) -> list[str]:
    return [f"{f.severity}:{f.column}:{f.problem}" for f in report.findings]


def test_a_clean_export_is_usable(tmp_path: Path):
    report = validate_site(_export(tmp_path))
    assert report.usable, _problems(report)
    row = report.turbines.loc["A"]
    assert row["rows"] == 300 and row["duplicates"] == 0 and row["gaps"] == 0
    assert row["first"] == pd.Timestamp("2025-01-01T00:00Z")


def test_blank_status_cells_are_counted_and_warned_of_with_their_share(tmp_path: Path):
    """A status column with 30 of 300 cells blank: the turbine's profile counts them, one warning names the column
    and the share (10.0 %). Control: the same column without blanks gives no such warning."""

    def with_status(blank: bool):
        def edit(frame: pd.DataFrame) -> pd.DataFrame:
            status = pd.Series(0.0, index=frame.index)
            return frame.assign(st=status.mask((frame.index % 10 == 3) & blank))

        folder = tmp_path / str(blank)
        folder.mkdir()
        site = _export(folder, edit=edit)
        site.write_text(site.read_text().replace('WMET_EnvTmp = "temp"\n', 'WMET_EnvTmp = "temp"\nWTUR_TurSt = "st"\n'))
        site.write_text(site.read_text() + "[status]\nnormal = [0]\n")
        return validate_site(site)

    report = with_status(True)
    assert report.usable, _problems(report)
    assert report.turbines.loc["A", "blank_status"] == 30
    (finding,) = [f for f in report.findings if "no status code" in f.problem]
    assert finding.severity == "warning" and finding.column == "st"
    assert finding.problem.startswith("30 of 300 records (10.0%) have no status code")
    assert not [f for f in with_status(False).findings if "no status code" in f.problem]


def test_power_in_watts_declared_as_kilowatts_is_an_error_naming_the_column(tmp_path: Path):
    report = validate_site(_export(tmp_path, unit="kW", scale=1000.0))
    assert not report.usable
    (finding,) = [f for f in report.findings if f.severity == "error"]
    assert finding.column == "p" and "unit looks wrong" in finding.problem and "[units] WTUR_W" in finding.fix


def test_power_in_megawatts_declared_as_kilowatts_is_an_error(tmp_path: Path):
    report = validate_site(_export(tmp_path, unit="kW", scale=0.001))
    assert not report.usable
    assert any("unit looks too large" in f.problem for f in report.findings)
    assert validate_site(_export(tmp_path, unit="MW", scale=0.001)).usable


def test_the_duplicate_hint_says_dst_only_for_local_times():
    assert states_utc_offsets(pd.Series(["2025-03-30T01:50:00+00:00", "2025-03-30T02:00:00Z"]))
    assert states_utc_offsets(pd.Series(pd.date_range("2025-01-01", periods=2, freq="10min", tz="UTC")))
    assert not states_utc_offsets(pd.Series(["2025-03-30 01:50:00", "2025-03-30T02:00:00+01:00"]))


def test_duplicates_gaps_frozen_sensors_and_sentinels_are_reported(tmp_path: Path):
    def mess(frame: pd.DataFrame) -> pd.DataFrame:
        frame["temp"] = frame["temp"].astype(object)
        frame.loc[10:14, "v"] = 7.25  # frozen anemometer
        frame.loc[20:29, "temp"] = -273.2  # the export's "missing" code, declared as a sentinel
        frame.loc[30, "temp"] = "sensor fault"
        frame = frame.drop(index=range(100, 110))  # a gap of 10 records
        return pd.concat([frame, frame.iloc[[50, 51]]])  # two duplicated timestamps

    report = validate_site(_export(tmp_path, edit=mess))
    assert report.usable  # warnings only
    row = report.turbines.loc["A"]
    assert (row["frozen"], row["gaps"], row["duplicates"]) == (5, 10, 2)
    # Judged across the chunks' borders: 12-row chunks cut the frozen run (rows 10 to 14) and it counts whole.
    assert validate_site(_export(tmp_path, edit=mess), chunk_rows=12).turbines.loc["A", "frozen"] == 5
    problems = "\n".join(_problems(report))
    assert "warning:v:5 records in runs of >= 3 identical wind speeds" in problems
    assert "warning:t:10 missing 10-min records" in problems
    assert "warning:t:2 duplicated timestamps although they state their UTC offsets" in problems
    assert any("the exporter repeats these instants" in f.fix for f in report.findings)
    # The sentinel is missing data, not an error of range; the text is not numeric.
    assert (
        "warning:temp:1 of 292 values of WMET_EnvTmp are not numbers (1, 0 of them with digits) or outside -50..60 "
        "degC (0)" in problems
    )


def test_unreadable_and_misconfigured_sites_are_findings_not_tracebacks(tmp_path: Path):
    path = _export(tmp_path)
    (tmp_path / "export.csv").write_text("t,wtg\n2025-01-01,A\n")  # mapped columns missing
    report = validate_site(path)
    assert not report.usable and report.findings[0].column == "p, v, temp"
    path.write_text("[site\n")
    report = validate_site(path)
    assert not report.usable and "not valid TOML" in report.findings[0].problem


def test_a_site_that_fails_validation_computes_and_sends_nothing(tmp_path: Path):
    spec = power_curve_spec("s", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", ["E-82/2300"])
    with pytest.raises(SiteValidationError, match=r"p A: power is above 150 % of rated"):
        site_contribution(_export(tmp_path, scale=1000.0), census_spec(spec))
    assert len(site_contribution(_export(tmp_path), census_spec(spec))) == len(census_spec(spec).blocks)


@pytest.mark.usefixtures("fixed_commitment_randomness")
def test_records_written_twice_are_sent_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A third of the records written twice, each repeat right after its record: the blocks of the export written once.

    Control: with repeats kept (the export is in time order, so nothing else is left out) the sums differ."""
    spec = census_spec(power_curve_spec("s", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z", ["E-82/2300"]))
    (tmp_path / "once").mkdir()
    (tmp_path / "twice").mkdir()
    once = site_contribution(_export(tmp_path / "once"), spec)
    repeats = np.flatnonzero(np.random.default_rng(4).random(300) < 1 / 3)
    twice = _export(tmp_path / "twice", edit=lambda frame: frame.iloc[np.sort(np.r_[np.arange(300), repeats])])
    assert all(np.array_equal(a, b) for a, b in zip(site_contribution(twice, spec), once, strict=True))
    monkeypatch.setattr("client.streaming.late_or_repeated_records", lambda asset, *_: np.zeros(len(asset), bool))
    assert not all(np.array_equal(a, b) for a, b in zip(site_contribution(twice, spec), once, strict=True))


@pytest.mark.parametrize("order", ["sorted", "shuffled"])
def test_duplicates_and_gaps_equal_a_pandas_count_in_any_row_order(tmp_path: Path, order: str):
    # Sorted records are counted in one streaming pass; shuffled ones need the exact second pass.
    rng = np.random.default_rng(3)

    def mess(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.drop(index=rng.choice(300, 40, replace=False))
        frame = pd.concat([frame, frame.sample(25, random_state=1)]).sort_values("t", kind="stable")
        return frame.sample(frac=1.0, random_state=2) if order == "shuffled" else frame

    site = _export(tmp_path, edit=mess)
    export = pd.read_csv(tmp_path / "export.csv")
    stamps = pd.to_datetime(export["t"], utc=True)
    expected_gaps = int((stamps.max() - stamps.min()) / pd.Timedelta("10min")) + 1 - stamps.nunique()
    report = validate_site(site)
    row = report.turbines.loc["A"]
    assert row["duplicates"] == stamps.duplicated().sum() == 25
    assert row["gaps"] == expected_gaps > 0
    assert (row["first"], row["last"]) == (stamps.min(), stamps.max())
    # Shuffled, most records come after a later one: the summaries would leave them out, so the export is refused.
    late = [f for f in report.findings if "come after a later record of this turbine" in f.problem]
    expected_late = int((stamps < stamps.cummax().shift(fill_value=stamps.min())).sum())
    assert row["late"] == expected_late
    assert [f.severity for f in late] == (["error"] if order == "shuffled" else [])


def test_a_turbine_without_records_has_no_time_span(tmp_path: Path):
    site = _export(tmp_path)
    site.write_text(site.read_text() + SITE[SITE.index("[[turbines]]") :].replace('"A"', '"B"'))
    report = validate_site(site)
    row = report.turbines.loc["B"]
    assert row["rows"] == 0 and pd.isna(row["first"]) and pd.isna(row["last"])
    assert any(f.turbine == "B" and "no records" in f.problem for f in report.findings)


def test_a_site_takes_only_its_listed_turbines_of_a_shared_export_when_it_says_so(tmp_path: Path):
    """The export also holds turbine B, which the site does not list: an error, unless [source] says to leave it out."""
    path = _export(tmp_path, edit=lambda frame: pd.concat([frame, frame.assign(wtg="B")], ignore_index=True))
    report = validate_site(path)
    assert not report.usable
    assert any("['B']" in f.problem and "only_listed_turbines = true" in f.problem for f in report.findings)

    path.write_text(
        path.read_text().replace('files = ["export.csv"]', 'files = ["export.csv"]\nonly_listed_turbines = true')
    )
    report = validate_site(path)
    assert report.usable and report.turbines.loc["A", "rows"] == 300
    assert "300 rows have no turbine id or one not in [[turbines]] and are left out" in "\n".join(_problems(report))
    (frame,) = read_canonical_chunks(load_site_config(path))
    assert set(frame["asset_id"]) == {"A"} and len(frame) == 300


def test_a_mapped_column_the_export_lacks_suggests_the_closest_name_and_nothing_else(tmp_path: Path):
    site = _export(tmp_path, edit=lambda frame: frame.rename(columns={"v": "v_mean"}))
    report = validate_site(site)
    assert not report.usable
    (finding,) = report.findings  # the missing column; not also "no records" for every turbine it explains
    assert finding.column == "v" and "[columns] WMET_HorWdSpd = 'v' is not a column" in finding.problem
    assert "did you mean 'v_mean'?" in finding.problem and finding.fix == 'set WMET_HorWdSpd = "v_mean" in [columns]'
    # A semicolon export read with commas is one column: the finding asks about the delimiter.
    frame = pd.read_csv(tmp_path / "export.csv")
    frame.to_csv(tmp_path / "export.csv", sep=";", index=False)
    (finding,) = validate_site(site).findings
    assert "is the delimiter ',' right?" in finding.problem


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_progress_follows_a_multi_chunk_export_as_it_is_read(tmp_path: Path, file_format: str):
    site = _export(tmp_path, n=12_000)  # about 0.8 MB of CSV: more than the parser reads at once
    if file_format == "parquet":
        pd.read_csv(tmp_path / "export.csv").to_parquet(tmp_path / "export.parquet")
        site.write_text(
            site.read_text().replace('files = ["export.csv"]', 'files = ["export.parquet"]\nformat = "parquet"')
        )
    size = (tmp_path / f"export.{file_format}").stat().st_size
    heard: list[tuple[str, bool]] = []

    def progress(message: str, *, ongoing: bool = False) -> None:
        heard.append((message, ongoing))

    assert validate_site(site, chunk_rows=3000, progress=progress).usable
    *reading, (last, ongoing) = heard
    assert all(flag for _, flag in reading) and not ongoing and last.endswith(" s")
    name, chunks = f"reading export.{file_format}", (3000, 6000, 9000, 12000)
    if file_format == "parquet":
        assert [m for m, _ in reading] == [f"{name}: {rows:,} of 12,000 rows ({rows / 12000:.0%})" for rows in chunks]
        assert last.startswith(f"{name}: 12,000 rows in ")
        return
    kb = f"{size / 1000:.0f} kB"
    shares = []
    for (message, _), rows in zip(reading, chunks, strict=True):
        head, share = message.split(f" of {kb} (")
        assert head.startswith(f"{name}: {rows:,} rows, ")
        shares.append(int(share.removesuffix("%)")))
    # The bytes the parser has read: ahead of the rows handed over, but not the whole file at the first chunk.
    assert shares == sorted(shares) and shares[0] < 100 and shares[-1] == 100
    assert last.startswith(f"{name}: 12,000 rows, {kb} in ")


ALARMS_TOML = """
[status]
normal = [0]

[events]
files = ["alarms.csv"]
asset_id = "wtg"
start = "from"
end = "to"
code = "code"
"""


def _logged(tmp_path: Path, alarms: str) -> Path:
    """The 300-record export of turbine A (2025-01-01 00:00 to 01-03 01:50, UTC) with ``alarms`` as its status log."""
    path = _export(tmp_path)
    path.write_text(path.read_text() + ALARMS_TOML)
    (tmp_path / "alarms.csv").write_text(alarms)
    return path


GOOD_ALARMS = "wtg,from,to,code\nA,2025-01-01T10:00Z,2025-01-01T12:00Z,3\nA,2025-01-02T08:00Z,2025-01-02T09:00Z,4\n"


@pytest.mark.parametrize(
    ("alarms", "problem"),
    [
        ("", "the event log is empty"),
        ("wtg,from,to,code\n", "the log holds no events"),
        ("wtg,from,to,code\nA,2019-01-01T10:00Z,2019-01-01T12:00Z,3\n", "the log's events span 2019-01-01 to 2019"),
        (GOOD_ALARMS + "A,01.02.2025 10:00,01.02.2025 12:00,3\n" * 3, "3 events have no start that reads as a time"),
        (GOOD_ALARMS.replace("A,", "WTG-A,"), "events of units [[turbines]] does not list are left out"),
        (GOOD_ALARMS + "A,2025-01-02T10:00Z,2025-01-02T11:00Z,3,a note, with a comma\n", "more fields than its"),
        ("wtg,from,to,code\nA,2025-01-01T10:00Z,2025-01-01T10:00Z,3\n", "longer than an instant"),
    ],
)
def test_an_alarm_log_that_would_leave_every_record_normal_is_an_error(tmp_path: Path, alarms: str, problem: str):
    """Empty, without events, of another period, mostly unreadable, of other ids, a row read shifted, or events of
    no duration: refused, so no round runs on records that all read as normal. Control: the log with its two
    events is usable."""
    report = validate_site(_logged(tmp_path, alarms))
    assert not report.usable
    assert any(f.severity == "error" and problem in f.problem for f in report.findings), _problems(report)
    assert validate_site(_logged(tmp_path, GOOD_ALARMS)).usable


def test_a_log_of_one_month_beside_a_longer_export_warns_that_the_rest_reads_as_normal(tmp_path: Path):
    path = _export(tmp_path, n=24 * 6 * 80)  # 80 days
    path.write_text(path.read_text() + ALARMS_TOML)
    (tmp_path / "alarms.csv").write_text(GOOD_ALARMS)
    report = validate_site(path)
    assert report.usable
    assert any("records outside the log's span read as normal" in f.problem for f in report.findings)


def test_a_log_whose_last_event_is_still_open_covers_the_export_to_its_end(tmp_path: Path):
    """An open event lasts to the export's end: no warning that records after the log's last time read as normal,
    and an empty end is no time in the repeated autumn hour. Control: the event closed a day in, the warning."""
    path = _export(tmp_path, n=24 * 6 * 80)
    path.write_text(path.read_text() + ALARMS_TOML)
    (tmp_path / "alarms.csv").write_text(GOOD_ALARMS + "A,2025-01-02T12:00Z,,4\n")
    problems = [f.problem for f in validate_site(path).findings]
    assert not [p for p in problems if "outside the log's span" in p or "repeat in autumn" in p], problems
    (tmp_path / "alarms.csv").write_text(GOOD_ALARMS + "A,2025-01-02T12:00Z,2025-01-03T12:00Z,4\n")
    assert any("outside the log's span" in f.problem for f in validate_site(path).findings)


def test_an_event_log_whose_start_and_end_are_one_column_is_refused(tmp_path: Path):
    path = _logged(tmp_path, GOOD_ALARMS)
    path.write_text(path.read_text().replace('end = "to"', 'end = "from"'))
    with pytest.raises(SiteConfigError, match=r"\[events\] start and end are both 'from'"):
        load_site_config(path)


def test_a_log_kept_in_utc_beside_an_export_in_local_time_says_so(tmp_path: Path):
    """Berlin's site.toml, a log of naive UTC times with [events] timezone = "UTC": the event marks 10:00-12:00 UTC.
    Control: without it the log is read as Berlin time, an hour earlier."""
    path = _logged(tmp_path, "wtg,from,to,code\nA,2025-01-01 10:00,2025-01-01 12:00,3\n")
    site = load_site_config(path)
    assert site.timezone == "Europe/Berlin" and site.events is not None

    def marked(site_path: Path) -> list[str]:
        frame = pd.concat(read_canonical_chunks(load_site_config(site_path)))
        return list(frame.loc[frame["WTUR_TurSt"] == 3, "time"].dt.strftime("%H:%M").iloc[[0, -1]])

    assert marked(path) == ["09:00", "10:50"]  # read in Berlin time
    path.write_text(path.read_text().replace('files = ["alarms.csv"]', 'files = ["alarms.csv"]\ntimezone = "UTC"'))
    assert marked(path) == ["10:00", "11:50"]


def test_a_log_of_state_changes_holds_each_code_until_the_units_next_row(tmp_path: Path):
    """Without [events] end, each row's code holds until turbine A's next row: the rows 10:00 fault, 12:00 normal,
    next day 08:00 maintenance, 09:00 normal mark the records the two events of GOOD_ALARMS mark. Control: without
    the 12:00 return to normal the fault lasts till the next morning."""

    def statuses(site_path: Path) -> pd.Series:
        frame = pd.concat(read_canonical_chunks(load_site_config(site_path)))
        return frame.set_index("time")["WTUR_TurSt"]

    for folder in ("events", "states"):
        (tmp_path / folder).mkdir()
    events = statuses(_logged(tmp_path / "events", GOOD_ALARMS))
    changes = (
        "wtg,from,code\nA,2025-01-02T09:00Z,0\nA,2025-01-02T08:00Z,4\nA,2025-01-01T12:00Z,0\nA,2025-01-01T10:00Z,3\n"
    )
    states = _logged(tmp_path / "states", changes)
    states.write_text(states.read_text().replace('end = "to"\n', ""))
    pd.testing.assert_series_equal(statuses(states), events)
    assert (events == 3).sum() == 12 and (events == 4).sum() == 6
    (tmp_path / "states" / "alarms.csv").write_text(changes.replace("A,2025-01-01T12:00Z,0\n", ""))
    assert (statuses(states) == 3).sum() == 22 * 6  # 10:00 to 08:00 the next day


RAISED_AND_CLEARED = (
    "wtg,at,action,code\nA,2025-01-02T09:00Z,OFF,4\nA,2025-01-01T12:00Z,Off,3\nA,2025-01-01T11:00Z,ACK,3\n"
    "A,2025-01-02T08:00Z,on,4\nA,2025-01-01T10:00Z,ON,3\n"
)


def _raised_and_cleared(tmp_path: Path, alarms: str) -> Path:
    """The export of :func:`_logged` whose log is one row per alarm raised, cleared or acknowledged."""
    path = _logged(tmp_path, alarms)
    path.write_text(path.read_text().replace('start = "from"\nend = "to"\n', 'start = "at"\ntransition = "action"\n'))
    return path


def test_a_log_of_raised_and_cleared_rows_marks_the_records_its_events_mark(tmp_path: Path):
    """Each raise of GOOD_ALARMS' two alarms, its clear and an acknowledgement, newest first: the statuses of the
    log of events, and a log without findings. Control: the clear of code 3 left out, its fault lasts to the end."""

    def statuses(site_path: Path) -> pd.Series:
        frame = pd.concat(read_canonical_chunks(load_site_config(site_path)))
        return frame.set_index("time")["WTUR_TurSt"]

    for folder in ("events", "alarms"):
        (tmp_path / folder).mkdir()
    events = statuses(_logged(tmp_path / "events", GOOD_ALARMS))
    alarms = _raised_and_cleared(tmp_path / "alarms", RAISED_AND_CLEARED)
    pd.testing.assert_series_equal(statuses(alarms), events)
    assert (events == 3).sum() == 12 and (events == 4).sum() == 6
    assert not [f for f in validate_site(alarms).findings if "alarms.csv" in f.file], _problems(validate_site(alarms))
    (tmp_path / "alarms" / "alarms.csv").write_text(RAISED_AND_CLEARED.replace("A,2025-01-01T12:00Z,Off,3\n", ""))
    still_on = statuses(alarms)
    assert (still_on == 3).sum() == len(still_on[still_on.index >= "2025-01-01T10:00Z"]) - 6  # less code 4's hour


def test_an_alarm_cleared_before_any_raise_reads_as_on_from_the_logs_first_time(tmp_path: Path):
    """Clears of code 5 at 06:00 (turbine A's first row) and of code 6 at 07:00 on turbine B, raised before the
    log: on from the log's first row of a listed unit (B's acknowledgement at 05:00), the first named; an unlisted
    turbine's row a month before changes nothing. Control, in an export: with A's raise in the log at 05:30, the
    clear marks half of what it marked, without a warning."""
    header = "wtg,at,action,code\n"
    alarms = "A,2025-01-01T06:00Z,off,5\nB,2025-01-01T07:00Z,off,6\nB,2025-01-01T05:00Z,ack,6\n"
    path = _raised_and_cleared(tmp_path, header + alarms + "C,2024-12-01T00:00Z,on,5\n")
    site = load_site_config(path)
    events, counts = read_event_log(site.events, ("A", "B"), site.timezone, site.normal_status_codes)
    spans = [
        (pd.Timestamp(s, tz="UTC"), pd.Timestamp(e, tz="UTC")) for s, e in zip(events.start, events.end, strict=True)
    ]
    assert list(events.code) == [5, 6]
    assert spans == [
        (pd.Timestamp(f"2025-01-01T{t}Z"), pd.Timestamp(f"2025-01-01T{e}Z"))
        for t, e in (("05:00", "06:00"), ("05:00", "07:00"))
    ]
    assert counts.alarms is not None and counts.alarms.cleared_unraised == 2
    assert counts.alarms.cleared_unraised_example == "A, code 5, cleared 2025-01-01 06:00 UTC"
    alarms = header + "A,2025-01-01T05:00Z,ack,5\nA,2025-01-01T06:00Z,off,5\n" + RAISED_AND_CLEARED.removeprefix(header)
    (tmp_path / "alarms.csv").write_text(alarms)
    assert (pd.concat(read_canonical_chunks(load_site_config(path)))["WTUR_TurSt"] == 5).sum() == 6
    named = [f.problem for f in validate_site(path).findings if "cleared with no earlier raise" in f.problem]
    assert named == [
        "1 alarm is cleared with no earlier raise in the log (the first: A, code 5, cleared 2025-01-01 06:00 "
        "UTC): each reads as on from the log's first time to its clear"
    ]
    (tmp_path / "alarms.csv").write_text(alarms + "A,2025-01-01T05:30Z,on,5\n")
    assert (pd.concat(read_canonical_chunks(load_site_config(path)))["WTUR_TurSt"] == 5).sum() == 3
    assert not any("cleared with no earlier raise" in f.problem for f in validate_site(path).findings)


def test_transitions_the_site_does_not_list_are_named_and_most_unread_is_an_error(tmp_path: Path):
    """Clears written "CLR" (not a default value): named with the values seen and refused, since every raise
    would last to the export's end. Control: with cleared = ["clr"], usable."""
    path = _raised_and_cleared(tmp_path, RAISED_AND_CLEARED.replace("OFF", "CLR").replace("Off", "clr"))
    report = validate_site(path)
    named = [f for f in report.findings if f.column == "action"]
    assert not report.usable and named and named[0].severity == "error", _problems(report)
    assert "2 rows neither raise nor clear an alarm (['clr'])" in named[0].problem
    path.write_text(path.read_text().replace('transition = "action"\n', 'transition = "action"\ncleared = ["CLR"]\n'))
    assert validate_site(path).usable


def _alarm_pairs(pairs: int, day: int = 1) -> str:
    """Rows of ``pairs`` alarms of turbine A on 2025-01-``day``, each raised and cleared within its 10 minutes."""
    return "".join(
        f"A,2025-01-{day:02d}T{i // 6:02d}:{i % 6}0Z,on,3\nA,2025-01-{day:02d}T{i // 6:02d}:{i % 6}5Z,off,3\n"
        for i in range(pairs)
    )


def test_a_clear_that_cannot_be_read_leaving_its_alarm_on_is_an_error(tmp_path: Path):
    """40 alarms raised and cleared, and one whose clear's time does not read: its alarm would be on to the
    export's end, so the log is refused, naming the raise left on. Control: the clear readable, usable."""
    header = "wtg,at,action,code\n"
    good = _alarm_pairs(40) + "A,2025-01-02T10:00Z,on,3\n"
    path = _raised_and_cleared(tmp_path, header + good + "A,02.01.2025 11:00,off,3\n")
    report = validate_site(path)
    left_on = [f for f in report.findings if "never cleared" in f.problem]
    assert not report.usable and [f.severity for f in left_on] == ["error"], _problems(report)
    assert "(the earliest: A, code 3, raised 2025-01-02 10:00 UTC)" in left_on[0].problem
    assert left_on[0].problem.endswith("may have cleared 1 of them")
    (tmp_path / "alarms.csv").write_text(header + good + "A,2025-01-02T11:00Z,off,3\n")
    assert validate_site(path).usable and not [f for f in validate_site(path).findings if "alarms.csv" in f.file]
    # A row left out that cannot be the clear (another code): the alarm left on is a warning only.
    for lost, severity in (
        ("A,2025-01-02T11:00Z,off,\n", "error"),  # no code, after the raise
        ("A,2025-01-02T10:00Z,off,3.5\n", "warning"),  # another code
        ("A,2025-01-02T09:59Z,off,\n", "warning"),  # before the raise
        ("A,2025-01-02T10:00Z,OFF?,3\n", "error"),  # an unknown transition of its code, at its time
        ("A,02.01.2025,off,3\n", "error"),  # no time that reads
    ):
        (tmp_path / "alarms.csv").write_text(header + good + lost)
        left_on = [f for f in validate_site(path).findings if "never cleared" in f.problem]
        assert [f.severity for f in left_on] == [severity], _problems(validate_site(path))


def test_acknowledgements_do_not_dilute_the_share_of_rows_left_out(tmp_path: Path):
    """20 alarms (40 rows), 2 acknowledgements each and 3 raises whose time does not read: 3 of 43 rows that raise
    or clear (7 %) are left out, an error, though they are 3 of 83 rows of the log. Control: 2 of 42, a warning."""
    acks = "".join(f"A,2025-01-01T{i // 6:02d}:{i % 6}2Z,ack,3\n" * 2 for i in range(20))
    unreadable = "A,01.01.2025 20:00,on,4\n"
    path = _raised_and_cleared(tmp_path, "wtg,at,action,code\n" + _alarm_pairs(20) + acks + unreadable * 3)
    findings = [f for f in validate_site(path).findings if "no start that reads" in f.problem]
    assert [(f.severity, f.problem) for f in findings] == [
        ("error", "3 rows have no start that reads as a time: they are left out")
    ]
    (tmp_path / "alarms.csv").write_text("wtg,at,action,code\n" + _alarm_pairs(20) + acks + unreadable * 2)
    assert [f.severity for f in validate_site(path).findings if "no start that reads" in f.problem] == ["warning"]


def test_a_log_of_raised_and_cleared_rows_read_as_state_changes_warns(tmp_path: Path):
    """RAISED_AND_CLEARED without [events] transition: no row is of a normal code, so each fault would hold until
    the turbine's next row, and validation says what to map. Control: a log of state changes, each hour's state
    written again, does not warn."""
    path = _raised_and_cleared(tmp_path, RAISED_AND_CLEARED)
    path.write_text(path.read_text().replace('transition = "action"\n', ""))
    warned = [f for f in validate_site(path).findings if "rows read are of a normal code" in f.problem]
    assert [(f.severity, f.column) for f in warned] == [("warning", "code")]
    assert "map [events] transition" in warned[0].fix
    hourly = "".join(f"A,2025-01-01T{h:02d}:00Z,{3 if 10 <= h < 12 else 0}\n" for h in range(24))
    (tmp_path / "alarms.csv").write_text("wtg,at,code\n" + hourly)
    assert not [f for f in validate_site(path).findings if "of a normal code" in f.problem]


@pytest.mark.parametrize(
    ("setting", "refusal"),
    [
        ('end = "to"\n', r"\[events\] end and transition are both mapped"),
        ('raised = ["ON", "ack"]\n', r"\[events\] raised and ignored both hold \['ack'\]"),
        ("cleared = []\n", r"\[events\] cleared = \[\]; give the log's values"),
    ],
)
def test_a_log_of_raised_and_cleared_rows_mapped_ambiguously_is_refused(tmp_path: Path, setting: str, refusal: str):
    path = _raised_and_cleared(tmp_path, RAISED_AND_CLEARED)
    load_site_config(path)  # control: as mapped, it loads
    path.write_text(path.read_text().replace('transition = "action"\n', f'transition = "action"\n{setting}'))
    with pytest.raises(SiteConfigError, match=refusal):
        load_site_config(path)


def test_transition_values_without_a_transition_column_are_refused_and_no_acknowledgements_are_allowed(
    tmp_path: Path,
):
    path = _raised_and_cleared(tmp_path, RAISED_AND_CLEARED)
    path.write_text(path.read_text().replace('transition = "action"\n', 'transition = "action"\nignored = []\n'))
    assert load_site_config(path).events.ignored == ()  # control: an empty ignored is read
    path.write_text(path.read_text().replace('transition = "action"\n', 'raised = ["ON"]\n'))
    with pytest.raises(SiteConfigError, match=r"\[events\] raised, ignored set, but transition is not mapped"):
        load_site_config(path)


def test_a_log_of_state_changes_with_a_time_in_the_repeated_hour_validates_with_a_warning(tmp_path: Path):
    """A naive time in Berlin's repeated autumn hour in a log without end: a warning naming the start column
    (the finding named an end column the log does not have, and validation failed)."""
    path = _logged(tmp_path, "wtg,from,code\nA,2025-01-01 11:00,3\nA,2025-01-01 13:00,0\nA,2024-10-27 02:30,0\n")
    path.write_text(path.read_text().replace('end = "to"\n', ""))
    warned = [f for f in validate_site(path).findings if "repeat in autumn" in f.problem]
    assert [(f.severity, f.column) for f in warned] == [("warning", "from")]


def _with(values: dict[int, str], column: str = "p"):
    """An edit of :func:`_export`'s frame writing text ``values`` into ``column`` at the given rows."""

    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        frame[column] = frame[column].astype(object)
        for row, value in values.items():
            frame.loc[row, column] = value
        return frame

    return edit


def test_a_decimal_comma_export_with_one_dash_keeps_every_other_value(tmp_path: Path):
    """Semicolons and decimal commas, one power value "---": 299 powers read, a warning naming 1 of 300. (pandas
    leaves such a column as text; it was then read without the decimal comma, and every value was lost.)"""
    path = _export(tmp_path, edit=_with({7: "---"}))
    frame = pd.read_csv(tmp_path / "export.csv")
    frame["p"] = frame["p"].str.replace(".", ",", regex=False)  # the text column keeps its points otherwise
    frame.to_csv(tmp_path / "export.csv", index=False, sep=";", decimal=",")
    path.write_text(path.read_text().replace("[source]\n", '[source]\ndelimiter = ";"\ndecimal = ","\n'))
    read = pd.concat(read_canonical_chunks(load_site_config(path)))
    assert read["WTUR_W"].notna().sum() == 299 and read["WTUR_W"].max() == pytest.approx(2300.0)
    report = validate_site(path)
    assert report.usable
    assert [f.problem for f in report.findings if f.column == "p"] == [
        "1 of 300 values of WTUR_W are not numbers (1, 0 of them with digits) or outside -10000..30000 kW (0): they "
        "are left out"
    ]
    # With a decimal comma and no thousands separator, 1.953 is no number (as pandas' own reader has it).
    text = (tmp_path / "export.csv").read_text().splitlines()
    text[9] = text[9].replace(text[9].split(";")[2], "1.953")
    (tmp_path / "export.csv").write_text("\n".join(text) + "\n")
    read = pd.concat(read_canonical_chunks(load_site_config(path)))
    assert read["WTUR_W"].notna().sum() == 298


def test_a_channel_most_of_whose_values_do_not_read_is_an_error_naming_the_setting(tmp_path: Path):
    """A decimal-comma export read without decimal = ",": every wind speed is text, an error pointing at [source]
    decimal. Control: 10 values of "---", a warning."""
    path = _export(tmp_path, edit=lambda frame: frame.assign(v=frame["v"].map(lambda v: f"{v:.3f}".replace(".", ","))))
    report = validate_site(path)
    [finding] = [f for f in report.findings if f.column == "v"]
    assert not report.usable and finding.severity == "error" and "300 of 300 values" in finding.problem
    assert 'decimal = ","' in finding.fix
    report = validate_site(_export(tmp_path, edit=_with({i: "---" for i in range(10)}, "v")))
    assert report.usable and [f.severity for f in report.findings if f.column == "v"] == ["warning"]
    # A broken sensor written "---" throughout marks missing values, however many: a warning, usable.
    report = validate_site(_export(tmp_path, edit=_with({i: "---" for i in range(300)}, "temp")))
    assert report.usable and [f.severity for f in report.findings if f.column == "temp"] == ["warning"]


def test_infinite_power_is_no_number_not_a_power_above_rated(tmp_path: Path):
    """Twenty powers "inf" or "-inf": not numbers (a warning), not 7 % of records above 150 % of rated (an error
    that the unit looks wrong)."""
    report = validate_site(_export(tmp_path, edit=_with({i: "inf" if i % 2 else "-inf" for i in range(20)})))
    assert report.usable, _problems(report)
    assert [f.problem for f in report.findings if f.column == "p"] == [
        "20 of 300 values of WTUR_W are not numbers (20, 0 of them with digits) or outside -10000..30000 kW (0): they "
        "are left out"
    ]


def test_an_export_of_its_header_only_is_an_error(tmp_path: Path):
    path = _export(tmp_path, edit=lambda frame: frame.iloc[:0])
    report = validate_site(path)
    assert not report.usable
    assert [f.problem for f in report.findings] == ["the export holds no records of the turbines [[turbines]] lists"]
    assert validate_site(_export(tmp_path, edit=lambda frame: frame.iloc[:1])).usable  # control: one record


def test_timestamps_of_a_second_format_are_an_error_beyond_a_twentieth(tmp_path: Path):
    """Half of the export's stamps in "31.12.2024 23:50" form: an error. Control: 10 of 300 (3 %), a warning."""

    def german(rows: range):
        def edit(frame: pd.DataFrame) -> pd.DataFrame:
            stamps = pd.to_datetime(frame.loc[rows, "t"])
            frame.loc[rows, "t"] = stamps.dt.strftime("%d.%m.%Y %H:%M")
            return frame

        return edit

    for rows, severity in ((range(0, 300, 2), "error"), (range(10), "warning")):
        report = validate_site(_export(tmp_path, edit=german(rows)))
        unreadable = [f.severity for f in report.findings if "timestamps unreadable" in f.problem]
        assert unreadable == [severity], _problems(report)


def test_ids_that_look_like_numbers_are_read_as_the_text_they_are(tmp_path: Path):
    """Turbines "1" and "01" in one export, each listed: 300 records each (read as numbers, "01" was turbine 1)."""

    def two(frame: pd.DataFrame) -> pd.DataFrame:
        return pd.concat([frame.assign(wtg="1"), frame.assign(wtg="01")], ignore_index=True)

    path = _export(tmp_path, edit=two)
    text = path.read_text()
    turbine = text[text.index("[[turbines]]") :]
    path.write_text(text.replace('asset_id = "A"', 'asset_id = "1"') + turbine.replace('"A"', '"01"'))
    report = validate_site(path)
    assert report.usable, _problems(report)
    assert list(report.turbines["rows"]) == [300, 300] and list(report.turbines.index) == ["1", "01"]


@pytest.mark.parametrize(
    ("dialect", "write"),
    [
        (
            'delimiter = ";"\ndecimal = ","\nthousands = "."\n',
            lambda p: f"{p:,.1f}".translate(str.maketrans(",.", ".,")),
        ),
        ('thousands = ","\n', lambda p: f'"{p:,.1f}"'),
    ],
)
def test_powers_written_with_thousands_separators_read_as_the_numbers_they_are(tmp_path: Path, dialect, write):
    """1.953,5 with decimal = "," and thousands = "."; "1,953.5" (quoted) in a comma-separated export with thousands
    = ",": every power reads. Control: without thousands, those of 1,000 kW and more are not numbers, an error."""
    path = _export(tmp_path)
    frame = pd.read_csv(tmp_path / "export.csv")
    delimiter = ";" if "delimiter" in dialect else ","
    lines = [delimiter.join(frame.columns)]
    for row in frame.itertuples(index=False):
        others = [f"{row.v}", f"{row.temp}"]
        lines.append(
            delimiter.join(
                [row.t, row.wtg, write(row.p), *(c.replace(".", ",") if delimiter == ";" else c for c in others)]
            )
        )
    (tmp_path / "export.csv").write_text("\n".join(lines) + "\n")
    path.write_text(path.read_text().replace("[source]\n", "[source]\n" + dialect))
    read = pd.concat(read_canonical_chunks(load_site_config(path)))
    np.testing.assert_allclose(read["WTUR_W"].to_numpy(), frame["p"].round(1).to_numpy(), atol=1e-9)
    assert validate_site(path).usable
    path.write_text(path.read_text().replace(dialect.splitlines()[-1] + "\n", ""))
    [finding] = [f for f in validate_site(path).findings if f.column == "p"]
    assert finding.severity == "error" and f"{int((frame['p'] >= 1000).sum())} of 300 values" in finding.problem


def test_the_earliest_alarm_left_on_is_named_whatever_the_logs_order(tmp_path: Path):
    """Two alarms raised and never cleared, listed newest first: the example is the earliest raise."""
    rows = "wtg,at,action,code\nA,2025-01-02T10:00Z,on,4\nA,2025-01-01T10:00Z,on,3\nA,2025-01-02T10:00Z,on,3\n"
    path = _raised_and_cleared(tmp_path, rows)
    [finding] = [f for f in validate_site(path).findings if "never cleared" in f.problem]
    assert "2 alarms are raised and never cleared in the log (the earliest: A, code 3, raised 2025-01-01 10:00" in (
        finding.problem
    )
