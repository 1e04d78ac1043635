"""Check a site's mapping and data before anything is computed or sent, turbine by turbine.

Every finding names the file, the column or setting, and the fix. Nothing here leaves the site.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from client.filters import TurbineArrays, frozen_sensor_flag, hold_back_open_runs
from client.ingest import CHUNK_ROWS, canonicalise, channel_values, raw_chunks
from client.schema import CHANNELS
from client.site_config import SiteConfig, SiteConfigError, load_site_config

RECORD_SECONDS = 600
# Share of a turbine's power values that, impossible for its rated power, point at a unit mistake.
UNIT_SUSPICION_SHARE = 0.05


@dataclass(frozen=True)
class Finding:
    """One problem: where it is, what it is, how to fix it."""

    severity: str  # "error" (the site cannot take part) or "warning"
    file: str
    column: str  # the export's column, or the site.toml setting
    turbine: str
    problem: str
    fix: str


@dataclass(frozen=True)
class ValidationReport:
    """All findings and a per-turbine profile of the export."""

    site: str
    findings: tuple[Finding, ...]
    turbines: pd.DataFrame

    @property
    def usable(self) -> bool:
        """True when no finding is an error."""
        return not any(f.severity == "error" for f in self.findings)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        profile = self.turbines.reset_index().astype(object).where(self.turbines.reset_index().notna(), None)
        return {
            "site": self.site,
            "usable": self.usable,
            "findings": [asdict(f) for f in self.findings],
            "turbines": profile.to_dict(orient="records"),
        }


_COUNTS = ("rows", "bad_time", "duplicates", "gaps", "frozen", "power_over_rated", "windy", "power_tiny_in_wind")


def _profile_chunk(
    frame: pd.DataFrame, power_out_of_range: np.ndarray, site: SiteConfig, counts: pd.DataFrame, times: dict[str, list]
) -> None:
    rated = frame["asset_id"].map({t.asset_id: t.rated_power_kw for t in site.turbines}).astype(float).to_numpy()
    per_unit = frame["WTUR_W"].to_numpy() / rated
    windy = frame["WMET_HorWdSpd"].to_numpy() > 10.0
    for asset, rows in frame.groupby("asset_id", observed=True).indices.items():
        counts.loc[asset, "rows"] += len(rows)
        t = frame["time"].iloc[rows]
        counts.loc[asset, "bad_time"] += int(t.isna().sum())
        times.setdefault(asset, []).append(t.dropna().dt.as_unit("ms").array.asi8)  # [ms]
        with np.errstate(invalid="ignore"):
            counts.loc[asset, "power_over_rated"] += int(np.sum((per_unit[rows] > 1.5) | power_out_of_range[rows]))
            counts.loc[asset, "windy"] += int(np.sum(windy[rows]))
            counts.loc[asset, "power_tiny_in_wind"] += int(np.sum(windy[rows] & (np.abs(per_unit[rows]) < 0.005)))


def validate_site(path: Path, chunk_rows: int = CHUNK_ROWS) -> ValidationReport:
    """Validate the site.toml at ``path`` and its export; never raises for bad input."""
    try:
        site = load_site_config(path)
    except SiteConfigError as error:
        finding = Finding("error", str(path), "site.toml", "", str(error), "fix each listed setting in site.toml")
        return ValidationReport(str(path), (finding,), pd.DataFrame())

    ids = pd.Index([t.asset_id for t in site.turbines], name="asset_id")
    counts = pd.DataFrame(0, index=ids, columns=list(_COUNTS))
    blanked = {name: 0 for name in CHANNELS if name in site.columns}
    findings: list[Finding] = []
    times: dict[str, list] = {}
    rows_without_turbine = 0
    for file in site.files:
        try:
            for raw in raw_chunks(site, file, chunk_rows):
                frame = canonicalise(raw, site, file)
                rows_without_turbine += len(raw) - len(frame)
                raw = raw[raw[site.mapped_columns["asset_id"]].notna()]
                converted = {name: channel_values(raw[site.mapped_columns[name]], name, site) for name in blanked}
                for name, values in converted.items():
                    blanked[name] += int((values.not_numeric | values.out_of_range).sum())
                _profile_chunk(frame, converted["WTUR_W"].out_of_range, site, counts, times)
                for chunk, asset in hold_back_open_runs([frame], ids):
                    arrays = TurbineArrays(asset, np.ones(len(chunk)), site.normal_status_codes)
                    flags = frozen_sensor_flag(chunk, arrays, {"min_run": 3})
                    counts["frozen"] += np.bincount(asset[flags], minlength=len(ids))
        except SiteConfigError as error:
            findings.append(Finding("error", str(file), "", "", str(error), "fix the mapping in site.toml"))
        except (ValueError, OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
            findings.append(
                Finding(
                    "error",
                    str(file),
                    "",
                    "",
                    f"cannot read the file: {error}",
                    f"check [source] format = {site.file_format!r}, delimiter and decimal, or repair the file",
                )
            )

    first, last = {}, {}
    for asset, parts in times.items():
        stamps = np.concatenate(parts)
        unique = np.unique(stamps)
        counts.loc[asset, "duplicates"] = len(stamps) - len(unique)
        if len(unique):
            first[asset], last[asset] = unique[0], unique[-1]
            expected = (unique[-1] - unique[0]) // (RECORD_SECONDS * 1000) + 1
            counts.loc[asset, "gaps"] = max(int(expected) - len(unique), 0)
    counts["first"] = pd.to_datetime(pd.Series(first, dtype="float64"), unit="ms", utc=True).reindex(ids)
    counts["last"] = pd.to_datetime(pd.Series(last, dtype="float64"), unit="ms", utc=True).reindex(ids)
    findings += _findings(site, counts, blanked)
    if rows_without_turbine:
        findings.append(
            Finding(
                "warning",
                ", ".join(map(str, site.files)),
                site.mapped_columns["asset_id"],
                "",
                f"{rows_without_turbine} rows have no turbine id and are left out",
                "nothing to fix if they are empty lines; otherwise fill the turbine column",
            )
        )
    return ValidationReport(str(site.path), tuple(findings), counts)


def _findings(site: SiteConfig, counts: pd.DataFrame, blanked: dict[str, int]) -> list[Finding]:
    files = ", ".join(str(f) for f in site.files)
    power_column = site.mapped_columns["WTUR_W"]
    out = []
    for asset, row in counts.iterrows():
        rows = int(row["rows"])
        if rows == 0:
            out.append(
                Finding(
                    "warning",
                    files,
                    site.mapped_columns["asset_id"],
                    asset,
                    "no records for this turbine",
                    "check the turbine's asset_id in [[turbines]] against the export",
                )
            )
            continue
        suspicious = (row["power_over_rated"]) / rows
        if suspicious > UNIT_SUSPICION_SHARE:
            out.append(
                Finding(
                    "error",
                    files,
                    power_column,
                    asset,
                    f"power is above 150 % of rated in {suspicious:.0%} of records: the unit looks wrong",
                    f"set [units] WTUR_W to the export's unit (W, kW or MW); now {site.units.get('WTUR_W', 'kW')}",
                )
            )
        if row["windy"] and row["power_tiny_in_wind"] > row["windy"] / 2:
            out.append(
                Finding(
                    "error",
                    files,
                    power_column,
                    asset,
                    "power stays below 0.5 % of rated at wind speeds above 10 m/s: the unit looks too large",
                    f"set [units] WTUR_W to the export's unit (W, kW or MW); now {site.units.get('WTUR_W', 'kW')}",
                )
            )
        if row["duplicates"]:
            out.append(
                Finding(
                    "warning",
                    files,
                    site.mapped_columns["time"],
                    asset,
                    f"{int(row['duplicates'])} duplicated timestamps (e.g. at a DST change)",
                    "export with UTC offsets, or set [site] timezone to the export's zone",
                )
            )
        if row["duplicates"] > rows / 2:
            out.append(
                Finding(
                    "error",
                    files,
                    site.mapped_columns["time"],
                    asset,
                    "more than one record per 10 minutes: the export is not 10-min data",
                    "export 10-min means",
                )
            )
        if row["bad_time"]:
            out.append(
                Finding(
                    "warning",
                    files,
                    site.mapped_columns["time"],
                    asset,
                    f"{int(row['bad_time'])} timestamps unreadable or missing in local time (DST)",
                    "export ISO 8601 timestamps with UTC offsets",
                )
            )
        if row["gaps"]:
            out.append(
                Finding(
                    "warning",
                    files,
                    site.mapped_columns["time"],
                    asset,
                    f"{int(row['gaps'])} missing 10-min records between first and last",
                    "nothing to fix if the turbine was offline; otherwise re-export the gap",
                )
            )
        if row["frozen"]:
            out.append(
                Finding(
                    "warning",
                    files,
                    site.mapped_columns["WMET_HorWdSpd"],
                    asset,
                    f"{int(row['frozen'])} records in runs of >= 3 identical wind speeds (frozen sensor)",
                    "they are left out of every benchmark; check the anemometer",
                )
            )
    for name, n in blanked.items():
        if n:
            out.append(
                Finding(
                    "warning",
                    files,
                    site.mapped_columns[name],
                    "",
                    f"{n} values not numeric or outside the physical range of {name}, treated as missing",
                    f"declare 'missing' codes in [sentinels] {name}, or check [units] {name}",
                )
            )
    return out
