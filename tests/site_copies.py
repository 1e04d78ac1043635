"""Copies of simulated sites for tests: fresh with a budget for large epsilon; one inverter less; status as a log."""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from client.solar.site_config import load_solar_site_config


def copies_with_budget(site_configs: Sequence[Path], folder: Path, epsilon_per_year: float = 1e5) -> list[Path]:
    """Each site's folder copied under ``folder`` without its ledger and logs; its policy allows ``epsilon_per_year``.

    A fresh copy for each test: a site keeps one release per period, and each test runs its own.
    """
    sites = []
    for path in site_configs:
        shutil.copytree(path.parent, folder / path.parent.name, ignore=shutil.ignore_patterns("*.jsonl", "*.log"))
        site = folder / path.parent.name / path.name
        site.write_text(site.read_text() + f"\n[policy]\nprivacy_epsilon_per_year = {epsilon_per_year!r}\n")
        sites.append(site)
    return sites


def without_last_inverter(path: Path, folder: Path) -> Path:
    """A copy of the solar plant at ``path`` under ``folder`` that reads all its inverters but the last from the
    same export: the plant with one privacy unit fewer."""
    copy = folder / path.parent.name
    shutil.copytree(path.parent, copy)
    last = load_solar_site_config(path).inverters[-1].inverter_id
    text = (copy / path.name).read_text()
    fewer = re.sub(rf'\[\[inverters\]\]\nid = "{last}"\n(?:\w.*\n)*\n?', "", text)
    assert fewer != text
    (copy / path.name).write_text(fewer.replace("[source]\n", "[source]\nonly_listed_inverters = true\n"))
    return copy / path.name


def with_status_as_event_log(
    path: Path, folder: Path, records: pd.DataFrame, status: str, normal: int, period: pd.Timedelta, timezone: str
) -> tuple[Path, pd.DataFrame]:
    """A copy of the site at ``path`` under ``folder`` whose status is an alarm log instead of its column ``status``.

    ``records``: the site's canonical records (UTC ``time``, ``asset_id``, ``status``) of ``period`` each. Each run
    of one code other than ``normal`` is an event from its first record's start to its last record's end, written
    in ``timezone``'s wall-clock time, newest first as many logs list them; the last unit's last run is left open
    (no end) where it reaches the records' end; an informational event of the ``normal`` code and an event of a
    unit the site does not list are added. Returns the copy's site.toml and the log.
    """
    copy = folder / path.parent.name
    shutil.copytree(path.parent, copy, ignore=shutil.ignore_patterns("*.jsonl", "*.log", "releases"))
    frame = records[["time", "asset_id", status]].sort_values(["asset_id", "time"], kind="stable")
    unit = frame["asset_id"].astype(str)
    new_run = (frame[status] != frame[status].shift()) | (unit != unit.shift())
    new_run |= frame["time"].diff() != period  # a gap ends a run
    runs = frame.groupby(new_run.cumsum().to_numpy()).agg(
        unit=("asset_id", "first"), code=(status, "first"), start=("time", "min"), last=("time", "max")
    )
    runs = runs[runs["code"].notna() & (runs["code"] != normal)]
    wall = "%d/%m/%Y %H:%M:%S"
    log = pd.DataFrame(
        {
            "Device": runs["unit"].astype(str),
            "Occurred": runs["start"].dt.tz_convert(timezone).dt.strftime(wall),
            "Cleared": (runs["last"] + period).dt.tz_convert(timezone).dt.strftime(wall),
            "Code": runs["code"].astype(int),
        }
    )
    if len(runs) and runs["last"].iloc[-1] == frame["time"].max():
        log.iloc[-1, log.columns.get_loc("Cleared")] = ""
    first = frame["time"].min().tz_convert(timezone)
    extras = [
        {"Device": unit.iloc[0], "Occurred": first.strftime(wall), "Cleared": "", "Code": normal},
        {"Device": "NOT-OURS", "Occurred": first.strftime(wall), "Cleared": "", "Code": int(runs["code"].iloc[0])},
    ]
    log = pd.concat([log, pd.DataFrame(extras)], ignore_index=True).iloc[::-1]
    log.to_csv(copy / "alarms.csv", index=False, sep=";")
    site = copy / path.name
    text = re.sub(rf'\n{status} = "[^"]*"\n', "\n", site.read_text())
    text = re.sub(r'(\[site\]\n(?:.*\n)*?)timezone = "[^"]*"\n', r"\1", text, count=1)
    text = text.replace("[site]\n", f'[site]\ntimezone = "{timezone}"\n', 1)
    site.write_text(
        text + '\n[events]\nfiles = ["alarms.csv"]\ndelimiter = ";"\ntime_format = "%d/%m/%Y %H:%M:%S"\n'
        'asset_id = "Device"\nstart = "Occurred"\nend = "Cleared"\ncode = "Code"\n'
    )
    return site, log
