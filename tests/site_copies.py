"""Fresh copies of simulated sites for the private-release tests: no history, and a budget for large epsilon."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path


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
