"""Ingest: column mapping, units, local time with DST offsets, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from client.ingest import (
    LocalClock,
    canonicalise,
    raw_chunks,
    read_canonical_chunks,
    read_event_log,
    record_means,
    timestamps_to_utc,
)
from client.site_config import EventLog, SiteConfigError, load_site_config

SITE = """
[site]
timezone = "Europe/Berlin"
elevation_m = 50
[source]
files = ["{file}"]
format = "{fmt}"
delimiter = ";"
decimal = ","
[columns]
time = "Zeit"
asset_id = "WEA"
WTUR_W = "P"
WMET_HorWdSpd = "V"
WMET_EnvTmp = "T"
[units]
WTUR_W = "MW"
WMET_EnvTmp = "K"
[[turbines]]
asset_id = "A1"
model = "E-82/2300"
rated_power_kw = 2300
rotor_diameter_m = 82
hub_height_m = 98
"""


def _site(tmp_path: Path, text: str, fmt: str = "csv", file: str = "export.csv"):
    (tmp_path / "site.toml").write_text(SITE.format(fmt=fmt, file=file))
    (tmp_path / file).write_text(text) if fmt == "csv" else None
    return load_site_config(tmp_path / "site.toml")


def test_units_offsets_and_decimal_comma_become_canonical(tmp_path: Path):
    site = _site(
        tmp_path,
        "Zeit;WEA;P;V;T\n"
        "2025-03-30T01:50:00+01:00;A1;1,5;8,25;280,15\n"
        "2025-03-30T03:00:00+02:00;A1;-0,001;3,0;273,15\n"
        "2025-03-30T03:10:00+02:00;A1;99;70;273,15\n",
    )
    (frame,) = read_canonical_chunks(site)
    assert list(frame["time"]) == [
        pd.Timestamp("2025-03-30T00:50Z"),
        pd.Timestamp("2025-03-30T01:00Z"),
        pd.Timestamp("2025-03-30T01:10Z"),
    ]
    np.testing.assert_allclose(frame["WTUR_W"].to_numpy()[:2], [1500.0, -1.0])
    np.testing.assert_allclose(frame["WMET_EnvTmp"].to_numpy()[:2], [7.0, 0.0], atol=1e-9)
    # 99 MW and 70 m/s are physically impossible: blanked, not dropped.
    assert len(frame) == 3 and np.isnan(frame["WTUR_W"].iloc[2]) and np.isnan(frame["WMET_HorWdSpd"].iloc[2])


def test_naive_local_times_are_localised_with_the_site_timezone(tmp_path: Path):
    site = _site(tmp_path, "Zeit;WEA;P;V;T\n2025-07-01 12:00:00;A1;1;5;290\n")
    (frame,) = read_canonical_chunks(site)
    assert frame["time"].iloc[0] == pd.Timestamp("2025-07-01T10:00Z")


def test_parquet_exports_read_like_csv(tmp_path: Path):
    pd.DataFrame(
        {"Zeit": pd.to_datetime(["2025-01-01T00:00Z"]), "WEA": ["A1"], "P": [2.0], "V": [12.0], "T": [270.0]}
    ).to_parquet(tmp_path / "export.parquet")
    site = _site(tmp_path, "", fmt="parquet", file="export.parquet")
    (frame,) = read_canonical_chunks(site)
    assert frame["WTUR_W"].iloc[0] == 2000.0 and frame["time"].iloc[0] == pd.Timestamp("2025-01-01T00:00Z")


def test_missing_columns_and_unknown_turbines_name_file_column_and_fix(tmp_path: Path):
    site = _site(tmp_path, "Zeit;WEA;P;T\n2025-01-01T00:00Z;A1;1;280\n")
    with pytest.raises(SiteConfigError, match=r"export.csv: \[columns\] WMET_HorWdSpd = 'V' is not a column"):
        list(read_canonical_chunks(site))
    site = _site(tmp_path, "Zeit;WEA;P;V;T\n2025-01-01T00:00Z;B7;1;5;280\n")
    with pytest.raises(SiteConfigError, match=r"B7.*\[\[turbines\]\]"):
        list(read_canonical_chunks(site))


def _one_second_site(tmp_path: Path, text: str):
    site_text = SITE.format(fmt="csv", file="export.csv").replace('decimal = ","', 'decimal = ","\nresolution = "1s"')
    (tmp_path / "site.toml").write_text(site_text)
    (tmp_path / "export.csv").write_text(text)
    return load_site_config(tmp_path / "site.toml")


@pytest.mark.parametrize("chunk_rows", [1, 7, 1000])
def test_one_second_data_becomes_ten_minute_means_whatever_the_chunks(tmp_path: Path, chunk_rows: int):
    rows = ["Zeit;WEA;P;V;T"]
    start = pd.Timestamp("2025-01-01T00:00:00Z")
    for second in range(0, 1500, 30):  # every 30 s over 25 minutes: 20 records per full 10 minutes
        stamp = (start + pd.Timedelta(seconds=second)).isoformat()
        rows.append(f"{stamp};A1;{second / 1000:.3f};{5 + second / 600:.4f};283,15".replace(".", ","))
    site = _one_second_site(tmp_path, "\n".join(rows) + "\n")
    frame = pd.concat(list(read_canonical_chunks(site, chunk_rows=chunk_rows)), ignore_index=True)
    assert list(frame["time"]) == [start, start + pd.Timedelta(minutes=10), start + pd.Timedelta(minutes=20)]
    # Mean of seconds 0..570 step 30 is 285 s: P = 0.285 MW, V = 5 + 285/600 m/s.
    assert frame["WTUR_W"].iloc[0] == pytest.approx(285.0)
    assert frame["WMET_HorWdSpd"].iloc[0] == pytest.approx(5 + 285 / 600, abs=1e-4)
    assert frame["WMET_EnvTmp"].iloc[1] == pytest.approx(10.0)


def test_a_time_format_reads_day_first_local_times_as_their_iso_twins(tmp_path: Path):
    """05.01.2025 13:40 with time_format "%d.%m.%Y %H:%M" is 2025-01-05T13:40 in the site's zone; ISO text unset."""
    rows = "Zeit;WEA;P;V;T\n05.01.2025 13:40;A1;1,5;8,0;280,15\n05.01.2025 13:50;A1;1,6;8,1;280,15\n"
    site = _site(tmp_path, rows)
    assert pd.concat(read_canonical_chunks(site))["time"].isna().all()  # not ISO 8601: no time without the format
    toml = tmp_path / "site.toml"
    toml.write_text(toml.read_text().replace('decimal = ","', 'decimal = ","\ntime_format = "%d.%m.%Y %H:%M"'))
    (frame,) = read_canonical_chunks(load_site_config(toml))
    assert list(frame["time"]) == [pd.Timestamp("2025-01-05T12:40Z"), pd.Timestamp("2025-01-05T12:50Z")]  # CET
    toml.write_text(toml.read_text().replace('"%d.%m.%Y %H:%M"', '"DD.MM.YYYY"'))
    with pytest.raises(SiteConfigError, match=r"\[source\] time_format = 'DD.MM.YYYY'; give strftime codes"):
        load_site_config(toml)
    toml.write_text(toml.read_text().replace('"DD.MM.YYYY"', '"%d.%m.%Q %H:%M"'))  # a code Python does not know
    with pytest.raises(SiteConfigError, match=r"\[source\] time_format = '%d.%m.%Q %H:%M'; give strftime codes"):
        load_site_config(toml)
    toml.write_text(toml.read_text().replace('"%d.%m.%Q %H:%M"', '"exel"'))  # the numeric formats are named
    with pytest.raises(SiteConfigError, match=r"time_format = 'exel'; .* or one of \['unix', 'unix_ms', 'excel'\]"):
        load_site_config(toml)


