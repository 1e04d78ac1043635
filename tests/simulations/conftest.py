"""Fleets the generator's tests share, each read back the way a site reads its export."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from client.ingest import read_canonical_chunks
from client.site_config import load_site_config
from simulations.fleet import FleetConfig, generate_fleet
from simulations.fleet_faults import FaultConfig


def _read_fleet(config: FleetConfig, out_dir: Path) -> list[dict]:
    """Per operator: its site, its records as read back merged with truth.parquet, and its ground truth."""
    sites = generate_fleet(config, out_dir)
    truth = json.loads((out_dir / "ground_truth.json").read_text())
    operators = []
    for path, operator in zip(sites, truth["operators"], strict=True):
        site = load_site_config(path)
        records = pd.concat(read_canonical_chunks(site), ignore_index=True)
        records["asset_id"] = records["asset_id"].astype(str)
        merged = records.merge(
            pd.read_parquet(path.parent / "truth.parquet"), on=["time", "asset_id"], validate="one_to_one"
        )
        operators.append({"site": site, "records": merged, "truth": operator, "dir": path.parent})
    return operators


@pytest.fixture(scope="session")
def faulty_config() -> FleetConfig:
    # Fault probabilities raised so that 12 turbines hold several cases of each class.
    faults = FaultConfig(
        underperformance_probability=0.4, yaw_probability=0.4, anemometer_probability=0.3, bearing_fault_probability=0.5
    )
    return FleetConfig(operators=3, turbines_per_operator=4, months=3, seed=3, export_styles=(0, 1, 2), faults=faults)


@pytest.fixture(scope="session")
def faulty(faulty_config: FleetConfig, tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    return _read_fleet(faulty_config, tmp_path_factory.mktemp("faulty"))


@pytest.fixture(scope="session")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    config = FleetConfig(operators=3, turbines_per_operator=2, months=2, seed=3, export_styles=(0, 1, 2))
    return _read_fleet(config, tmp_path_factory.mktemp("healthy"))
