"""Check a solar site's mapping and data before anything is computed or sent, inverter by inverter.

The same report as a wind site's (client/validate.py): every finding names the file, the column
or setting, and the fix; nothing here leaves the site.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from client.ingest import CHUNK_ROWS, channel_values, raw_chunks
from client.site_config import SiteConfigError
from client.solar.ingest import canonicalise
from client.solar.schema import ASSET_ID, CHANNELS, STATUS, TIME
from client.solar.site_config import SolarSiteConfig, load_solar_site_config
from client.validate import (
    READ_ERRORS,
    UNIT_SUSPICION_SHARE,
    Finding,
    TimeOrder,
    ValidationReport,
    read_error_finding,
    states_utc_offsets,
)
from common.progress import Progress, silent

_COUNTS = ("rows", "bad_time", "duplicates", "gaps", "power_over_ac", "unlisted_status")
NO_RECORDS = "no records for this inverter"


def validate_solar_site(path: Path, chunk_rows: int = CHUNK_ROWS, progress: Progress = silent) -> ValidationReport:
    """Validate the solar site.toml at ``path`` and its export; never raises for bad input.

    One pass over the export in chunks, memory independent of its size. The profile (the report's
    ``turbines`` frame) has one row per inverter: rows, unreadable times, repeated times, gaps at
    the export's resolution, power above 120 % of the AC capacity, records whose status code
    site.toml does not list, and the first and last record.
    """
    try:
        site = load_solar_site_config(path)
    except SiteConfigError as error:
        finding = Finding("error", str(path), "site.toml", "", str(error), "fix each listed setting in site.toml")
        return ValidationReport(str(path), (finding,), pd.DataFrame())
    ids = pd.Index([inverter.inverter_id for inverter in site.inverters], name="asset_id")
    ac_kw = np.array([inverter.ac_capacity_kw for inverter in site.inverters])
    listed = np.array([*site.available_codes, *(c for codes in site.loss_codes.values() for c in codes)], dtype=float)
    counts = {name: np.zeros(len(ids), dtype=np.int64) for name in _COUNTS}
    blanked = {name: 0 for name in CHANNELS if name in site.columns}
    unlisted_codes: set[int] = set()
    times = TimeOrder.empty(len(ids))
    findings: list[Finding] = []
    with_offsets = True
    for file in site.files:
        try:
            for i, raw in enumerate(raw_chunks(site, file, chunk_rows, progress)):
                if i == 0:
                    with_offsets &= states_utc_offsets(raw[site.columns[TIME]])
                frame = canonicalise(raw, site, file)
                for name in blanked:
                    values = channel_values(raw[site.columns[name]], name, site, CHANNELS)
                    blanked[name] += int((values.not_numeric | values.out_of_range).sum())
                asset = frame[ASSET_ID].cat.codes.to_numpy().astype(np.int64)
                stamp = frame[TIME].dt.as_unit("ms").array.asi8
                bad_time = frame[TIME].isna().to_numpy()
                with np.errstate(invalid="ignore"):
                    over = frame["P_out"].to_numpy() > 1.2 * ac_kw[asset]
                unlisted = np.zeros(len(frame), dtype=bool)
                if STATUS in frame:
                    status = frame[STATUS].to_numpy()
                    unlisted = np.isfinite(status) & ~np.isin(status, listed)
                    unlisted_codes.update(int(code) for code in np.unique(status[unlisted])[:20])
                for name, rows in (
                    ("rows", slice(None)),
                    ("bad_time", bad_time),
                    ("power_over_ac", over),
                    ("unlisted_status", unlisted),
                ):
                    counts[name] += np.bincount(asset[rows], minlength=len(ids))
                times.add(asset[~bad_time], stamp[~bad_time])
        except READ_ERRORS as error:
            findings.append(
                read_error_finding(file, error, site.file_format, "fix [[inverters]] or [columns] in site.toml")
            )
    distinct = times.stamped - times.duplicates
    counts["duplicates"] = times.duplicates
    seen = times.stamped > 0
    step = int(site.resolution / pd.Timedelta(milliseconds=1))
    counts["gaps"] = np.maximum(np.where(seen, (times.last - times.first) // step + 1, 0) - distinct, 0)
    profile = pd.DataFrame(counts, index=ids)
    profile["first"] = pd.to_datetime(np.where(seen, times.first, np.iinfo(np.int64).min), unit="ms", utc=True)
    profile["last"] = pd.to_datetime(np.where(seen, times.last, np.iinfo(np.int64).min), unit="ms", utc=True)
    unread = any(f.severity == "error" for f in findings)
    if not unread:
        findings += _findings(site, profile, blanked, with_offsets, sorted(unlisted_codes))
    return ValidationReport(str(site.path), tuple(findings), profile)


def _findings(
    site: SolarSiteConfig, profile: pd.DataFrame, blanked: dict[str, int], with_offsets: bool, unlisted: list[int]
) -> list[Finding]:
    files = ", ".join(str(f) for f in site.files)
    out = []
    for inverter, row in profile.iterrows():
        rows = int(row["rows"])
        if rows == 0:
            fix = "check the inverter's id in [[inverters]] against the export"
            out.append(Finding("warning", files, site.columns[ASSET_ID], str(inverter), NO_RECORDS, fix))
            continue
        share = row["power_over_ac"] / rows
        if share > UNIT_SUSPICION_SHARE:
            out.append(
                Finding(
                    "error",
                    files,
                    site.columns["P_out"],
                    str(inverter),
                    f"AC power is above 120 % of the inverter's ac_capacity_kw in {share:.0%} of records: the unit "
                    "or the capacity looks wrong",
                    "set [units] P_out (W, kW or MW) or the inverter's ac_capacity_kw in [[inverters]]",
                )
            )
        if row["bad_time"]:
            out.append(
                Finding(
                    "warning",
                    files,
                    site.columns[TIME],
                    str(inverter),
                    f"{int(row['bad_time'])} records have no readable time and are left out",
                    "export ISO 8601 timestamps",
                )
            )
        if row["duplicates"]:
            out.append(
                Finding(
                    "warning",
                    files,
                    site.columns[TIME],
                    str(inverter),
                    f"{int(row['duplicates'])} records repeat a time of the same inverter",
                    "export each inverter's record once per time",
                )
            )
    for name, n in blanked.items():
        if n:
            channel = CHANNELS[name]
            out.append(
                Finding(
                    "warning",
                    files,
                    site.columns[name],
                    "",
                    f"{n} values are not numbers or outside {channel.valid_min:g}..{channel.valid_max:g} "
                    f"{channel.unit}; they are left out",
                    f"check [units] {name} and [sentinels] {name}",
                )
            )
    if unlisted:
        out.append(
            Finding(
                "warning",
                files,
                site.columns[STATUS],
                "",
                f"status codes {unlisted} are neither available nor a loss category in [status]: their records count "
                "as unavailable without a category",
                "list each code under [status] available or its loss category",
            )
        )
    if not with_offsets and site.timezone == "UTC":
        out.append(
            Finding(
                "warning",
                files,
                site.columns[TIME],
                "",
                "timestamps state no UTC offset and [site] timezone is UTC",
                "set [site] timezone to the zone the export's clock runs in, if it is not UTC",
            )
        )
    return out
