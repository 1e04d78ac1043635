"""Streaming in bounded memory: records judged beside their neighbours whatever the chunks; a spill in order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from client.filters import TurbineArrays, frozen_sensor_context, frozen_sensor_flag
from client.streaming import RecordSpill, array_chunks_with_context, chunks_with_context


def _interleaved_turbines() -> pd.DataFrame:
    """60 records of turbines A, B, C in turn, with natural runs and one frozen stretch of wind speed."""
    rng = np.random.default_rng(1)
    wind_speed = np.round(rng.uniform(3, 4, 60), 1)  # coarse values: many natural runs
    wind_speed[20:27] = 9.0  # a frozen stretch
    return pd.DataFrame(
        {
            "time": pd.date_range("2025-01-01", periods=60, freq="10min", tz="UTC"),
            "asset_id": ["A", "B", "C"] * 20,
            "WTUR_W": np.full(60, 100.0),
            "WMET_HorWdSpd": wind_speed,
        }
    )


FROZEN = {"min_run": 3}
CONTEXT = frozen_sensor_context(FROZEN)


def _flag_owned(frame: pd.DataFrame, asset: np.ndarray, owned: np.ndarray) -> pd.DataFrame:
    """The frozen-sensor flag of the rows ``frame`` owns, judged with the rest."""
    turbines = TurbineArrays(asset, np.full(len(frame), 2000.0), np.full(len(frame), 12.0), (0,))
    return frame.assign(flag=frozen_sensor_flag(frame, turbines, FROZEN))[owned]


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 5, 7, 100])
def test_streamed_chunks_flag_exactly_like_one_chunk(chunk_rows):
    frame = _interleaved_turbines()
    order = pd.Index(["A", "B", "C"])

    def flagged(chunks):
        out = []
        for chunk, asset, owned in chunks_with_context(chunks, order, CONTEXT):
            assert np.array_equal(asset, order.get_indexer(chunk["asset_id"]))
            out.append(_flag_owned(chunk, asset, owned))
        return pd.concat(out).sort_values(["asset_id", "time"]).reset_index(drop=True)

    whole = flagged([frame])
    streamed = flagged([frame.iloc[i : i + chunk_rows] for i in range(0, 60, chunk_rows)])
    pd.testing.assert_frame_equal(streamed, whole)
    assert len(streamed) == 60 and whole["flag"].sum() > 0


def test_control_chunks_judged_without_their_neighbours_miss_a_frozen_stretch_they_cut():
    """The control of the test above: with no records carried between chunks, 5-row chunks cut the frozen stretch."""
    frame = _interleaved_turbines()
    whole = flagged_alone = 0
    for chunk, asset, owned in chunks_with_context([frame], pd.Index(["A", "B", "C"]), CONTEXT):
        whole += int(_flag_owned(chunk, asset, owned)["flag"].sum())
    for i in range(0, 60, 5):
        for chunk, asset, owned in chunks_with_context([frame.iloc[i : i + 5]], pd.Index(["A", "B", "C"]), 0):
            flagged_alone += int(_flag_owned(chunk, asset, owned)["flag"].sum())
    assert flagged_alone < whole


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 5, 7, 100])
def test_streamed_arrays_release_every_record_once_and_flag_like_one_chunk(chunk_rows):
    frame = _interleaved_turbines()
    columns = {
        "asset": pd.Index(["A", "B", "C"]).get_indexer(frame["asset_id"]),
        "time": frame["time"].dt.tz_convert(None).to_numpy(),
        "WMET_HorWdSpd": frame["WMET_HorWdSpd"].to_numpy(),
    }

    def flagged(chunks):
        out = []
        for chunk, owned in array_chunks_with_context(chunks, CONTEXT):
            rows = pd.DataFrame(chunk.rows(0, len(chunk)))
            out.append(
                _flag_owned(rows, rows["asset"].to_numpy(), np.ones(len(chunk), bool) if owned is None else owned)
            )
        return pd.concat(out).sort_values(["asset", "time"]).reset_index(drop=True)

    whole = flagged([columns])
    streamed = flagged([{name: c[i : i + chunk_rows] for name, c in columns.items()} for i in range(0, 60, chunk_rows)])
    pd.testing.assert_frame_equal(streamed, whole)
    assert len(streamed) == 60 and whole["flag"].sum() > 0


def test_a_unit_frozen_for_ever_neither_grows_what_is_carried_nor_changes_how_another_is_cut():
    """A turbine frozen over the whole export (a dead logger) is carried as any other: 2 x context records.

    The frames' sizes, and which of turbine A's records each owns, are the same with and without the frozen
    turbine Z in the stream: one unit's readings do not decide how another's are judged. (Before, the stream held
    each unit's open run, up to a budget the units shared: Z's run made it let A's go.)
    """
    rng = np.random.default_rng(3)
    times = pd.date_range("2025-01-01", periods=400, freq="10min", tz="UTC")
    a = pd.DataFrame({"time": times, "asset_id": "A", "WMET_HorWdSpd": np.round(rng.uniform(3, 4, 400), 1)})
    z = pd.DataFrame({"time": times, "asset_id": "Z", "WMET_HorWdSpd": 7.0})
    both = pd.concat([a, z]).sort_values(["time", "asset_id"], kind="stable")
    order = pd.Index(["A", "Z"])

    def a_owned_per_frame(frame: pd.DataFrame, chunk_rows: int) -> list[list[pd.Timestamp]]:
        owned_times, carried = [], []
        chunks = [frame.iloc[i : i + chunk_rows] for i in range(0, len(frame), chunk_rows)]
        for (chunk, asset, owned), raw in zip(chunks_with_context(chunks, order, CONTEXT), chunks, strict=True):
            carried.append(len(chunk) - len(raw))
            owned_times.append(list(chunk["time"][owned & (asset == 0)]))
        assert max(carried) <= 2 * CONTEXT * frame["asset_id"].nunique()
        return owned_times

    # Chunks of 40 rows with Z, of 20 without it: each holds the same 20 of A's records.
    assert a_owned_per_frame(both, 40) == a_owned_per_frame(a, 20)


@pytest.mark.parametrize("memory_bytes", [0, 1 << 20])
def test_a_spill_replays_its_arrays_in_order_from_memory_or_file(memory_bytes: int):
    rng = np.random.default_rng(4)
    chunks = [
        (
            rng.integers(0, 9, n).astype(np.int32),
            np.datetime64("2025-01-01T00:00", "us") + np.arange(n).astype("timedelta64[m]"),
            rng.normal(size=n),
        )
        for n in (5, 0, 1000, 3)
    ]
    spill = RecordSpill(memory_bytes)
    for chunk in chunks:
        spill.write(chunk)
    replayed = list(spill.replay())
    assert len(replayed) == len(chunks)
    for got, expected in zip(replayed, chunks, strict=True):
        for a, b in zip(got, expected, strict=True):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)
