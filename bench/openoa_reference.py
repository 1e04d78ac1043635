"""NREL OpenOA's filters, density adjustment and IEC curve on canonical records (runs in .venv-openoa).

Called by bench/openoa_comparison.py with a Parquet file of canonical records; prints JSON with the
elapsed seconds and the resulting curve. OpenOA needs pandas < 3, hence its own environment.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pandas as pd
from openoa.utils import filters, met_data_processing, power_curve

RHO0 = 1.225


def openoa_curve(data: pd.DataFrame, rated_kw: float, normal_status: int) -> tuple[np.ndarray, np.ndarray]:
    """Filter each turbine as OpenOA's utilities do, adjust for density, fit the IEC binned curve."""
    kept = []
    for _, turbine in data.groupby("asset_id", sort=False):
        ws, power = turbine["WMET_HorWdSpd"], turbine["WTUR_W"]
        flag = ws.isna() | power.isna() | turbine["WMET_EnvTmp"].isna()
        flag |= filters.range_flag(ws, lower=0.0, upper=40.0)
        flag |= turbine["WTUR_TurSt"] != normal_status
        flag |= filters.unresponsive_flag(ws, threshold=3)
        flag |= filters.window_range_flag(ws, 5.0, 40.0, power, 0.02 * rated_kw, 1.2 * rated_kw)
        good = turbine[~flag]
        flag_bin = filters.bin_filter(
            good["WTUR_W"],
            good["WMET_HorWdSpd"],
            bin_width=0.06 * rated_kw,
            threshold=3,
            center_type="median",
            bin_min=0.01 * rated_kw,
            bin_max=0.9 * rated_kw,
            threshold_type="std",
            direction="all",
        )
        kept.append(good[~flag_bin])
    kept = pd.concat(kept)
    rho = met_data_processing.compute_air_density(kept["WMET_EnvTmp"] + 273.15, kept["WMET_EnvPres"])
    ws_n = kept["WMET_HorWdSpd"] * np.power(rho / RHO0, 1.0 / 3)  # IEC rho0 = 1.225, as FleetBench's spec
    curve = power_curve.IEC(ws_n, kept["WTUR_W"], interpolate=True)
    grid = np.arange(0.0, 30.0, 0.05)
    return grid, curve(grid)


def main() -> None:
    path, rated_kw, normal_status = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    data = pd.read_parquet(path)
    start = time.perf_counter()
    grid, curve = openoa_curve(data, rated_kw, normal_status)
    seconds = time.perf_counter() - start
    print(json.dumps({"rows": len(data), "seconds": seconds, "wind_speed": grid.tolist(), "power": curve.tolist()}))


if __name__ == "__main__":
    main()