def test_end_stamped_records_average_into_the_ten_minutes_they_cover(tmp_path: Path):
    """30-s records stamped at their end (00:00:30 covers 00:00:00-00:00:30) read as the start-stamped ones do."""
    start = pd.Timestamp("2025-01-01T00:00:00Z")
    seconds = range(0, 1200, 30)

    def export(shift: int) -> str:
        rows = [
            f"{(start + pd.Timedelta(seconds=s + shift)).isoformat()};A1;{s / 1000:.3f};5,0;283,15" for s in seconds
        ]
        return "Zeit;WEA;P;V;T\n" + "\n".join(row.replace(".", ",") for row in rows) + "\n"

    site = _one_second_site(tmp_path, export(0))
    by_start = pd.concat(list(read_canonical_chunks(site)), ignore_index=True)
    (tmp_path / "export.csv").write_text(export(30))
    as_stamped = pd.concat(list(read_canonical_chunks(load_site_config(tmp_path / "site.toml"))), ignore_index=True)
    toml = tmp_path / "site.toml"
    toml.write_text(toml.read_text().replace('resolution = "1s"', 'resolution = "30s"\ntimestamps = "end"'))
    by_end = pd.concat(list(read_canonical_chunks(load_site_config(toml))), ignore_index=True)
    assert list(by_start["time"]) == [start, start + pd.Timedelta(minutes=10)]
    pd.testing.assert_frame_equal(by_end, by_start)
    # Read as start stamps, each 10 minutes would take the last record of the 10 before and lose its own last.
    assert as_stamped["WTUR_W"].iloc[1] != pytest.approx(by_start["WTUR_W"].iloc[1])


