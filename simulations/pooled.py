"""The pooled reference: the same release computed from every operator's raw rows in one process.

This is what a trusted third party holding everyone's data would publish, both rounds. It shares
ingest, the filters, the density normalisation (the sites' own, applied to their own rows), cohort
membership and atoms with the federated path, and computes every statistic directly from the
pooled rows with pandas, not from per-site sums.

Each round follows the protocol (protos/census.py): first its census, per atom (a set of cohorts
one turbine can be in at once) and cell, the operators with anything there, the total and the sum
of each operator's total squared; then the decision :func:`protos.census.decide` takes from it;
then the values, with every element of a cell the decision withholds set to zero, as the sites
send them. Those values go through the aggregator's own finalisation with that decision
(server.finalize.build_release, server.baselines.model_fits and indicator_baselines), so the
pooled and the federated release differ only where the sums do.

Round 2 measures each turbine once, against its own cohort: the first of the spec's cohorts it
belongs to whose released curve has at least two bins with a mean (for a model's residuals, the
first with a released model for that target). A cohort's distributions gather its member
turbines that an indicator measured.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from client.filters import FILTERS, TurbineArrays
from client.indicators import UNKNOWN_STATUS_BRIDGE_SECONDS
from client.ingest import read_canonical_chunks
from client.site_config import load_site_config
from client.solar.ingest import read_solar_chunks
from client.solar.site_config import load_solar_site_config
from client.summaries import cohort_membership, prepared_records, record_air_density
from protos.census import COMMITMENT_RANDOMNESS, Decision, census_spec, decide, withhold_failing_cells
from protos.codec import block_layouts, spec_sha256
from protos.disclosure import atom_index, cohort_atoms, plant_in_cohort
from protos.domain import (
    AVAILABILITY_CATEGORIES,
    JULIAN_YEAR,
    JULIAN_YEAR_HOURS,
    KWH_PER_MWH,
    MONTH_FORMAT,
    RECORD_HOURS,
    RECORD_PERIOD,
    period_months,
)
from protos.fleetbench.v1 import release_pb2, spec_pb2
from protos.statistics import (
    INDICATOR_CELLS,
    MONTHLY_INDICATORS,
    STATISTICS,
    BlockKey,
    NbmRecordCount,
    indicator_cells,
    monthly_grids,
)
from server.baselines import indicator_baselines, model_fits
from server.finalize import CohortStatistics, build_release
from server.spec import indicator_spec

S = spec_pb2.Statistic
METHOD = "pooled"
"""The provenance method of the pooled reference (a federated release says "secagg+")."""


@dataclass(frozen=True)
class PooledRound:
    """One round of the pooled reference: its census, the decision taken from it, and its values.

    Attributes
    ----------
    census : dict
        Census block key -> totals per atom, as :func:`protos.census.census_totals` reads a census.
    decision : Decision
        :func:`protos.census.decide` of the census.
    values : dict
        Block key -> value, zero in every cell the decision withholds: the model blocks of round 1,
        every block of round 2.
    curves : dict
        Round 1: cohort name -> its curve statistics, the withheld bins empty (no records, no means).
    """

    census: dict[BlockKey, np.ndarray]
    decision: Decision
    values: dict[BlockKey, np.ndarray]
    curves: dict[str, CohortStatistics] = field(default_factory=dict)


def _atoms(membership: np.ndarray, spec: spec_pb2.BenchmarkSpec) -> np.ndarray:
    """Each turbine's atom of ``spec`` (index into protos.disclosure.cohort_atoms), -1 for none."""
    return atom_index(membership, cohort_atoms(spec.cohorts))


def pooled_rows(site_configs: Sequence[Path], spec: spec_pb2.BenchmarkSpec) -> pd.DataFrame:
    """All operators' usable records: operator, turbine, atom, normalised values, one membership column per cohort."""
    frames = []
    for operator, path in enumerate(site_configs):
        site = load_site_config(path)
        membership = cohort_membership(site, spec)
        atoms = _atoms(membership, spec)
        asset_ids = np.array([t.asset_id for t in site.turbines])
        for records in prepared_records(lambda site=site: read_canonical_chunks(site), site, spec):
            frame = pd.DataFrame(
                {
                    "operator": operator,
                    "turbine": np.char.add(f"{operator}/", asset_ids[records.asset]),
                    "atom": atoms[records.asset],
                    "wind_speed": records.density_normalised_wind_speed,
                    "power": records.density_normalised_power,
                    "power_per_unit": records.power_per_unit,
                    "power_per_area": records.power_per_area,
                }
            )
            for c, cohort in enumerate(spec.cohorts):
                frame[cohort.name] = membership[records.asset, c]
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _with_bins(rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec) -> pd.DataFrame:
    ws, pg = spec.wind_speed_bins, spec.normalised_power_bins
    rows = rows.assign(
        ws_bin=np.floor((rows["wind_speed"] - ws.first_centre) / ws.width + 0.5),
        p_bin=np.floor((rows["power_per_unit"] - pg.first_centre) / pg.width + 0.5).clip(0, pg.count - 1),
    )
    return rows[(rows["ws_bin"] >= 0) & (rows["ws_bin"] < ws.count)].astype({"ws_bin": int, "p_bin": int})


def pooled_capped_histograms(rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec) -> dict[str, np.ndarray]:
    """Per cohort, the capped power histogram of a private spec: each turbine's cells weighted as :func:`_capped_cells`.

    The pooled form of the sites' per-turbine cap (its row: the turbine's wind-speed bin).
    """
    rows = _with_bins(rows, spec)
    n_ws, n_p = spec.wind_speed_bins.count, spec.normalised_power_bins.count
    cell = rows["ws_bin"].to_numpy() * n_p + rows["p_bin"].to_numpy()
    exponent = STATISTICS[S.CAPPED_POWER_HISTOGRAM].scale_exponent
    cells, weight, first = _capped_cells(rows["turbine"].to_numpy(), rows["ws_bin"].to_numpy(), cell, spec, exponent)
    return {
        cohort.name: np.bincount(
            cells[rows[cohort.name].to_numpy()[first]],
            weights=weight[rows[cohort.name].to_numpy()[first]],
            minlength=n_ws * n_p,
        ).reshape(n_ws, n_p)
        for cohort in spec.cohorts
    }


