"""Site-local flags: what an operator reads of its own turbines against the industry's distributions.

Computed on site from the site's round-2 indicators (:func:`client.maintenance.site_indicators`)
and the final release it received; nothing here is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from client.indicators import criticality_alarms, position_in_distribution
from client.maintenance import SiteIndicators
from protos.fleetbench.v1 import release_pb2


@dataclass(frozen=True)
class FlagRules:
    """When a site flags a turbine (site-local settings; nothing here leaves the site)."""

    # [-]: PI this far below the industry's median PI. The median, not the cohort curve (PI = 1):
    # the curve is the industry's mean, which its own underperformers pull down.
    performance_index_shortfall: float = 0.025
    yaw_misalignment_from_deg: float = 4.5  # [deg], |static misalignment|
    residual_above_deg_c: float = 2.5  # [degC], daily mean model residual
    alarm_after_days: int = 3  # criticality counter: days above (net of days below) before an alarm
    availability_below_share: float = 0.10  # [-], flagged when fewer of the industry's turbines are below it


def turbine_flags(
    indicators: SiteIndicators, release: release_pb2.Release, rules: FlagRules = FlagRules()
) -> pd.DataFrame:
    """Flags with their evidence, and each indicator's position in the industry distribution.

    Parameters
    ----------
    indicators : SiteIndicators
        This site's round-2 results.
    release : Release
        The final release (with the industry distributions) the site received.
    rules : FlagRules
        Thresholds.

    Returns
    -------
    DataFrame
        One row per (asset_id, indicator) in the turbine's own cohort: the first cohort of the
        release it belongs to with a released curve (its model's, when enough operators run it;
        comparing a turbine with a band of other models would flag their differences): value,
        flagged, evidence, industry_percentile (share of the industry's turbines below this one,
        NaN where the distribution is suppressed), first_alarm (temperature drifts only), energy_mwh
        (performance_index: the energy short of the industry's median turbine in normal operation;
        time_availability: the energy lost in downtime, by IEC 61400-26 category [MWh]; else NaN) and
        energy_share, that energy as a share of the potential (what the median turbine would have
        made; what the turbine made plus what it lost) [-].
    """
    distributions = {(d.cohort, d.indicator): d for d in release.distributions if not d.suppressed}
    released = [c.cohort for c in release.curves if not c.suppressed and c.bins]
    candidates = indicators.turbines[indicators.turbines["cohort"].isin(released)]
    rank = candidates["cohort"].map({name: i for i, name in enumerate(released)})
    own = candidates.loc[rank.groupby(candidates["asset_id"]).idxmin().to_numpy()]
    own_cohort = dict(zip(own["asset_id"], own["cohort"], strict=True))
    rows = []

    def percentile(cohort: str, indicator: str, value: float) -> float:
        d = distributions.get((cohort, indicator))
        if d is None:
            return float("nan")
        return position_in_distribution(value, np.array(d.counts, dtype=float), d.bins.first_centre, d.bins.width)

    for row in own.itertuples(index=False):
        pi, yaw = row.performance_index, row.yaw_misalignment_deg
        median = distributions.get((row.cohort, "performance_index"))
        typical = median.p50 if median is not None else 1.0
        # What the median turbine would have made from the same wind, less what this one made [MWh].
        short_of_median_mwh = (typical - pi) * row.expected_mwh
        lost_share = row.lost_mwh / row.potential_mwh if row.potential_mwh > 0 else float("nan")
        lost = f"{row.lost_mwh:.0f} MWh lost ({lost_share:.1%} of its potential)" + (
            f", most as {row.main_loss_category} (IEC 61400-26)" if row.lost_mwh > 0 else ""
        )
        availabilities = [
            (
                name,
                value,
                share < rules.availability_below_share,
                f"{value:.1%}: {share:.0%} of the industry's turbines are below it; {lost}",
            )
            for name, value in (
                ("time_availability", row.time_availability),
                ("production_availability", row.production_availability),
            )
            for share in [percentile(row.cohort, name, value)]
        ]
        for indicator, value, flagged, evidence in (
            (
                "performance_index",
                pi,
                pi < typical * (1 - rules.performance_index_shortfall),
                f"{short_of_median_mwh:.0f} MWh ({100 * (pi / typical - 1):+.1f} %) against the industry's median "
                f"turbine in normal operation over the period (against the cohort curve, the fleet's mean, which "
                f"its underperformers pull below the median: {100 * (pi - 1):+.1f} %)",
            ),
            (
                "yaw_misalignment",
                yaw,
                abs(yaw) >= rules.yaw_misalignment_from_deg,
                f"performance peaks at a vane angle of {yaw:+.1f} deg",
            ),
            *availabilities,
        ):
            rows.append(
                {
                    "cohort": row.cohort,
                    "asset_id": row.asset_id,
                    "indicator": indicator,
                    "value": value,
                    "flagged": bool(flagged),
                    "evidence": evidence if flagged else "",
                    "industry_percentile": percentile(row.cohort, indicator, value),
                    "first_alarm": pd.NaT,
                    "energy_mwh": {"performance_index": short_of_median_mwh, "time_availability": row.lost_mwh}.get(
                        indicator, float("nan")
                    ),
                    "energy_share": {"performance_index": 1 - pi / typical, "time_availability": lost_share}.get(
                        indicator, float("nan")
                    ),
                }
            )
    for (cohort, target, asset_id), days in indicators.daily_residuals.groupby(["cohort", "target", "asset_id"]):
        if own_cohort.get(asset_id) != cohort:
            continue
        days = days.sort_values("day")
        alarms = criticality_alarms(days["residual"].to_numpy() > rules.residual_above_deg_c, rules.alarm_after_days)
        first = days["day"].to_numpy()[alarms][0] if alarms.any() else pd.NaT
        peak = float(days["residual"].max())
        rows.append(
            {
                "cohort": cohort,
                "asset_id": asset_id,
                "indicator": f"max_daily_residual:{target}",
                "value": peak,
                "flagged": bool(alarms.any()),
                "evidence": f"daily mean {target} up to {peak:+.1f} degC above its normal-behaviour model, "
                f"alarm from {pd.Timestamp(first).date()}"
                if alarms.any()
                else "",
                "industry_percentile": float("nan"),
                "first_alarm": pd.Timestamp(first),
                "energy_mwh": float("nan"),
                "energy_share": float("nan"),
            }
        )
    return pd.DataFrame(rows)