def test_wide_exports_stack_into_one_row_per_turbine_and_time(tmp_path: Path):
    site_text = SITE.format(fmt="csv", file="export.csv")
    site_text = site_text.replace('decimal = ","', 'decimal = ","\nlayout = "wide"').replace('asset_id = "WEA"\n', "")
    for name in ("P", "V", "T"):
        site_text = site_text.replace(f'= "{name}"', f'= "{{asset}}_{name}"')
    site_text += SITE[SITE.index("[[turbines]]") :].replace('"A1"', '"A2"')
    (tmp_path / "site.toml").write_text(site_text)
    (tmp_path / "export.csv").write_text(
        "Zeit;A1_P;A1_V;A1_T;A2_P;A2_V;A2_T\n"
        "2025-01-01T00:00:00Z;1,0;8,0;280;2,0;9,0;281\n"
        "2025-01-01T00:10:00Z;1,5;8,5;280;2,1;9,5;281\n"
    )
    site = load_site_config(tmp_path / "site.toml")
    frame = pd.concat(list(read_canonical_chunks(site, chunk_rows=2)), ignore_index=True)
    frame = frame.sort_values(["asset_id", "time"]).reset_index(drop=True)
    assert list(frame["asset_id"]) == ["A1", "A1", "A2", "A2"]
    np.testing.assert_allclose(frame["WTUR_W"], [1000.0, 1500.0, 2000.0, 2100.0])  # MW -> kW
    np.testing.assert_allclose(frame["WMET_HorWdSpd"], [8.0, 8.5, 9.0, 9.5])


def test_a_wide_mapping_without_the_asset_placeholder_names_the_fix(tmp_path: Path):
    site_text = SITE.format(fmt="csv", file="export.csv").replace('decimal = ","', 'decimal = ","\nlayout = "wide"')
    (tmp_path / "site.toml").write_text(site_text)
    (tmp_path / "export.csv").write_text("Zeit\n")
    with pytest.raises(SiteConfigError, match=r'\[columns\] WTUR_W = "P": in a wide export name each turbine'):
        load_site_config(tmp_path / "site.toml")


def test_the_repeated_autumn_hour_of_naive_local_time_is_resolved_by_order(tmp_path: Path):
    # Europe/Berlin, 2025-10-26: 02:00-02:50 local happen twice (CEST, then CET).
    local = pd.date_range("2025-10-26 01:00", "2025-10-26 03:50", freq="10min")
    wall = [t.strftime("%Y-%m-%d %H:%M:%S") for t in local if t.hour != 2]
    wall = wall[:6] + [f"2025-10-26 02:{m:02d}:00" for m in range(0, 60, 10)] * 2 + wall[6:]
    rows = ["Zeit;WEA;P;V;T"] + [f"{w};{a};1;5;280" for a in ("A1", "A2") for w in wall]
    site = _site(tmp_path, "\n".join(rows) + "\n")
    (tmp_path / "site.toml").write_text(
        (tmp_path / "site.toml").read_text() + SITE[SITE.index("[[turbines]]") :].replace('"A1"', '"A2"')
    )
    site = load_site_config(tmp_path / "site.toml")
    (frame,) = read_canonical_chunks(site)
    for _, turbine in frame.groupby("asset_id", observed=True):
        times = turbine["time"]
        assert times.notna().all() and times.is_monotonic_increasing and times.is_unique
        assert times.iloc[0] == pd.Timestamp("2025-10-25T23:00Z") and times.iloc[-1] == pd.Timestamp(
            "2025-10-26T02:50Z"
        )
        assert len(times) == 24


def _autumn_wall_clock() -> list[str]:
    """Europe/Berlin, 2025-10-26, 01:00 to 03:50 every 10 min as a naive export writes it: 02:00-02:50 twice."""
    local = pd.date_range("2025-10-26 01:00", "2025-10-26 03:50", freq="10min")
    wall = [t.strftime("%Y-%m-%d %H:%M:%S") for t in local if t.hour != 2]
    return wall[:6] + [f"2025-10-26 02:{m:02d}:00" for m in range(0, 60, 10)] * 2 + wall[6:]


def _a1_times(tmp_path: Path, with_a2: bool, resolve_each_chunk_alone: bool = False) -> pd.Series:
    """A1's UTC times from a time-major export (A2's record after each of A1's, or none) read in 30-row chunks."""
    turbines = ("A1", "A2") if with_a2 else ("A1",)
    rows = ["Zeit;WEA;P;V;T"] + [f"{w};{a};1;5;280" for w in _autumn_wall_clock() for a in turbines]
    folder = tmp_path / ("both" if with_a2 else "alone")
    folder.mkdir(parents=True)
    site = _site(folder, "\n".join(rows) + "\n")
    (folder / "site.toml").write_text(
        (folder / "site.toml").read_text() + SITE[SITE.index("[[turbines]]") :].replace('"A1"', '"A2"')
    )
    site = load_site_config(folder / "site.toml")
    if resolve_each_chunk_alone:
        frames = [canonicalise(raw, site, path) for path in site.files for raw in raw_chunks(site, path, 30)]
    else:
        frames = list(read_canonical_chunks(site, chunk_rows=30))
    frame = pd.concat(frames)
    return frame["time"][frame["asset_id"] == "A1"].reset_index(drop=True)