def _capped_cells(
    unit: np.ndarray, row: np.ndarray, cell: np.ndarray, spec: spec_pb2.BenchmarkSpec, scale_exponent: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each (unit, cell) of the records: its cell, capped weight and first record.

    k records of a unit in a cell, n of them in its row: weight floor(k c 2^e / n) 2^-e where n > c, else
    k (c the spec's max_records_per_turbine_per_bin, e the block's fixed point): the pooled form of the
    sites' per-unit cap on their blocks' grid.
    """
    frame = pd.DataFrame({"unit": unit, "row": row, "cell": cell, "record": np.arange(len(unit))})
    frame["n"] = frame.groupby(["unit", "row"])["record"].transform("size")
    groups = frame.groupby(["unit", "cell"]).agg(k=("record", "size"), n=("n", "first"), first=("record", "first"))
    k, n = groups["k"].to_numpy(np.int64), groups["n"].to_numpy(np.int64)
    cap, grid = spec.privacy.max_records_per_turbine_per_bin, 1 << scale_exponent
    weight = np.where(n > cap, k * cap * grid // n, k * grid) / grid
    return groups.index.get_level_values("cell").to_numpy(np.int64), weight, groups["first"].to_numpy()


def pooled_statistics(
    rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, decision: Decision | None = None
) -> dict[str, CohortStatistics]:
    """Per-cohort, per-bin statistics straight from the rows (pandas group-by).

    With ``decision``, as the values round carries them: a bin the decision withholds has no
    records, operators or histogram and no means; a cohort it withholds also no operator count.
    """
    ws, pg = spec.wind_speed_bins, spec.normalised_power_bins
    rows = _with_bins(rows, spec)
    result = {}
    for c, cohort in enumerate(spec.cohorts):
        group = rows[rows[cohort.name]]
        per_bin = (
            group.groupby("ws_bin")
            .agg(
                n=("power", "size"),
                operators=("operator", "nunique"),
                ws=("wind_speed", "mean"),
                p=("power", "mean"),
                sd=("power", "std"),
                pu=("power_per_unit", "mean"),
                sd_pu=("power_per_unit", "std"),
                area=("power_per_area", "mean"),
            )
            .reindex(range(ws.count))
        )
        histogram = np.zeros((ws.count, pg.count), dtype=np.int64)
        cells = group.groupby(["ws_bin", "p_bin"]).size()
        histogram[cells.index.get_level_values(0), cells.index.get_level_values(1)] = cells.to_numpy()
        stats = CohortStatistics(
            operator_count=int(group["operator"].nunique()),
            bin_operator_count=per_bin["operators"].fillna(0).to_numpy(dtype=np.int64),
            record_count=per_bin["n"].fillna(0).to_numpy(dtype=np.int64),
            mean_wind_speed=per_bin["ws"].to_numpy(dtype=np.float64),
            mean_power=per_bin["p"].to_numpy(dtype=np.float64),
            std_power=per_bin["sd"].to_numpy(dtype=np.float64),
            mean_power_per_unit=per_bin["pu"].to_numpy(dtype=np.float64),
            std_power_per_unit=per_bin["sd_pu"].to_numpy(dtype=np.float64),
            mean_power_per_area=per_bin["area"].to_numpy(dtype=np.float64),
            histogram=histogram,
        )
        result[cohort.name] = stats if decision is None else _withheld_bins(stats, decision, c)
    return result


def _withheld_bins(stats: CohortStatistics, decision: Decision, c: int) -> CohortStatistics:
    """Cohort ``c``'s statistics without the bins (for a cohort withheld whole, operators) the decision withholds."""
    kept = decision.bins.published[c]

    def undefined_where_withheld(values: np.ndarray) -> np.ndarray:
        return np.where(kept, values, np.nan)

    return CohortStatistics(
        operator_count=stats.operator_count if decision.cohorts.published[c, 0] else 0,
        bin_operator_count=np.where(kept, stats.bin_operator_count, 0),
        record_count=np.where(kept, stats.record_count, 0),
        mean_wind_speed=undefined_where_withheld(stats.mean_wind_speed),
        mean_power=undefined_where_withheld(stats.mean_power),
        std_power=undefined_where_withheld(stats.std_power),
        mean_power_per_unit=undefined_where_withheld(stats.mean_power_per_unit),
        std_power_per_unit=undefined_where_withheld(stats.std_power_per_unit),
        mean_power_per_area=undefined_where_withheld(stats.mean_power_per_area),
        histogram=np.where(kept[:, None], stats.histogram, 0),
    )


def _with_cohort_rows(totals: np.ndarray, spec: spec_pb2.BenchmarkSpec) -> np.ndarray:
    """Every operator's totals per atom (operators, atoms, cells...), then per cohort: the sum over its atoms."""
    atoms = cohort_atoms(spec.cohorts)
    member = np.zeros((len(atoms), len(spec.cohorts)))
    for a, members in enumerate(atoms):
        member[a, list(members)] = 1.0
    per_cohort = np.moveaxis(np.tensordot(member.T, np.moveaxis(totals, 1, 0), axes=1), 0, 1)
    return np.concatenate([totals, per_cohort], axis=1)


def _census_block(statistic: spec_pb2.Statistic, totals: np.ndarray) -> np.ndarray:
    """A census block (3, atoms + cohorts, cells...) from every operator's totals (operators, atoms + cohorts, ...).

    Its fields (protos.statistics.CensusFields), summed over operators: 1 where the operator's total
    is positive, the total, and the total squared; each operator's figures rounded to the block's
    fixed point (protos.statistics.STATISTICS) first, as each site sends its own.
    """
    exponent = STATISTICS[statistic].scale_exponent

    def fixed(value: np.ndarray) -> np.ndarray:
        return np.ldexp(np.rint(np.ldexp(value, exponent)), -exponent)

    return np.stack([(totals > 0).sum(axis=0), fixed(totals).sum(axis=0), fixed(totals**2).sum(axis=0)]).astype(
        np.float64
    )


def _operator_atom_totals(
    frame: pd.DataFrame, n_atoms: int, cells: Mapping[str, int] | None = None, weight: str | None = None
) -> np.ndarray:
    """Per operator, atom and cell, the records of ``frame`` (or the sum of its column ``weight``).

    ``cells`` maps each column of ``frame`` holding a cell index to that axis's length. Rows of
    no atom (-1) count nowhere.
    """
    cells = cells or {}
    frame = frame[frame["atom"] >= 0]
    n_operators = int(frame["operator"].max()) + 1 if len(frame) else 0
    totals = np.zeros((n_operators, n_atoms, *cells.values()))
    index = tuple(frame[column].to_numpy(dtype=np.int64) for column in ("operator", "atom", *cells))
    np.add.at(totals, index, 1.0 if weight is None else frame[weight].to_numpy(dtype=np.float64))
    return totals


def _checked_census(spec: spec_pb2.BenchmarkSpec, census: dict[BlockKey, np.ndarray]) -> dict[BlockKey, np.ndarray]:
    """``census``, once it holds exactly the blocks of ``spec``'s census spec, each of its shape.

    All but the commitment randomness, which each site draws and is no statistic of the data.
    """
    layouts = {
        layout.key: layout.shape for layout in block_layouts(census_spec(spec)) if layout.key != COMMITMENT_RANDOMNESS
    }
    if set(census) != set(layouts):
        raise ValueError(
            f"spec {spec.spec_id}: its census has blocks {sorted(map(str, layouts))}; "
            f"the pooled reference computes {sorted(map(str, census))}"
        )
    for key, value in census.items():
        if value.shape != layouts[key]:
            raise ValueError(f"census block {key}: shape {value.shape}, the contract says {layouts[key]}")
    return census


def pooled_round_one_census(
    rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, records: pd.DataFrame | None = None
) -> dict[BlockKey, np.ndarray]:
    """Round 1's census from the pooled rows: records per atom and wind-speed bin, per atom, and training records.

    ``rows`` (:func:`pooled_rows`): the records that pass the filters and enter a wind-speed bin,
    the curves' records. ``records`` (:func:`pooled_canonical_records`): each model's training
    records (not needed for a private spec, which has no models).
    """
    n_atoms, n_ws = len(cohort_atoms(spec.cohorts)), spec.wind_speed_bins.count
    curve = _operator_atom_totals(_with_bins(rows, spec), n_atoms, {"ws_bin": n_ws})
    census = {
        BlockKey("", S.CURVE_CENSUS): _census_block(S.CURVE_CENSUS, _with_cohort_rows(curve, spec)),
        BlockKey("", S.COHORT_CENSUS): _census_block(S.COHORT_CENSUS, _with_cohort_rows(curve.sum(axis=2), spec)),
    }
    if not spec.HasField("privacy"):
        if records is None:
            raise ValueError(f"spec {spec.spec_id} has models: its census needs the canonical records")
        for model in spec.models:
            training = _training_rows(records, spec, records["atom"] >= 0, model)
            key = BlockKey("", S.TRAINING_CENSUS, model.target)
            census[key] = _census_block(
                S.TRAINING_CENSUS, _with_cohort_rows(_operator_atom_totals(training, n_atoms), spec)
            )
    return _checked_census(spec, census)


def pooled_round_one(
    rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, records: pd.DataFrame | None = None
) -> PooledRound:
    """Round 1 from the pooled rows: its census, the decision, the curves and the model blocks as carried.

    ``records`` as :func:`pooled_round_one_census` takes them (a private spec needs none).
    """
    census = pooled_round_one_census(rows, spec, records)
    decision = decide(spec, census)
    models = {} if records is None or spec.HasField("privacy") else pooled_model_values(records, spec)
    return PooledRound(
        census, decision, withhold_failing_cells(models, spec, decision), pooled_statistics(rows, spec, decision)
    )


def pooled_release(
    site_configs: Sequence[Path], spec: spec_pb2.BenchmarkSpec, indicators: bool = True
) -> release_pb2.Release:
    """The release a trusted party would publish from all rows: both rounds, finalised as the aggregator does.

    Round 1 (:func:`pooled_round_one`): the curves (:func:`server.finalize.build_release`) and the
    normal-behaviour models (:func:`server.baselines.model_fits`), decided by the pooled census.
    With ``indicators``, round 2 (:func:`pooled_round_two`) against that release: its spec built as
    the aggregator builds it (:func:`server.spec.indicator_spec`, with the sha256 of the pooled
    round-1 release) and its baselines finalised by :func:`server.baselines.indicator_baselines`.
    A private spec has no models and no round 2 (as in server.server_app.run_release).

    Parameters
    ----------
    site_configs : sequence of Path
        Every operator's site.toml; each is one participant.
    spec : BenchmarkSpec
        The round-1 spec.
    indicators : bool
        Add round 2 (the industry baselines).
    """
    participants = len(site_configs)
    private = spec.HasField("privacy")
    records = None if private else pooled_canonical_records(site_configs, spec)
    first = pooled_round_one(pooled_rows(site_configs, spec), spec, records)
    release = build_release(spec, first.curves, first.decision, participants, flower_run_id="", method=METHOD)
    release.training_period.CopyFrom(spec.training_period)
    if records is None:
        return release
    release.models.extend(model_fits(spec, first.values, first.decision))
    if not indicators:
        return release
    round_two = indicator_spec(spec, hashlib.sha256(release.SerializeToString(deterministic=True)).hexdigest())
    second = pooled_round_two(records, round_two, release)
    final = release_pb2.Release()
    final.CopyFrom(release)
    final.provenance.suppressed_cells += indicator_baselines(round_two, second.values, final, second.decision)
    final.provenance.indicator_spec_sha256 = spec_sha256(round_two)
    final.provenance.indicator_participants = participants
    final.indicator_spec.CopyFrom(round_two)
    return final


def pooled_canonical_records(site_configs: Sequence[Path], spec: spec_pb2.BenchmarkSpec) -> pd.DataFrame:
    """Every operator's canonical records in one frame, with operator, turbine metadata, atom and cohort columns.

    ``passes_row_filters`` marks the records the spec's row filters (all but the bin filter) pass.
    ``category`` is each record's IEC 61400-26 information category: the site's [status.categories];
    without them, normal status codes are full performance and any other code a forced outage;
    without a status channel, every record is full performance. ``status_measured``: the site has a
    status channel (availability and lost production are measured); ``failures_measured``: it also
    lists failure codes ([status.components]), so its turbine-years count.
    """
    frames = []
    for operator, path in enumerate(site_configs):
        site = load_site_config(path)
        frame = pd.concat(read_canonical_chunks(site), ignore_index=True)
        # A record counts only after every earlier one of its turbine in the export: one written after a later
        # one, or at the time of one before it, is left out (client/streaming.py: late_or_repeated_records).
        latest = frame.groupby("asset_id", observed=True)["time"].cummax()
        before = latest.groupby(frame["asset_id"], observed=True).shift()
        frame = frame[before.isna() | (frame["time"] > before)]
        frame = frame.sort_values(["asset_id", "time"], kind="stable").reset_index(drop=True)
        index = pd.Index([t.asset_id for t in site.turbines]).get_indexer(frame["asset_id"].astype(str))
        arrays = TurbineArrays.of(site, index)
        passes = np.ones(len(frame), dtype=bool)
        for f in spec.filters:
            if FILTERS[f.name].flag:
                passes &= ~FILTERS[f.name].flag(frame, arrays, f.parameters)
        membership = cohort_membership(site, spec)
        has_status = "WTUR_TurSt" in frame
        normal = frame["WTUR_TurSt"].isin(site.normal_status_codes) if has_status else pd.Series(True, frame.index)
        if not has_status:
            category = pd.Series("full_performance", frame.index)
        elif site.status_categories:
            category = frame["WTUR_TurSt"].map(
                {code: name for name, codes in site.status_categories.items() for code in codes}
            )
        else:
            category = pd.Series(np.where(normal, "full_performance", "forced_outage"), frame.index)
            category = category.where(frame["WTUR_TurSt"].notna())  # a blank status: information unavailable
        frame = frame.assign(
            operator=operator,
            turbine=f"{operator}/" + frame["asset_id"].astype(str),
            atom=_atoms(membership, spec)[index],
            rated_power_kw=arrays.rated_power_kw,
            stall=[site.turbines[i].regulation == "stall" for i in index],
            normal=normal,
            passes_row_filters=passes,
            density=record_air_density(frame, site),
            commissioned=[site.turbines[i].commissioning_date for i in index],
            component=frame["WTUR_TurSt"].map(
                {code: name for name, codes in site.status_components.items() for code in codes}
            )
            if has_status
            else None,
            category=category,
            status_measured=has_status,
            failures_measured=has_status and bool(site.status_components),
        )
        for c, cohort in enumerate(spec.cohorts):
            frame[cohort.name] = membership[index, c]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _in_period(rows: pd.DataFrame, period: spec_pb2.Period) -> pd.Series:
    return (rows["time"] >= pd.Timestamp(period.start)) & (rows["time"] < pd.Timestamp(period.end))


def _histogram(values: np.ndarray, grid: spec_pb2.BinGrid) -> np.ndarray:
    """Counts of the finite ``values`` per bin of ``grid`` (bin i centred on first_centre + i width), ends open."""
    finite = values[np.isfinite(values)]
    index = np.clip(np.floor((finite - grid.first_centre) / grid.width + 0.5), 0, grid.count - 1)
    return np.bincount(index.astype(np.int64), minlength=grid.count).astype(np.float64)


def _design(rows: pd.DataFrame, model: spec_pb2.NormalBehaviourModel) -> pd.DataFrame:
    """Each record's features of ``model`` and its target ``y``, NaN where an export has no such channel.

    Features: P / P_rated [-], its square [-], ambient temperature [degC].
    """
    pu = rows["WTUR_W"] / rows["rated_power_kw"]
    ambient = rows.get("WMET_EnvTmp", np.nan)
    columns = {"power_per_unit": pu, "power_per_unit_squared": pu**2, "ambient_temperature": ambient}
    data = pd.DataFrame({name: columns[name] for name in model.features}, index=rows.index, dtype=np.float64)
    data["y"] = rows.get(model.target, np.nan)
    return data


def _modelled(rows: pd.DataFrame, data: pd.DataFrame) -> pd.Series:
    """Normal-status records whose features and target (``data``) are all finite."""
    return rows["normal"] & np.isfinite(data.to_numpy(dtype=np.float64)).all(axis=1)


def _training_rows(
    rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, members: pd.Series, model: spec_pb2.NormalBehaviourModel
) -> pd.DataFrame:
    """A model's training records among ``members``, in the training window: features, y, operator, turbine, atom."""
    data = _design(rows, model)
    use = members & _modelled(rows, data) & _in_period(rows, spec.training_period)
    return data[use].assign(operator=rows["operator"][use], turbine=rows["turbine"][use], atom=rows["atom"][use])


def _centred(data: pd.DataFrame, model: spec_pb2.NormalBehaviourModel) -> tuple[np.ndarray, np.ndarray]:
    """Features X and target y of training rows, each turbine's demeaned (the fixed-effects model)."""
    columns = [*model.features, "y"]
    centred = data[columns] - data.groupby("turbine")[columns].transform("mean")
    return centred[list(model.features)].to_numpy(), centred["y"].to_numpy()


def pooled_model_coefficients(
    rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, cohort: str, model: spec_pb2.NormalBehaviourModel
) -> np.ndarray:
    """The fixed-effects ridge regression on the pooled training rows: demean per turbine, then solve."""
    x, y = _centred(_training_rows(rows, spec, rows[cohort], model), model)
    return np.linalg.solve(x.T @ x + model.ridge_lambda * len(y) * np.eye(x.shape[1]), x.T @ y)


def pooled_model_values(rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec) -> dict[BlockKey, np.ndarray]:
    """The pooled value of every normal-behaviour-model block of the round-1 ``spec`` (before any is withheld).

    Per cohort and model, over the pooled training rows each turbine demeaned: X^T X, X^T y,
    y^T y, and the record count block (records, turbines and operators with training records).
    """
    values = {}
    for cohort in spec.cohorts:
        for model in spec.models:
            data = _training_rows(rows, spec, rows[cohort.name], model)
            x, y = _centred(data, model)
            counts = NbmRecordCount(
                records=float(len(y)),
                turbines=float(data["turbine"].nunique()),
                contributor=float(data["operator"].nunique()),
            )
            values[BlockKey(cohort.name, S.NBM_GRAM, model.target)] = x.T @ x
            values[BlockKey(cohort.name, S.NBM_MOMENT, model.target)] = x.T @ y
            values[BlockKey(cohort.name, S.NBM_RESPONSE_SQUARES, model.target)] = np.array([y @ y])
            values[BlockKey(cohort.name, S.NBM_RECORD_COUNT, model.target)] = np.array(counts, dtype=np.float64)
    return values


def pooled_turbines(rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec) -> pd.DataFrame:
    """One row per turbine of the pooled records (index ``turbine``): operator, atom, membership of each cohort."""
    return rows.groupby("turbine")[["operator", "atom", *(c.name for c in spec.cohorts)]].first()


def pooled_own_cohorts(turbines: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, measurable: Iterable[str]) -> pd.Series:
    """Each turbine's own cohort: the first of the spec's cohorts it belongs to among ``measurable`` ("" for none).

    Parameters
    ----------
    turbines : DataFrame
        One membership column per cohort (:func:`pooled_turbines`).
    measurable : iterable of str
        Names of the cohorts a turbine can be measured against.
    """
    measurable = set(measurable)
    own = pd.Series("", index=turbines.index)
    for cohort in reversed(spec.cohorts):  # the first cohort in spec order is written last
        if cohort.name in measurable:
            own = own.mask(turbines[cohort.name].astype(bool), cohort.name)
    return own


def released_curves(release: release_pb2.Release) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each cohort's curve a turbine can be measured against: mean wind speed [m/s] and P/P_rated [-] per bin.

    The released bins with a mean, of the cohorts with at least two of them.
    """
    out = {}
    for curve in release.curves:
        bins = [b for b in curve.bins if not b.suppressed and b.HasField("mean_power_per_unit")]
        if len(bins) >= 2:
            out[curve.cohort] = (
                np.array([b.mean_wind_speed for b in bins]),
                np.array([b.mean_power_per_unit for b in bins]),
            )
    return out


def pooled_expected_power(
    rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, release: release_pb2.Release
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each record's density-normalised wind speed [m/s] and power [kW], and the power its own curve expects [kW].

    The expectation interpolates linearly between the released bins (mean wind speed, mean
    P / P_rated) of the curve of the turbine's own cohort (:func:`pooled_own_cohorts` among
    :func:`released_curves`), times rated power; NaN beyond its first and last bin, and for a
    turbine with no own cohort.
    """
    rho0 = spec.reference_air_density
    wind_speed = np.where(
        rows["stall"], rows["WMET_HorWdSpd"], rows["WMET_HorWdSpd"] * (rows["density"] / rho0) ** (1 / 3)
    )
    power = np.where(rows["stall"], rows["WTUR_W"] * rho0 / rows["density"], rows["WTUR_W"])
    curves = released_curves(release)
    own = rows["turbine"].map(pooled_own_cohorts(pooled_turbines(rows, spec), spec, curves)).to_numpy()
    expected = np.full(len(rows), np.nan)
    for cohort, (curve_wind_speed, curve_power_per_unit) in curves.items():
        here = own == cohort
        per_unit = np.interp(wind_speed[here], curve_wind_speed, curve_power_per_unit, left=np.nan, right=np.nan)
        expected[here] = per_unit * rows["rated_power_kw"].to_numpy()[here]
    return wind_speed, power, expected


def pooled_performance_and_yaw(
    rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, release: release_pb2.Release
) -> pd.DataFrame:
    """Per turbine measured against its own cohort's curve: operator, performance index and yaw misalignment.

    Turbines with a positive expected energy, over the period's records that pass the row filters
    and have an expectation from their own curve (:func:`pooled_expected_power`) [kW]:
    performance index = actual / expected energy [-]. The yaw misalignment [deg] is the vertex of
    np.polyfit(vane, actual / expected, 2) over the records in the spec's yaw wind-speed range
    whose expected power is above 5 % of rated: NaN below 500 such records or for a parabola that
    is not concave.
    """
    wind_speed, power, expected = pooled_expected_power(rows, spec, release)
    frame = pd.DataFrame(
        {
            "operator": rows["operator"],
            "turbine": rows["turbine"],
            "actual": power,
            "expected": expected,
            "v": wind_speed,
            "vane": rows.get("WMET_HorWdDirRel", np.nan),
            "rated": rows["rated_power_kw"],
        }
    )
    use = rows["passes_row_filters"] & _in_period(rows, spec.period)
    frame = frame[use & frame["expected"].notna() & frame["actual"].notna()]
    out = frame.groupby("turbine").agg(
        operator=("operator", "first"), actual=("actual", "sum"), expected=("expected", "sum")
    )
    out = out[out["expected"] > 0]
    out["performance_index"] = out["actual"] / out["expected"]
    ind = spec.indicators
    fit = frame[
        (frame["v"] >= ind.yaw_wind_speed_min)
        & (frame["v"] < ind.yaw_wind_speed_max)
        & frame["vane"].notna()
        & (frame["expected"] > 0.05 * frame["rated"])
    ]

    def vertex(group: pd.DataFrame) -> float:
        if len(group) < 500:
            return np.nan
        c, b, _ = np.polyfit(group["vane"], group["actual"] / group["expected"], 2)
        return -b / (2 * c) if c < 0 else np.nan

    yaw = {turbine: vertex(group) for turbine, group in fit.groupby("turbine")}
    out["yaw_misalignment"] = out.index.map(yaw).astype(np.float64)
    return out


def _aged_records(rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec) -> pd.DataFrame:
    """The period's records of dated turbines, with their age band ``band`` (from the first edge on)."""
    edges = np.array(spec.indicators.age_band_edges)
    rows = rows[_in_period(rows, spec.period) & rows["commissioned"].notna() & rows["failures_measured"]]
    age = (rows["time"] - pd.to_datetime(rows["commissioned"], utc=True)) / JULIAN_YEAR
    rows = rows.assign(band=np.searchsorted(edges, age.to_numpy(), side="right") - 1)
    return rows[rows["band"] >= 0]


def pooled_reliability(
    rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, cohort: str
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Failures and their downtime [h] (components x age bands), turbine-years (operators x age bands) of ``cohort``.

    A failure is a run of one component's failure code on one turbine, consecutive 10-min records
    but for stretches of unknown status (blank, or no record) of at most an hour between two of its
    records (client/indicators.py: UNKNOWN_STATUS_BRIDGE_SECONDS); its age band is the turbine's age at
    the run's first record, its downtime the run's span from its first record to its last.
    Turbine-years count the period's records of turbines with a commissioning date, by age band,
    one row per operator (index: operator) [year].
    """
    ind = spec.indicators
    edges = np.array(ind.age_band_edges)
    rows = rows[rows[cohort] & _in_period(rows, spec.period) & rows["commissioned"].notna() & rows["failures_measured"]]
    age = (rows["time"] - pd.to_datetime(rows["commissioned"], utc=True)) / JULIAN_YEAR
    band = np.searchsorted(edges, age.to_numpy(), side="right") - 1
    aged = band >= 0
    records = pd.crosstab(rows["operator"].to_numpy()[aged], band[aged])
    years = records.reindex(columns=range(len(edges)), fill_value=0) * (RECORD_HOURS / JULIAN_YEAR_HOURS)
    known = rows["WTUR_TurSt"].notna().to_numpy() if "WTUR_TurSt" in rows else np.ones(len(rows), dtype=bool)
    rows, band, aged = rows[known], band[known], aged[known]
    component = rows["component"].fillna("")
    bridge = RECORD_PERIOD + pd.Timedelta(seconds=UNKNOWN_STATUS_BRIDGE_SECONDS)
    new_run = (
        (rows["turbine"] != rows["turbine"].shift()) | (component != component.shift()) | (rows["time"].diff() > bridge)
    )
    starts = new_run & (component != "") & aged
    run = new_run.cumsum()
    span = rows["time"].groupby(run).agg(["min", "max"])
    run_length = run.map((span["max"] - span["min"]) / RECORD_PERIOD + 1)
    failures = np.zeros((len(ind.components), len(edges)))
    downtime = np.zeros((len(ind.components), len(edges)))
    for name, b, length in zip(component[starts], band[starts.to_numpy()], run_length[starts], strict=True):
        failures[list(ind.components).index(name), b] += 1
        downtime[list(ind.components).index(name), b] += length * RECORD_HOURS
    return failures, downtime, years


def pooled_production(rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, release: release_pb2.Release) -> pd.DataFrame:
    """Per turbine of some cohort: actual, lost and potential production [MWh], and production-based availability [-].

    Over the period's records with a power: actual = the power produced (not below 0); lost, per
    IEC 61400-26 loss category of the spec but full performance (columns ``lost:<category>``) =
    what the turbine's own curve expects at the record's normalised wind speed
    (:func:`pooled_expected_power`) less what came, not below 0, where it expects anything;
    potential = actual + lost; production-based availability (IEC 61400-26-2) = actual /
    (actual + lost in the unavailable categories), NaN where that is 0 / 0.
    """
    _, _, expected = pooled_expected_power(rows, spec, release)
    categories = list(spec.indicators.loss_categories)
    keep = (rows["atom"] >= 0) & _in_period(rows, spec.period) & rows["WTUR_W"].notna()
    frame = pd.DataFrame(
        {"turbine": rows["turbine"], "power": rows["WTUR_W"], "expected": expected, "category": rows["category"]}
    )[keep]
    actual = (frame["power"].clip(lower=0) * (RECORD_HOURS / KWH_PER_MWH)).groupby(frame["turbine"]).sum()
    counted = frame["category"].isin(categories) & (frame["category"] != "full_performance")
    lost = ((frame["expected"] - frame["power"]).clip(lower=0) * (RECORD_HOURS / KWH_PER_MWH)).where(
        counted & frame["expected"].notna(), 0.0
    )
    by_category = pd.DataFrame(
        {category: lost[frame["category"] == category].groupby(frame["turbine"]).sum() for category in categories},
        index=actual.index,
    ).fillna(0.0)
    unavailable = frame["category"].map(AVAILABILITY_CATEGORIES) == False  # noqa: E712 - None is excluded
    lost_unavailable = lost.where(unavailable, 0.0).groupby(frame["turbine"]).sum()
    out = pd.DataFrame(
        {
            "actual": actual,
            "potential": actual + by_category.sum(axis=1),
            "production_availability": actual / (actual + lost_unavailable),
        }
    )
    return out.join(by_category.add_prefix("lost:"))


def pooled_time_availability(rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec) -> pd.Series:
    """Time-based availability per turbine (IEC 61400-26-1): available / (available + unavailable) time [-].

    Over the period's records in the spec's loss categories (the excluded categories count in neither).
    """
    rows = rows[_in_period(rows, spec.period) & rows["category"].isin(list(spec.indicators.loss_categories))]
    available = rows["category"].map(AVAILABILITY_CATEGORIES) == True  # noqa: E712 - a category's flag
    return available.groupby(rows["turbine"]).mean()


def pooled_monthly_indicators(
    rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, release: release_pb2.Release
) -> pd.DataFrame:
    """Per (turbine, month "YYYY-MM", UTC): performance index and time availability over that month's records [-].

    As :func:`pooled_performance_and_yaw` and :func:`pooled_time_availability` over the period, with
    the records grouped by calendar month; NaN where a month has no expected energy or no counted
    time, and time availability NaN for a turbine without a status channel.
    """
    _, power, expected = pooled_expected_power(rows, spec, release)
    in_period = _in_period(rows, spec.period)
    month = rows["time"].dt.tz_convert("UTC").dt.strftime("%Y-%m")
    scored = rows["passes_row_filters"] & in_period & np.isfinite(expected) & np.isfinite(power)
    energy = pd.DataFrame({"actual": power, "expected": expected})[scored]
    sums = energy.groupby([rows["turbine"][scored], month[scored]]).sum()
    sums = sums[sums["expected"] > 0]
    counted = in_period & rows["category"].isin(list(spec.indicators.loss_categories)) & rows["status_measured"]
    available = rows["category"][counted].map(AVAILABILITY_CATEGORIES) == True  # noqa: E712 - a category's flag
    monthly = pd.DataFrame(
        {
            "performance_index": sums["actual"] / sums["expected"],
            "time_availability": available.groupby([rows["turbine"][counted], month[counted]]).mean(),
        }
    )
    monthly.index.names = ["turbine", "month"]
    return monthly


def pooled_residuals(
    rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, release: release_pb2.Release, target: str
) -> pd.DataFrame:
    """The residuals of ``target``'s released models on the pooled monitored records: turbine and residual [degC].

    Each turbine's residuals are under its own cohort's model: the first of its cohorts with a
    released (not suppressed) model for ``target`` (:func:`pooled_own_cohorts`). Residual = y - X
    beta - a, a the turbine's intercept: its mean of y - X beta over its training records (normal
    status, finite features and target, in the training window). Monitored: the model's usable
    records of the period from the end of the training window on, of turbines with an intercept.
    """
    model = next(m for m in spec.models if m.target == target)
    fits = {m.cohort: np.array(m.coefficients) for m in release.models if m.target == target and not m.suppressed}
    own = rows["turbine"].map(pooled_own_cohorts(pooled_turbines(rows, spec), spec, fits))
    data = _design(rows, model)
    residual = pd.Series(np.nan, index=rows.index)
    for cohort, beta in fits.items():
        here = own == cohort
        residual[here] = data["y"][here] - data.loc[here, list(model.features)].to_numpy() @ beta
    usable = _modelled(rows, data) & (own != "")
    training = usable & _in_period(rows, spec.training_period)
    intercept = residual[training].groupby(rows["turbine"][training]).mean()
    monitored = usable & _in_period(rows, spec.period) & (rows["time"] >= pd.Timestamp(spec.training_period.end))
    monitored &= rows["turbine"].isin(intercept.index)
    turbine = rows["turbine"][monitored]
    own_intercept = intercept.reindex(turbine.to_numpy()).to_numpy(dtype=np.float64)
    return pd.DataFrame({"turbine": turbine, "residual": residual[monitored].to_numpy() - own_intercept})


@dataclass(frozen=True)
class PooledIndicators:
    """Round 2 per turbine, each measured against its own cohort (see the module's docstring).

    Attributes
    ----------
    turbines : DataFrame
        Index ``turbine``: operator, atom, one membership column per cohort; performance_index,
        yaw_misalignment, time_availability, production_availability [-, deg] (NaN where not
        measured); actual, potential and ``lost:<category>`` production [MWh]; and per model
        target ``residuals:<target>``, its monitored records.
    residuals : dict
        Model target -> the monitored records' residuals (:func:`pooled_residuals`).
    monthly : DataFrame
        Index (``turbine``, ``month``): performance_index and time_availability of the month
        (:func:`pooled_monthly_indicators`), NaN where not measured.
    measured : DataFrame
        Index ``turbine``, one column per indicator cell (protos.statistics.indicator_cells): whether
        the turbine was measured for it.
    """

    turbines: pd.DataFrame
    residuals: dict[str, pd.DataFrame]
    measured: pd.DataFrame
    monthly: pd.DataFrame


def pooled_indicators(
    rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, release: release_pb2.Release
) -> PooledIndicators:
    """Every round-2 indicator of every turbine, measured against the round-1 ``release``, and what it measured.

    A turbine is measured for the performance index, yaw misalignment and the availabilities where
    they are defined (finite), for lost production where its potential production is positive, for
    a model's residuals where it has monitored records; production availability and lost production
    need its own curve (what it lost is what that curve expected), time availability does not.
    """
    turbines = pooled_turbines(rows, spec)
    performance = pooled_performance_and_yaw(rows, spec, release)
    turbines = turbines.join(performance[["performance_index", "yaw_misalignment"]])
    turbines["time_availability"] = pooled_time_availability(rows, spec)
    turbines = turbines.join(pooled_production(rows, spec, release))
    residuals = {model.target: pooled_residuals(rows, spec, release, model.target) for model in spec.models}
    for target, records in residuals.items():
        turbines[f"residuals:{target}"] = records.groupby("turbine").size()
    turbines = turbines.fillna({"potential": 0.0, **{f"residuals:{m.target}": 0 for m in spec.models}})
    curves = [c.cohort for c in release.curves if sum(b.HasField("mean_power_per_unit") for b in c.bins) >= 2]
    with_curve = pooled_own_cohorts(turbines, spec, curves) != ""
    measured = pd.DataFrame(
        {
            **{name: np.isfinite(turbines[name]) for name in INDICATOR_CELLS if name != "lost_production"},
            "lost_production": (turbines["potential"] > 0) & with_curve,
            **{f"residual:{m.target}": turbines[f"residuals:{m.target}"] > 0 for m in spec.models},
        },
        index=turbines.index,
    )[list(indicator_cells(spec))]
    measured["production_availability"] &= with_curve
    status_measured = rows.groupby("turbine")["status_measured"].first().reindex(turbines.index, fill_value=False)
    for name in ("time_availability", "production_availability", "lost_production"):
        measured[name] &= status_measured
    return PooledIndicators(turbines, residuals, measured, pooled_monthly_indicators(rows, spec, release))


def pooled_indicator_census(
    rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, indicators: PooledIndicators
) -> dict[BlockKey, np.ndarray]:
    """Round 2's census: turbines measured per atom and indicator cell, turbine-years per atom and age band."""
    n_atoms, cells = len(cohort_atoms(spec.cohorts)), list(indicator_cells(spec))
    measured = indicators.measured.join(indicators.turbines[["operator", "atom"]])
    per_cell = np.stack(
        [_operator_atom_totals(measured.assign(n=measured[cell].astype(float)), n_atoms, weight="n") for cell in cells],
        axis=-1,
    )
    aged = _aged_records(rows, spec)
    years = _operator_atom_totals(aged, n_atoms, {"band": len(spec.indicators.age_band_edges)})
    months = list(period_months(spec.period.start, spec.period.end).strftime(MONTH_FORMAT))
    monthly = _monthly_cells(indicators, months)
    per_month = _operator_atom_totals(monthly, n_atoms, {"cell": len(MONTHLY_INDICATORS) * len(months)})
    census = {
        BlockKey("", S.INDICATOR_CENSUS): _census_block(S.INDICATOR_CENSUS, _with_cohort_rows(per_cell, spec)),
        BlockKey("", S.AGE_BAND_CENSUS): _census_block(
            S.AGE_BAND_CENSUS, _with_cohort_rows(years, spec) * (RECORD_HOURS / JULIAN_YEAR_HOURS)
        ),
        BlockKey("", S.MONTHLY_CENSUS): _census_block(S.MONTHLY_CENSUS, _with_cohort_rows(per_month, spec)),
    }
    return _checked_census(spec, census)


def _monthly_cells(indicators: PooledIndicators, months: list[str]) -> pd.DataFrame:
    """One row per measured (turbine, monthly cell): turbine, operator, atom, cell, indicator, month, value."""
    long = (
        indicators.monthly.reset_index()
        .melt(id_vars=["turbine", "month"], value_vars=list(MONTHLY_INDICATORS), var_name="indicator")
        .dropna(subset=["value"])
    )
    long = long[long["month"].isin(months)]
    long["cell"] = long["indicator"].map(MONTHLY_INDICATORS.index) * len(months) + long["month"].map(months.index)
    return long.join(indicators.turbines[["operator", "atom"]], on="turbine")


def pooled_indicator_values(
    rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, indicators: PooledIndicators
) -> dict[BlockKey, np.ndarray]:
    """The pooled value of every block of the round-2 ``spec`` (before any is withheld).

    Per cohort, over its member turbines each indicator measured: histograms of performance index,
    yaw misalignment and time- and production-based availability, of each model's residuals (over
    records), lost production per loss category and the potential, and per indicator cell the
    operators with such a turbine; over all its members, failures, downtime and turbine-years by
    component and age band, and per age band the operators with turbine-years in it; per month,
    histograms of performance index and time availability and the operators of each monthly cell.

    Raises
    ------
    ValueError
        If the spec asks for a block this reference does not compute.
    """
    ind, turbines, measured = spec.indicators, indicators.turbines, indicators.measured
    grids = {
        S.PERFORMANCE_INDEX_HISTOGRAM: ("performance_index", ind.performance_index_bins),
        S.YAW_MISALIGNMENT_HISTOGRAM: ("yaw_misalignment", ind.yaw_misalignment_bins),
        S.TIME_AVAILABILITY_HISTOGRAM: ("time_availability", ind.availability_bins),
        S.PRODUCTION_AVAILABILITY_HISTOGRAM: ("production_availability", ind.availability_bins),
    }
    months = list(period_months(spec.period.start, spec.period.end).strftime(MONTH_FORMAT))
    monthly = _monthly_cells(indicators, months)
    values: dict[BlockKey, np.ndarray] = {}
    for cohort in spec.cohorts:
        name, member = cohort.name, turbines[cohort.name].astype(bool)
        for statistic, (indicator, grid) in grids.items():
            mine = member & measured[indicator]
            values[BlockKey(name, statistic)] = _histogram(turbines[indicator][mine].to_numpy(np.float64), grid)
        for model in spec.models:
            mine = turbines.index[member & measured[f"residual:{model.target}"]]
            records = indicators.residuals[model.target]
            residuals = records["residual"][records["turbine"].isin(mine)].to_numpy(np.float64)
            values[BlockKey(name, S.NBM_RESIDUAL_HISTOGRAM, model.target)] = _histogram(residuals, ind.residual_bins)
        mine = turbines[member & measured["lost_production"]]
        lost = mine[[f"lost:{category}" for category in ind.loss_categories]].sum(axis=0).to_numpy(np.float64)
        values[BlockKey(name, S.LOST_PRODUCTION)] = np.r_[lost, mine["actual"].sum() + lost.sum()]
        values[BlockKey(name, S.INDICATOR_CONTRIBUTOR)] = np.array(
            [turbines["operator"][member & measured[cell]].nunique() for cell in measured.columns], dtype=np.float64
        )
        failures, downtime, years = pooled_reliability(rows, spec, name)
        values[BlockKey(name, S.FAILURE_COUNT)] = failures
        values[BlockKey(name, S.FAILURE_DOWNTIME)] = downtime
        values[BlockKey(name, S.TURBINE_YEARS)] = years.sum(axis=0).to_numpy(np.float64)
        values[BlockKey(name, S.AGE_BAND_CONTRIBUTOR)] = (years > 0).sum(axis=0).to_numpy(np.float64)
        mine = monthly[monthly["turbine"].map(turbines[name].astype(bool))]
        for indicator, (statistic, grid) in monthly_grids(spec).items():
            values[BlockKey(name, statistic)] = np.array(
                [
                    _histogram(mine["value"][(mine["indicator"] == indicator) & (mine["month"] == m)].to_numpy(), grid)
                    for m in months
                ]
            )
        values[BlockKey(name, S.MONTHLY_CONTRIBUTOR)] = (
            mine.groupby("cell")["operator"]
            .nunique()
            .reindex(range(len(MONTHLY_INDICATORS) * len(months)), fill_value=0)
            .to_numpy(np.float64)
        )
    unknown = [layout.name for layout in block_layouts(spec) if layout.key not in values]
    if unknown:
        raise ValueError(f"spec {spec.spec_id} asks for blocks {unknown}, which the pooled reference does not compute")
    return values


def pooled_round_two(rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec, release: release_pb2.Release) -> PooledRound:
    """Round 2 from the pooled canonical records, against the round-1 ``release``: census, decision, values."""
    indicators = pooled_indicators(rows, spec, release)
    census = pooled_indicator_census(rows, spec, indicators)
    decision = decide(spec, census)
    values = withhold_failing_cells(pooled_indicator_values(rows, spec, indicators), spec, decision)
    return PooledRound(census, decision, values)


def pooled_solar_rows(site_configs: Sequence[Path], spec: spec_pb2.BenchmarkSpec) -> pd.DataFrame:
    """Every solar plant's 15-min records in the period: plant, inverter, G_i, specific power, availability, cohorts.

    The plants' exports through the sites' own reader (client/solar/ingest.py), pooled; the
    plane-of-array irradiance is the export's ``G_i``. A record is available when its status is
    one of the plant's available codes (without a status column: unless it produced nothing at
    200 W/m^2 or more).
    """
    start, end = pd.Timestamp(spec.period.start), pd.Timestamp(spec.period.end)
    frames = []
    for plant_index, path in enumerate(site_configs):
        site = load_solar_site_config(path)
        plant = site.plant
        member = [
            plant_in_cohort(c, plant.module_technology, plant.mounting, plant.climate_zone, site.dc_ac_ratio)
            for c in spec.cohorts
        ]
        dc = pd.Series({i.inverter_id: i.dc_capacity_kw for i in site.inverters})
        records = pd.concat(read_solar_chunks(site), ignore_index=True)
        records = records[(records["time"] >= start) & (records["time"] < end)]
        inverter = records["asset_id"].astype(str)
        if "INV_St" in records:
            available = records["INV_St"].isin(site.available_codes)
        else:
            available = ~((records["G_i"] >= 200.0) & (records["P_out"] <= 0))
        frame = pd.DataFrame(
            {
                "plant": plant_index,
                "inverter": f"{plant_index}/" + inverter,
                "g_i": records["G_i"],
                "specific_power": records["P_out"] / inverter.map(dc).to_numpy(),
                "p_out": records["P_out"],
                "reference_kw": inverter.map(dc).to_numpy() * records["G_i"] / 1000.0,
                "available": available.to_numpy(),
            }
        )
        for cohort, is_member in zip(spec.cohorts, member, strict=True):
            frame[cohort.name] = is_member
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def pooled_solar_curves(rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec) -> pd.DataFrame:
    """Per cohort and irradiance bin: records, operators, mean and sample std of specific power (before any rule)."""
    grid = spec.solar.irradiance_bins
    usable = rows[rows["available"] & rows["g_i"].notna() & rows["specific_power"].notna()]
    # From daylight (the grid's first bin) up; the last bin holds every record above it.
    usable = usable[usable["g_i"] >= grid.first_centre - grid.width / 2]
    position = np.floor((usable["g_i"] - grid.first_centre) / grid.width + 0.5)
    usable = usable.assign(irradiance_bin=position.clip(upper=grid.count - 1))
    curves = []
    for cohort in spec.cohorts:
        members = usable[usable[cohort.name]]
        curve = members.groupby("irradiance_bin").agg(
            records=("specific_power", "size"),
            operators=("plant", "nunique"),
            mean_specific_power=("specific_power", "mean"),
            std_specific_power=("specific_power", "std"),
        )
        curve["irradiance_centre"] = grid.first_centre + grid.width * curve.index.to_numpy()
        curves.append(curve.reset_index(drop=True).assign(cohort=cohort.name))
    return pd.concat(curves, ignore_index=True)


def pooled_capped_specific_power_histograms(rows: pd.DataFrame, spec: spec_pb2.BenchmarkSpec) -> dict[str, np.ndarray]:
    """Per cohort, a private solar spec's capped specific-power histogram: each inverter's cells, :func:`_capped_cells`.

    The pooled form of the sites' per-inverter cap (its row: the inverter's irradiance bin).
    """
    irr, sp = spec.solar.irradiance_bins, spec.solar.specific_power_bins
    usable = rows[rows["available"] & rows["g_i"].notna() & rows["specific_power"].notna()]
    usable = usable[usable["g_i"] >= irr.first_centre - irr.width / 2]
    irr_bin = np.floor((usable["g_i"].to_numpy() - irr.first_centre) / irr.width + 0.5).clip(max=irr.count - 1)
    sp_bin = np.floor((usable["specific_power"].to_numpy() - sp.first_centre) / sp.width + 0.5).clip(0, sp.count - 1)
    cell = (irr_bin * sp.count + sp_bin).astype(np.int64)
    exponent = STATISTICS[S.CAPPED_SPECIFIC_POWER_HISTOGRAM].scale_exponent
    cells, weight, first = _capped_cells(usable["inverter"].to_numpy(), irr_bin, cell, spec, exponent)
    return {
        cohort.name: np.bincount(
            cells[usable[cohort.name].to_numpy()[first]],
            weights=weight[usable[cohort.name].to_numpy()[first]],
            minlength=irr.count * sp.count,
        ).reshape(irr.count, sp.count)
        for cohort in spec.cohorts
    }


def pooled_performance_ratios(rows: pd.DataFrame) -> pd.Series:
    """Each plant's IEC 61724-1 performance ratio over its records with power and irradiance [-]."""
    valid = rows[rows["p_out"].notna() & rows["reference_kw"].notna()]
    sums = valid.groupby("plant")[["p_out", "reference_kw"]].sum()
    return sums["p_out"] / sums["reference_kw"]
