"""Synthetic wind fleets with ground truth: what a prospective member's data could look like.

Each operator runs turbines of one real type, with the manufacturer power curve windpowerlib
ships (OpenEnergy turbine library). Winds are Weibull-distributed with autocorrelation and site
variation; air density follows temperature and site elevation; 10-min power scatters around the
density-corrected curve and responds to the turbine's yaw error; nacelle vane and bearing
temperatures follow simple normal-behaviour models; downtime and curtailment periods carry their
status codes. With a :class:`~simulations.fleet_faults.FaultConfig`, turbines also underperform,
run misaligned, carry anemometer offsets, develop gearbox-bearing faults (a temperature drift
ending in a failure) and fail at age-dependent rates, and are maintained. Every operator's data
is written as its own export (column names, units, delimiter, time zone) with a site.toml, and
the noiseless truth is kept beside it.

Start here: :class:`FleetConfig` says what to simulate, :func:`generate_fleet` writes it. The
generator's parts live beside this module:

- ``fleet_turbines``: turbine types and power curves (windpowerlib), the yaw loss, bearing models;
- ``fleet_faults``: which faults to inject (FaultConfig), the bathtub curve, each turbine's draw;
- ``fleet_operator``: one operator's site weather and turbine time series, with their truth;
- ``fleet_exports``: export styles, the export, site.toml and the operator's files.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from common.progress import Progress, Stage, silent
from protos.roster import Roster, member_table, public_bytes, write_private_key
from simulations.fleet_exports import export_style, with_export_quirks, write_operator_files
from simulations.fleet_faults import FaultConfig
from simulations.fleet_operator import simulate_operator

DEFAULT_MODELS = ("E-82/2300", "V90/2000", "N117/2400")


@dataclass(frozen=True)
class FleetConfig:
    """What to simulate.

    Operator i runs ``models[i % len(models)]`` and writes the export style
    ``EXPORT_STYLES[export_styles[i % len(export_styles)]]`` (:mod:`simulations.fleet_exports`) or,
    when that is empty, ``EXPORT_STYLES[(i // len(models)) % 3]``, so every model is seen through
    several export styles. ``faults = None`` gives a healthy fleet: no underperformance,
    misalignment, sensor offsets, bearing faults, component failures or maintenance (generic
    downtime, curtailment and frozen anemometers are always there).
    """

    operators: int = 10
    turbines_per_operator: int = 5
    months: int = 3
    seed: int = 0
    start: str = "2025-01-01T00:00:00Z"
    models: tuple[str, ...] = DEFAULT_MODELS
    power_scatter: float = 0.05  # relative standard deviation of 10-min power around the curve [-]
    downtime_fraction: float = 0.03
    curtailment_fraction: float = 0.02
    curtailment_limit: float = 0.5  # curtailed power limit, per unit of rated [-]
    frozen_fraction: float = 0.01  # share of records with a frozen anemometer [-]
    turbines_by_operator: tuple[int, ...] = ()  # overrides turbines_per_operator, operator by operator
    export_styles: tuple[int, ...] = ()
    yaw_error_std_deg: float = 7.0  # [deg], 10-min yaw tracking error of a healthy turbine
    max_age_years: float = 20.0  # [yr], sites are commissioned up to this long before the start
    faults: FaultConfig | None = None

    @property
    def period_end(self) -> str:
        """End of the simulated period (exclusive), ISO 8601 UTC."""
        end = pd.Timestamp(self.start) + pd.DateOffset(months=self.months)
        return end.isoformat().replace("+00:00", "Z")


def generate_fleet(config: FleetConfig, out_dir: Path, progress: Progress = silent) -> list[Path]:
    """Write every operator's export, site.toml and truth under ``out_dir``; return the site.tomls.

    ``progress`` hears each operator as it is written.

    One seeded Generator serves every operator in turn: :func:`~simulations.fleet_operator.simulate_operator`
    draws its records and truth, :func:`~simulations.fleet_exports.write_operator_files` writes them.

    Layout: ``out_dir/operator-NN/{scada.csv|scada.parquet, site.toml, truth.parquet, turbines.json}``
    and ``out_dir/ground_truth.json`` (the config, and per operator its parameters and the
    per-turbine truth that turbines.json repeats).
    """
    rng = np.random.default_rng(config.seed)
    out_dir.mkdir(parents=True, exist_ok=True)
    site_files, truths = [], []
    for operator in range(config.operators):
        site_dir = out_dir / f"operator-{operator + 1:02d}"
        stage = Stage(progress, f"generating {site_dir.name} ({operator + 1}/{config.operators})")
        records, truth = simulate_operator(config, operator, rng)
        truth_records = truth.pop("records")
        style = export_style(config, operator)
        if style.quirks is not None:
            records = with_export_quirks(records, style.quirks, rng)
        site_files.append(write_operator_files(site_dir, style, records, truth_records, truth))
        truths.append(truth)
        stage.done(f"{truth['model']}, {len(truth['turbines'])} turbines, {len(records):,} records")
    (out_dir / "ground_truth.json").write_text(json.dumps({"config": asdict(config), "operators": truths}, indent=1))
    enrol_members(site_files)
    return site_files


def enrol_members(
    site_configs: Sequence[Path], names: Sequence[str] | None = None, consortium: str = "synthetic consortium"
) -> Roster:
    """Make the sites consortium members: member keys, the shared roster, and a [member] table pinning it.

    Site i speaks for member ``names[i]`` (default: its folder's name); sites given one name share
    that member's key, as the sites of one operator would. Each site folder gets
    ``consortium/NAME.member.key`` and ``consortium/roster.json`` (its own installed copy), so a
    site folder stays self-contained; a membership the sites already had (folder and [member]
    table) is replaced. The keys
    come from the operating system's CSPRNG, not the fleet's seeded Generator: identity keys must
    never be reproducible.
    """
    names = list(names) if names is not None else [path.parent.name for path in site_configs]
    if len(names) != len(site_configs):
        raise ValueError(f"{len(names)} member names for {len(site_configs)} sites")
    keys = {name: Ed25519PrivateKey.generate() for name in dict.fromkeys(names)}
    roster = Roster.of(consortium, {name: public_bytes(key) for name, key in keys.items()})
    for path in site_configs:
        shutil.rmtree(path.parent / "consortium", ignore_errors=True)
    for path, name in zip(site_configs, names, strict=True):
        folder = path.parent / "consortium"
        folder.mkdir(exist_ok=True)
        write_private_key(folder / f"{name}.member.key", keys[name])
        (folder / "roster.json").write_text(roster.to_json() + "\n", encoding="utf-8")
        text = path.read_text(encoding="utf-8")
        if text.startswith("[member]"):
            text = text.split("\n\n", 1)[1]
        path.write_text(member_table(name, roster.sha256) + "\n" + text, encoding="utf-8")
    return roster


def forget_site_history(site_config: Path) -> None:
    """Remove what a synthetic site keeps of its past rounds: audit log, privacy ledger, received releases.

    A site's release calendar rightly refuses to contribute to a period twice; tests and benches
    that replay one period on the same synthetic fleet start each replay from a clean slate.
    """
    folder = site_config.parent
    (folder / "audit.log").unlink(missing_ok=True)
    (folder / "privacy-ledger.jsonl").unlink(missing_ok=True)
    shutil.rmtree(folder / "releases", ignore_errors=True)
