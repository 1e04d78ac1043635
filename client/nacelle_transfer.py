"""Nacelle transfer function: nacelle anemometer wind speed to free-stream wind speed (IEC 61400-12-2).

A nacelle anemometer sits behind the rotor, in air the rotor has slowed and stirred. IEC
61400-12-2:2013 measures, on one turbine with a met mast in front of it, a nacelle transfer
function (NTF) per 0.5 m/s bin of nacelle wind speed (9.3, annex D); on turbines of that type and
controller, free-stream wind speed is then read from the nacelle anemometer through it. Pure
functions over arrays; wind speeds in m/s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NacelleTransferFunction:
    """An NTF table: the free-stream wind speed for each tabulated nacelle wind speed [m/s].

    Both tuples are strictly increasing and of equal length (at least two points); between points
    the function is linear, outside them it is not defined (IEC 61400-12-2 gives it only over the
    range its measurement covered).
    """

    nacelle_wind_speed: tuple[float, ...]
    free_stream_wind_speed: tuple[float, ...]

    def problems(self) -> list[str]:
        """What makes the table unusable, in words an operator can act on (empty when usable)."""
        nacelle = np.asarray(self.nacelle_wind_speed, dtype=np.float64)
        free = np.asarray(self.free_stream_wind_speed, dtype=np.float64)
        if len(nacelle) != len(free) or len(nacelle) < 2:
            return [
                f"give nacelle_m_s and free_stream_m_s of equal length, at least 2 points "
                f"(got {len(nacelle)} and {len(free)})"
            ]
        if not (np.isfinite(nacelle).all() and np.isfinite(free).all()) or (nacelle < 0).any() or (free < 0).any():
            return ["wind speeds must be finite and not negative [m/s]"]
        if (np.diff(nacelle) <= 0).any() or (np.diff(free) <= 0).any():
            return ["nacelle_m_s and free_stream_m_s must both be strictly increasing"]
        return []


def free_stream_wind_speed(nacelle_wind_speed: np.ndarray, ntf: NacelleTransferFunction) -> np.ndarray:
    """Free-stream wind speed read from the nacelle anemometer through the NTF (IEC 61400-12-2:2013, 9.3).

    Parameters
    ----------
    nacelle_wind_speed : ndarray
        10-min mean nacelle wind speed [m/s]; NaN where missing.
    ntf : NacelleTransferFunction
        The turbine type's transfer function.

    Returns
    -------
    ndarray
        Free-stream wind speed [m/s], linear between the table's points; NaN outside the table's
        nacelle range (the NTF says nothing there) and where the input is NaN.
    """
    nacelle_wind_speed = np.asarray(nacelle_wind_speed, dtype=np.float64)
    table = np.asarray(ntf.nacelle_wind_speed)
    free = np.interp(nacelle_wind_speed, table, np.asarray(ntf.free_stream_wind_speed))
    return np.where((nacelle_wind_speed >= table[0]) & (nacelle_wind_speed <= table[-1]), free, np.nan)