def test_the_repeated_hour_cut_by_a_chunks_border_is_read_from_the_turbines_own_records(tmp_path: Path):
    """Beside A2, 30-row chunks end in A1's second 02:xx (its 15th record); alone, A1's 24 records fit in one.
    A1's times are the same either way: its latest time is carried between chunks (client.ingest.LocalClock),
    so another turbine's rows cannot move them. Control: each chunk read alone, the second pass cut off from
    the first reads as summer time again beside A2: duplicates instead of 01:00-01:50 UTC."""
    alone = _a1_times(tmp_path, with_a2=False)
    assert alone.is_monotonic_increasing and alone.is_unique and len(alone) == 24
    pd.testing.assert_series_equal(_a1_times(tmp_path / "x", with_a2=True), alone)
    cut = _a1_times(tmp_path / "control", with_a2=True, resolve_each_chunk_alone=True)
    assert not cut.equals(alone) and cut.duplicated().any()


def test_the_missing_spring_hour_of_naive_local_time_is_not_invented(tmp_path: Path):
    site = _site(tmp_path, "Zeit;WEA;P;V;T\n2025-03-30 01:50:00;A1;1;5;280\n2025-03-30 02:10:00;A1;1;5;280\n")
    (frame,) = read_canonical_chunks(site)
    assert frame["time"].iloc[0] == pd.Timestamp("2025-03-30T00:50Z") and pd.isna(frame["time"].iloc[1])


def test_a_nacelle_transfer_function_turns_nacelle_into_free_stream_wind_speed_for_its_turbine(tmp_path: Path):
    (tmp_path / "site.toml").write_text(
        SITE.format(fmt="csv", file="export.csv")
        + "nacelle_transfer_function = { nacelle_m_s = [3, 8, 16], free_stream_m_s = [3.3, 8.8, 17] }\n"
        + '[[turbines]]\nasset_id = "A2"\nmodel = "E-82/2300"\nrated_power_kw = 2300\nrotor_diameter_m = 82\n'
        + "hub_height_m = 98\n"
    )
    (tmp_path / "export.csv").write_text(
        "Zeit;WEA;P;V;T\n"
        "2025-03-01T00:00:00Z;A1;1;5,5;280\n"
        "2025-03-01T00:00:00Z;A2;1;5,5;280\n"
        "2025-03-01T00:10:00Z;A1;1;2,0;280\n"
    )
    (frame,) = read_canonical_chunks(load_site_config(tmp_path / "site.toml"))
    # A1 through its NTF (3.3 + 0.5 * 5.5 = 6.05; 2 m/s lies below the table: no wind speed); A2 as logged.
    np.testing.assert_allclose(frame["WMET_HorWdSpd"].to_numpy(), [6.05, 5.5, np.nan], rtol=1e-12)


def _minute_records_with_one_late() -> pd.DataFrame:
    """An hour of 1-min records of inverters A and B (a tenth missing); A's minute 3 written at the end."""
    rng = np.random.default_rng(1)
    rows = [(u, k, float(rng.integers(0, 3))) for k in range(60) for u in ("A", "B") if rng.random() < 0.9]
    late = next(i for i, row in enumerate(rows) if row[:2] == ("A", 3))
    rows.append(rows.pop(late))
    t0 = pd.Timestamp("2024-06-01", tz="UTC")
    return pd.DataFrame(
        {
            "time": pd.DatetimeIndex([t0 + pd.Timedelta(minutes=k) for _, k, _ in rows]),
            "asset_id": pd.Categorical([u for u, _, _ in rows], categories=["A", "B"]),
            "P_out": [v for _, _, v in rows],
            "INV_St": 0.0,
        }
    )


def _chunkings_unlike_one_chunk(frame: pd.DataFrame) -> int:
    def means(chunks: list[pd.DataFrame]) -> pd.DataFrame:
        out = pd.concat(record_means(chunks, (0,), pd.Timedelta(minutes=15), ("P_out",), "INV_St"), ignore_index=True)
        return out.sort_values(["asset_id", "time"], kind="stable").reset_index(drop=True)

    whole, unlike = means([frame]), 0
    for seed in range(40):
        rng = np.random.default_rng(seed)
        cuts = np.sort(rng.integers(0, len(frame), size=rng.integers(1, 12)))
        chunks = [frame.iloc[a:b] for a, b in zip([0, *cuts], [*cuts, len(frame)], strict=True)]
        unlike += not means(chunks).equals(whole)
    return unlike


