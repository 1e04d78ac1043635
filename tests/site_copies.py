"""Copies of simulated sites for the private-release tests: fresh with a budget for large epsilon; one inverter less."""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from pathlib import Path

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
