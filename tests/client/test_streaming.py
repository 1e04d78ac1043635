"""Streaming in bounded memory: chunks re-cut so no run is split, and a spill that replays in order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from client.filters import TurbineArrays, frozen_sensor_flag
from client.streaming import RecordSpill, hold_back_open_run_arrays, hold_back_open_runs


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


@pytest.mark.parametrize("chunk_rows", [1, 2, 3, 5, 7, 100])
def test_streamed_chunks_flag_exactly_like_one_chunk(chunk_rows):
    frame = _interleaved_turbines()
    order = pd.Index(["A", "B", "C"])

    def flagged(chunks):
        out = []
        for chunk, asset in hold_back_open_runs(chunks, order):
            assert np.array_equal(asset, order.get_indexer(chunk["asset_id"]))
            turbines = TurbineArrays(asset, np.full(len(chunk), 2000.0), np.full(len(chunk), 12.0), (0,))
            out.append(chunk.assign(flag=frozen_sensor_flag(chunk, turbines, {"min_run": 3})))
        return pd.concat(out).sort_values(["asset_id", "time"]).reset_index(drop=True)

    whole = flagged([frame])
    streamed = flagged([frame.iloc[i : i + chunk_rows] for i in range(0, 60, chunk_rows)])
    pd.testing.assert_frame_equal(streamed, whole)
    assert len(streamed) == 60 and whole["flag"].sum() > 0


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
        for chunk, released in hold_back_open_run_arrays(chunks):
            rows = chunk.rows(0, len(chunk))
            turbines = TurbineArrays(rows["asset"], np.full(len(chunk), 2000.0), np.full(len(chunk), 12.0), (0,))
            flags = frozen_sensor_flag(rows, turbines, {"min_run": 3})
            mine = np.ones(len(chunk), dtype=bool) if released is None else released
            out.append(pd.DataFrame({**rows, "flag": flags})[mine])
        return pd.concat(out).sort_values(["asset", "time"]).reset_index(drop=True)

    whole = flagged([columns])
    streamed = flagged([{name: c[i : i + chunk_rows] for name, c in columns.items()} for i in range(0, 60, chunk_rows)])
    pd.testing.assert_frame_equal(streamed, whole)
    assert len(streamed) == 60 and whole["flag"].sum() > 0


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