def test_a_late_minute_record_is_left_out_before_averaging_so_the_chunks_borders_change_nothing(monkeypatch):
    """A reviewer's case: A's minute 3 arrives after its 15-min period was averaged in some chunkings only (where
    the chunks end depends on B's rows too). Left out as late, every chunking gives the one-chunk means. Control:
    let through, most chunkings average that period twice."""
    frame = _minute_records_with_one_late()
    assert _chunkings_unlike_one_chunk(frame) == 0
    monkeypatch.setattr("client.ingest.late_or_repeated_records", lambda asset, *_: np.zeros(len(asset), dtype=bool))
    assert _chunkings_unlike_one_chunk(frame) > 20


def _a1_wall_clock_times(tmp_path: Path, wall: list[str]) -> pd.Series:
    site = _site(tmp_path, "\n".join(["Zeit;WEA;P;V;T"] + [f"{w};A1;1;5;280" for w in wall]) + "\n")
    (frame,) = read_canonical_chunks(site)
    return frame["time"].dt.strftime("%H:%M").fillna("NaT")


def test_a_duplicated_record_in_the_first_pass_of_the_repeated_hour_stays_in_it(tmp_path: Path):
    """A reviewer's case: 02:10 written twice in the summer pass of a 10-min export is a duplicate, not the winter
    pass beginning (which would shift the rest of the summer pass an hour and read the real winter pass as late)."""
    wall = _autumn_wall_clock()
    wall.insert(wall.index("2025-10-26 02:10:00") + 1, "2025-10-26 02:10:00")
    utc = list(_a1_wall_clock_times(tmp_path, wall))
    summer, winter = ["00:00", "00:10", "00:10", "00:20", "00:30", "00:40", "00:50"], [f"01:{m}0" for m in range(6)]
    assert utc[6:19] == summer + winter


def test_a_turbines_first_record_in_the_repeated_hour_cannot_tell_its_pass_and_reads_as_missing(tmp_path: Path):
    """Another of the reviewer's cases: an export that starts in the second 02:xx is not silently read an hour off."""
    wall = _autumn_wall_clock()[15:]  # from the winter pass's 02:30
    assert list(_a1_wall_clock_times(tmp_path, wall)[:4]) == ["NaT", "NaT", "NaT", "02:00"]


@pytest.mark.parametrize(
    ("stamps", "time_format"),
    [
        (["2025-07-01T13:40:00+01:00", "2025-12-01T13:40:00+01:00"], None),  # ISO 8601 with one fixed offset
        (["2025-07-01 13:40+0100", "2025-12-01 13:40+0100"], "%Y-%m-%d %H:%M%z"),
        (["2025-07-01 13:40 Z", "2025-12-01 13:40 Z"], None),
        (["2025-07-01 13:40:00+01", "2025-12-01 13:40:00+01"], None),  # hours only, as PostgreSQL writes them
        (["2025-07-01 13:40:00.5+01", "2025-12-01 13:40:00.5 UTC"], None),  # a trimmed fraction; a zone's name
        (["20250701-1340", "20251201-1340"], "%Y%m%d-%H%M"),  # no offset: "-1340" is the time of day
        (["2025-07-01 13:40 UTC", "2025-12-01 13:40 UTC"], "%Y-%m-%d %H:%M %Z"),  # a zone's name, and %Z
    ],
)
def test_ignored_utc_offsets_read_the_stamps_wall_clock_in_the_sites_zone(tmp_path: Path, stamps, time_format):
    """A Berlin logger on daylight saving time that stamps one offset: its summer 13:40 is 11:40 UTC, not 12:40."""
    rows = "Zeit;WEA;P;V;T\n" + "".join(f"{stamp};A1;1,5;8,0;280,15\n" for stamp in stamps)
    _site(tmp_path, rows)
    toml = tmp_path / "site.toml"
    extra = 'decimal = ","\n' + (f'time_format = "{time_format}"\n' if time_format else "")
    toml.write_text(toml.read_text().replace('decimal = ","\n', extra))
    stated = list(pd.concat(read_canonical_chunks(load_site_config(toml)))["time"])  # control: the offsets read
    toml.write_text(toml.read_text().replace('decimal = ","\n', 'decimal = ","\nutc_offsets = "ignore"\n'))
    ignored = list(pd.concat(read_canonical_chunks(load_site_config(toml)))["time"])
    seconds = pd.Timedelta(seconds=0.5) if ".5" in stamps[0] else pd.Timedelta(0)
    assert ignored == [pd.Timestamp("2025-07-01T11:40Z") + seconds, pd.Timestamp("2025-12-01T12:40Z") + seconds]
    assert stated != ignored or time_format == "%Y%m%d-%H%M"  # without offsets, reading them changes nothing
    toml.write_text(toml.read_text().replace('"ignore"', '"drop"'))
    with pytest.raises(SiteConfigError, match=r"\[source\] utc_offsets = 'drop'; use one of \['read', 'ignore'\]"):
        load_site_config(toml)


