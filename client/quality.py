"""Quality masks over canonical frames: True where a record is fit for a power curve.

Masks have one entry per row; rows are never dropped, masks are combined.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from client.schema import STATUS


def normal_operation_mask(frame: pd.DataFrame, normal_status_codes: tuple[int, ...]) -> np.ndarray:
    """True where the turbine reports a normal-operation status code.

    Without a mapped status column every record counts as normal.
    """
    if STATUS not in frame:
        return np.ones(len(frame), dtype=bool)
    return frame[STATUS].isin(normal_status_codes).to_numpy()


def valid_power_curve_mask(frame: pd.DataFrame) -> np.ndarray:
    """True where time, wind speed and power are all present (ingest blanks impossible values)."""
    return (
        frame["time"].notna().to_numpy()
        & np.isfinite(frame["WMET_HorWdSpd"].to_numpy())
        & np.isfinite(frame["WTUR_W"].to_numpy())
    )