def test_ignored_utc_offsets_of_zoned_parquet_stamps_read_their_wall_clock(tmp_path: Path):
    times = pd.to_datetime(["2025-07-01T13:40:00+01:00", "2025-12-01T13:40:00+01:00"])
    frame = pd.DataFrame({"Zeit": times, "WEA": "A1", "P": 1.5, "V": 8.0, "T": 280.15})
    frame.to_parquet(tmp_path / "export.parquet")
    _site(tmp_path, "", fmt="parquet", file="export.parquet")
    toml = tmp_path / "site.toml"
    toml.write_text(toml.read_text().replace('decimal = ","\n', 'decimal = ","\nutc_offsets = "ignore"\n'))
    (frame,) = read_canonical_chunks(load_site_config(toml))
    assert list(frame["time"]) == [pd.Timestamp("2025-07-01T11:40Z"), pd.Timestamp("2025-12-01T12:40Z")]


def test_a_zone_left_in_the_stamps_after_their_offsets_were_dropped_is_refused_not_read_as_utc(tmp_path: Path):
    """A stamp whose zone the stripping missed would parse zoned, or mixed with naive ones fall back to UTC."""
    clock, assets = LocalClock(1), np.zeros(2, dtype=np.int64)
    for stamps in (["2025-07-01T13:40:00+02:00"] * 2, ["2025-07-01T13:40:00+02:00", "2025-07-01T13:50:00"]):
        with pytest.raises(SiteConfigError, match=r'Zeit.*utc_offsets = "ignore", but some stamps state a zone'):
            timestamps_to_utc(pd.Series(stamps), assets, "Europe/Berlin", tmp_path, "Zeit", None, clock, True)
        read = timestamps_to_utc(pd.Series(stamps), assets, "Europe/Berlin", tmp_path, "Zeit", None, clock)
        assert read.iloc[0] == pd.Timestamp("2025-07-01T11:40Z")  # control: offsets read, they count


def test_an_alarm_logs_naive_times_in_the_repeated_hour_read_the_same_in_either_order(tmp_path: Path):
    """Berlin, 26 October 2025, clocks back from 03:00 CEST to 02:00 CET: a start in the repeated hour is its first
    pass, an end the first pass not before its start; a start in the spring gap is the hour after; rows in either
    order give the same events (a log's order says nothing of the pass)."""
    rows = [
        ("T1", "2025-10-26 02:20", "2025-10-26 02:40", 3),  # 00:20-00:40 UTC, both in the first pass
        ("T1", "2025-10-26 01:30", "2025-10-26 02:30", 4),  # 23:30 the day before to 00:30 UTC
        ("T1", "2025-10-26 02:50", "2025-10-26 02:10", 5),  # 00:50 to 01:10 UTC: its end is in the second pass
        ("T2", "2025-03-30 02:30", "2025-03-30 04:00", 6),  # the spring gap: 01:00 to 02:00 UTC
    ]
    log = EventLog(
        (tmp_path / "alarms.csv",), "csv", ",", None, {"asset_id": "u", "start": "s", "end": "e", "code": "c"}
    )
    expected = [
        ("2025-10-25T23:30Z", "2025-10-26T00:30Z", 4),
        ("2025-10-26T00:20Z", "2025-10-26T00:40Z", 3),
        ("2025-10-26T00:50Z", "2025-10-26T01:10Z", 5),
        ("2025-03-30T01:00Z", "2025-03-30T02:00Z", 6),
    ]
    for order in (rows, rows[::-1]):
        pd.DataFrame(order, columns=["u", "s", "e", "c"]).to_csv(tmp_path / "alarms.csv", index=False)
        events, counts = read_event_log(log, ("T1", "T2"), "Europe/Berlin", (0,))
        found = [
            (pd.Timestamp(s, tz="UTC"), pd.Timestamp(e, tz="UTC"), int(c))
            for s, e, c in zip(events.start, events.end, events.code, strict=True)
        ]
        assert found == [(pd.Timestamp(s), pd.Timestamp(e), c) for s, e, c in expected]
        assert counts.read == 4 and counts.repeated_hour == 3


def test_stamps_that_state_no_offset_among_ones_that_do_are_read_in_the_sites_zone(tmp_path: Path, monkeypatch):
    """An export whose stamps mostly state their offsets but a few do not (here the second of three, Berlin in
    summer): those are read in [site] timezone, 13:50 as 11:50 UTC, not as UTC. Control: parsed straight to UTC,
    as pandas reads a column of mixed offsets, 13:50 reads 13:50 UTC."""
    stamps = ["2025-07-01T13:40:00+02:00", "2025-07-01T13:50:00", "2025-07-01T14:00:00+02:00"]
    _site(tmp_path, "Zeit;WEA;P;V;T\n" + "".join(f"{stamp};A1;1,5;8,0;280,15\n" for stamp in stamps))
    site = load_site_config(tmp_path / "site.toml")
    expected = [pd.Timestamp(f"2025-07-01T{t}Z") for t in ("11:40", "11:50", "12:00")]
    assert list(pd.concat(read_canonical_chunks(site))["time"]) == expected
    monkeypatch.setattr("client.ingest.states_offset", lambda raw: np.ones(len(raw), dtype=bool))
    assert list(pd.concat(read_canonical_chunks(site))["time"])[1] == pd.Timestamp("2025-07-01T13:50Z")
    log = EventLog(
        (tmp_path / "alarms.csv",), "csv", ",", None, {"asset_id": "u", "start": "s", "end": "e", "code": "c"}
    )
    (tmp_path / "alarms.csv").write_text("u,s,e,c\nA1,2025-07-01T13:50:00,2025-07-01T14:00:00+02:00,3\n")
    monkeypatch.undo()
    events, _ = read_event_log(log, ("A1",), "Europe/Berlin", (0,))
    assert (pd.Timestamp(events.start[0], tz="UTC"), pd.Timestamp(events.end[0], tz="UTC")) == (
        expected[1],
        expected[2],
    )


def test_offsets_that_differ_in_a_form_not_read_are_an_error_naming_the_column(tmp_path: Path):
    """ISO 8601 stamps of hours only, "13+02" and "14+01": a SiteConfigError naming the file and column with the
    form that reads (it recursed without end before). Control: written 13:00+02:00 and 13:00+01:00, they read."""
    stamps = ["2025-10-26T00+02", "2025-10-26T02+01", "2025-10-26T03+01"]
    _site(tmp_path, "Zeit;WEA;P;V;T\n" + "".join(f"{stamp};A1;1,5;8,0;280,15\n" for stamp in stamps))
    site = load_site_config(tmp_path / "site.toml")
    with pytest.raises(SiteConfigError, match=r"column 'Zeit': its stamps state UTC offsets .* \+hh:mm"):
        pd.concat(read_canonical_chunks(site))
    fixed = [stamp[:13] + ":00" + stamp[13:] + ":00" for stamp in stamps]
    _site(tmp_path, "Zeit;WEA;P;V;T\n" + "".join(f"{stamp};A1;1,5;8,0;280,15\n" for stamp in fixed))
    times = pd.concat(read_canonical_chunks(load_site_config(tmp_path / "site.toml")))["time"]
    assert list(times.dt.strftime("%H:%M")) == ["22:00", "01:00", "02:00"]


def test_a_clear_written_after_the_clocks_went_back_ends_the_alarm_raised_before(tmp_path: Path):
    """Berlin, 26 October 2025, naive times: raised 02:50 (first pass, 00:50 UTC), cleared 02:10 (second pass,
    01:10 UTC). Read as its first pass the clear would come before the raise, the alarm on from the log's first
    row and again to the export's end; it ends the raise 20 minutes later. Control: cleared 02:55, first pass."""
    log = EventLog(
        (tmp_path / "alarms.csv",), "csv", ",", None, {"asset_id": "u", "start": "t", "transition": "a", "code": "c"}
    )
    for cleared, expected in (("02:10", "01:10"), ("02:55", "00:55")):
        rows = f"u,t,a,c\nT1,2025-10-26 01:00,on,7\nT1,2025-10-26 01:00,off,7\nT1,2025-10-26 {cleared},off,3\n"
        (tmp_path / "alarms.csv").write_text(rows + "T1,2025-10-26 02:50,on,3\n")
        events, counts = read_event_log(log, ("T1",), "Europe/Berlin", (0,))
        found = [
            (pd.Timestamp(s, tz="UTC"), pd.Timestamp(e, tz="UTC"))
            for s, e in zip(events.start, events.end, strict=True)
        ]
        assert found == [(pd.Timestamp("2025-10-26T00:50Z"), pd.Timestamp(f"2025-10-26T{expected}Z"))]
        assert counts.alarms is not None and (counts.alarms.cleared_unraised, counts.alarms.left_on) == (0, 0)
        assert counts.repeated_hour == 2


@pytest.mark.parametrize(
    ("stamps", "time_format"),
    [
        (["2025-01-01 23:40", "2025-01-01 23:50", "2025-01-01 24:00", "2025-01-02 00:10"], None),
        (["01.01.2025 23:40", "01.01.2025 23:50", "01.01.2025 24:00", "02.01.2025 00:10"], "%d.%m.%Y %H:%M"),
    ],
)
def test_a_days_last_stamp_written_24_00_is_the_midnight_after_it(tmp_path: Path, stamps, time_format):
    """Berlin in winter (UTC+1): 24:00 of 1 January is 2 January 00:00 local, 23:00 UTC; ISO text or a time_format
    alike. Control: 23:50 and 00:10 read as themselves."""
    _site(tmp_path, "Zeit;WEA;P;V;T\n" + "".join(f"{stamp};A1;1,5;8,0;280,15\n" for stamp in stamps))
    toml = tmp_path / "site.toml"
    if time_format:
        toml.write_text(toml.read_text().replace('decimal = ","', f'decimal = ","\ntime_format = "{time_format}"'))
    times = pd.concat(read_canonical_chunks(load_site_config(toml)))["time"]
    assert list(times.dt.strftime("%m-%d %H:%M")) == ["01-01 22:40", "01-01 22:50", "01-01 23:00", "01-01 23:10"]


@pytest.mark.parametrize(
    ("stamps", "time_format"),
    [
        (["45658,958333", "45658,965278", "45658,972222"], "excel"),  # Berlin's wall clock: 23:00, 23:10, 23:20
        (["1735768800", "1735769400", "1735770000"], "unix"),
        (["1735768800000", "1735769400000", "1735770000000"], "unix_ms"),
    ],
)
def test_times_written_as_numbers_read_by_their_format_and_are_refused_without_it(tmp_path: Path, stamps, time_format):
    """Excel's serial days (in the site's zone, Berlin in winter) and Unix seconds or milliseconds (UTC) read as the
    same UTC times, 22:00-22:20 on 1 January 2025. Without ``time_format`` the column is refused naming the setting
    and the format the numbers' size suggests (they were all "unreadable", with a hint at strftime codes)."""
    _site(tmp_path, "Zeit;WEA;P;V;T\n" + "".join(f"{stamp};A1;1,5;8,0;280,15\n" for stamp in stamps))
    toml = tmp_path / "site.toml"
    with pytest.raises(SiteConfigError, match=rf"holds numbers, not timestamps .* time_format = \"{time_format}\""):
        pd.concat(read_canonical_chunks(load_site_config(toml)))
    toml.write_text(toml.read_text().replace('decimal = ","', f'decimal = ","\ntime_format = "{time_format}"'))
    times = pd.concat(read_canonical_chunks(load_site_config(toml)))["time"]
    assert list(times.dt.strftime("%m-%d %H:%M:%S")) == ["01-01 22:00:00", "01-01 22:10:00", "01-01 22:20:00"]


def test_an_event_log_of_unix_times_reads_and_integer_stamps_read_by_strftime_codes(tmp_path: Path):
    """An alarm log of Unix seconds with [events] time_format = "unix" gives the event's UTC bounds; an export whose
    stamps are integers such as 202501012300 reads by "%Y%m%d%H%M" (as text: pandas is to read numbers given a
    format as epochs). Control: the same log without time_format is refused, naming [events] time_format."""
    (tmp_path / "alarms.csv").write_text("u,s,e,c\nA1,1735768800,1735770000,3\n")
    mapping = {"asset_id": "u", "start": "s", "end": "e", "code": "c"}
    log = EventLog((tmp_path / "alarms.csv",), "csv", ",", "unix", mapping)
    events, _ = read_event_log(log, ("A1",), "Europe/Berlin", (0,))
    assert (pd.Timestamp(events.start[0], tz="UTC"), pd.Timestamp(events.end[0], tz="UTC")) == (
        pd.Timestamp("2025-01-01T22:00Z"),
        pd.Timestamp("2025-01-01T22:20Z"),
    )
    with pytest.raises(SiteConfigError, match=r'\[events\] time_format = "unix"'):
        read_event_log(EventLog(log.files, "csv", ",", None, mapping), ("A1",), "Europe/Berlin", (0,))
    _site(tmp_path, "Zeit;WEA;P;V;T\n202501012300;A1;1,5;8,0;280,15\n202501012310;A1;1,5;8,0;280,15\n")
    toml = tmp_path / "site.toml"
    toml.write_text(toml.read_text().replace('decimal = ","', 'decimal = ","\ntime_format = "%Y%m%d%H%M"'))
    times = pd.concat(read_canonical_chunks(load_site_config(toml)))["time"]
    assert list(times.dt.strftime("%H:%M")) == ["22:00", "22:10"]


def test_a_24_00_stamp_without_an_offset_amid_stamps_that_state_one_reads_in_the_zone(tmp_path: Path):
    """Berlin in winter: 23:50+01:00, 24:00 (no offset: local, the midnight after) and 00:10+01:00 read 22:50,
    23:00 and 23:10 UTC; the 24:00 stamp was left unread. Control: written 24:00+01:00 it read already."""
    for middle in ("2025-01-01 24:00", "2025-01-01 24:00+01:00"):
        stamps = ["2025-01-01T23:50+01:00", middle, "2025-01-02T00:10+01:00"]
        _site(tmp_path, "Zeit;WEA;P;V;T\n" + "".join(f"{stamp};A1;1,5;8,0;280,15\n" for stamp in stamps))
        times = pd.concat(read_canonical_chunks(load_site_config(tmp_path / "site.toml")))["time"]
        assert list(times.dt.strftime("%H:%M")) == ["22:50", "23:00", "23:10"]
