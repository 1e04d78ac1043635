"""The dashboard's JSON API under /api/: response models (documented in /openapi.json) and routes."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.security import HTTPBearer
from google.protobuf import json_format
from google.protobuf.message import Message
from pydantic import BaseModel

from common.release_json import release_to_dict
from protos.fleetbench.v1 import release_pb2, spec_pb2
from server.dashboard.releases import ReleaseStore, StoredRelease, UnknownReleaseError

CONTENT_FIELDS = (
    "provenance",
    "curves",
    "models",
    "distributions",
    "monthly_distributions",
    "failure_rates",
    "lost_production",
    "indicator_spec",
    "solar_curves",
    "solar",
    "solar_failure_rates",
)
"""Release fields shown in their own sections; every other field is a setting, listed generically."""


Out = TypeVar("Out", bound=BaseModel)


class ErrorOut(BaseModel):
    """What a refused request gets back."""

    detail: str


class CohortSummary(BaseModel):
    """One cohort of a release: whether it was released and how much of its curve."""

    cohort: str
    turbine_model: str
    suppressed: bool
    suppression_reason: str
    operator_count: int | None = None
    bins_released: int
    bins_suppressed: int
    complete: bool


class SolarCohortSummary(BaseModel):
    """One solar cohort of a release: how much of its curve and of its distributions was released."""

    cohort: str
    operator_count: int | None = None  # the most operators of any released irradiance bin
    bins_released: int
    bins_suppressed: int
    distributions_released: int
    distributions_suppressed: int


class BinGridOut(BaseModel):
    """A histogram's grid: bin i is centred on first_centre + i * width."""

    first_centre: float
    width: float
    count: int
    unit: str


class SolarSpecOut(BaseModel):
    """The solar spec a solar release was summed for: its grids, loss categories and bounds (spec.proto SolarSpec)."""

    irradiance_bins: BinGridOut | None = None
    specific_power_bins: BinGridOut | None = None
    performance_ratio_bins: BinGridOut | None = None
    degradation_bins: BinGridOut | None = None
    degradation_interval_bins: BinGridOut | None = None
    soiling_loss_bins: BinGridOut | None = None
    clipping_share_bins: BinGridOut | None = None
    availability_bins: BinGridOut | None = None
    loss_categories: list[str]
    max_inverters_per_site: int
    degradation_confidence_level: float
    lost_production_bins: BinGridOut | None = None
    components: list[str]


class ReleaseDetail(StoredRelease):
    """A release's provenance, its settings (every other top-level field, whatever it is) and its cohorts.

    A wind release lists its cohorts in ``cohorts``; a solar release (``kind`` "solar") in
    ``solar_cohorts``, with the solar spec it was summed for in ``solar``.
    """

    kind: str  # "wind" or "solar"
    provenance: dict[str, Any]
    settings: dict[str, Any]
    indicator_spec_id: str
    cohorts: list[CohortSummary]
    solar_cohorts: list[SolarCohortSummary]
    solar: SolarSpecOut | None = None
    indicators: list[str]


class PowerCurveBinOut(BaseModel):
    """One wind-speed bin (release.proto PowerCurveBin): statistics absent when suppressed."""

    wind_speed_centre: float
    suppressed: bool
    suppression_reason: str
    record_count: int | None = None
    operator_count: int | None = None
    mean_wind_speed: float | None = None
    mean_power: float | None = None
    std_power: float | None = None
    p10_normalised_power: float | None = None
    p50_normalised_power: float | None = None
    p90_normalised_power: float | None = None
    mean_power_per_unit: float | None = None
    std_power_per_unit: float | None = None
    uncertainty_power: float | None = None
    uncertainty_power_per_unit: float | None = None
    power_coefficient: float | None = None
    noisy_record_weight: float | None = None
    p50_noise_stddev: float | None = None


class CompletenessOut(BaseModel):
    """Database completeness (IEC 61400-12-1:2017, 8.3)."""

    complete: bool
    hours: float
    from_wind_speed: float
    to_wind_speed: float
    short_bins: list[float]
    interpolated_bins: list[float]


class AnnualEnergyOut(BaseModel):
    """AEP for a Rayleigh mean wind speed, in full-load hours [h]."""

    mean_wind_speed: float
    measured_full_load_hours: float
    extrapolated_full_load_hours: float
    interpolated_share: float


class CohortCurveOut(BaseModel):
    """A cohort's industry power curve, completeness and AEP table."""

    release_id: int
    cohort: str
    turbine_model: str
    suppressed: bool
    suppression_reason: str
    operator_count: int | None = None
    bins: list[PowerCurveBinOut]
    completeness: CompletenessOut | None = None
    aep: list[AnnualEnergyOut]
    aep_note: str
    wind_speed_reference: str  # NACELLE_ANEMOMETER, NACELLE_TRANSFER_FUNCTION or MET_MAST
    implausible_power_coefficient_bins: list[float]


class SolarCurveBinOut(BaseModel):
    """One in-plane irradiance bin of a solar curve (release.proto SolarCurveBin): statistics absent when suppressed."""

    irradiance_centre: float
    suppressed: bool
    suppression_reason: str
    record_count: int | None = None
    operator_count: int | None = None
    mean_specific_power: float | None = None
    std_specific_power: float | None = None
    p10_specific_power: float | None = None
    p50_specific_power: float | None = None
    p90_specific_power: float | None = None
    noisy_record_weight: float | None = None
    p50_noise_stddev: float | None = None


class SolarCurveOut(BaseModel):
    """A solar cohort's energy-normalised curve: specific power [kW/kWp] per in-plane irradiance bin [W/m^2]."""

    release_id: int
    cohort: str
    bins: list[SolarCurveBinOut]


class DistributionOut(BaseModel):
    """An industry distribution of one indicator in one cohort, with its percentiles."""

    cohort: str
    indicator: str
    counts_of: str
    bins: BinGridOut | None = None
    suppressed: bool
    suppression_reason: str
    counts: list[int]
    operator_count: int | None = None
    p10: float | None = None
    p25: float | None = None
    p50: float | None = None
    p75: float | None = None
    p90: float | None = None
    month: str  # "YYYY-MM" of a monthly distribution; "" for the whole period
    count_noise_stddev: float | None = None  # differentially private: the noise on each bar [counts_of]
    p50_noise_stddev: float | None = None  # differentially private: the P50's standard deviation from it


class ModelOut(BaseModel):
    """A cohort's normal-behaviour model (the anomaly baseline of one temperature channel)."""

    cohort: str
    target: str
    features: list[str]
    coefficients: list[float]
    ridge_lambda: float
    suppressed: bool
    suppression_reason: str
    record_count: int | None = None
    operator_count: int | None = None
    residual_std: float | None = None


class FailureRateOut(BaseModel):
    """Failures per turbine-year of one component in one turbine-age band (age_to_years 0: open band)."""

    cohort: str
    component: str
    age_from_years: float
    age_to_years: float
    suppressed: bool
    suppression_reason: str
    failures: int | None = None
    turbine_years: float | None = None
    failures_per_turbine_year: float | None = None
    mean_downtime_hours: float | None = None
    operator_count: int | None = None


class SolarFailureRateOut(BaseModel):
    """Failures of one component of a solar cohort's plants per inverter-year they were observed."""

    cohort: str
    component: str
    suppressed: bool
    suppression_reason: str
    failures: int | None = None
    inverter_years: float | None = None
    failures_per_inverter_year: float | None = None
    mean_downtime_hours: float | None = None
    operator_count: int | None = None
    failures_noise_stddev: float | None = None
    inverter_years_noise_stddev: float | None = None
    rate_noise_stddev: float | None = None
    downtime_hours: float | None = None
    downtime_noise_stddev: float | None = None
    mean_downtime_noise_stddev: float | None = None


class LostProductionOut(BaseModel):
    """Lost production of one IEC 61400-26 category as a share of potential production."""

    cohort: str
    category: str
    suppressed: bool
    suppression_reason: str
    share_of_potential: float | None = None


FOLLOWS_PROTO: dict[type[BaseModel], type[Message]] = {
    PowerCurveBinOut: release_pb2.PowerCurveBin,
    CompletenessOut: release_pb2.Completeness,
    AnnualEnergyOut: release_pb2.AnnualEnergy,
    CohortCurveOut: release_pb2.CohortCurve,
    BinGridOut: spec_pb2.BinGrid,
    DistributionOut: release_pb2.Distribution,
    ModelOut: release_pb2.NormalBehaviourModelFit,
    FailureRateOut: release_pb2.FailureRate,
    SolarFailureRateOut: release_pb2.SolarFailureRate,
    LostProductionOut: release_pb2.LostProduction,
    SolarCurveBinOut: release_pb2.SolarCurveBin,
    SolarCurveOut: release_pb2.SolarCurve,
    SolarSpecOut: spec_pb2.SolarSpec,
}
"""API model -> the proto message it serves, field for field.

A model has every field of its message under the same name: ``X | None = None`` where the field has
presence (``optional``, or a message), ``list[X]`` where it is repeated, a message's own API model in
place of the message. tests/server/dashboard/test_api.py fails, naming the field, when the two differ,
so a field added to the .proto cannot drop out of the API unnoticed.
"""

ADDED_BY_API: dict[type[BaseModel], frozenset[str]] = {
    CohortCurveOut: frozenset({"release_id"}),
    SolarCurveOut: frozenset({"release_id"}),
}
"""The fields an API model adds to its proto message on purpose: the only ones the message may lack."""


class CurveTrendPoint(BaseModel):
    """A cohort's curve in one release of the trend."""

    release: StoredRelease
    curve: CohortCurveOut


class SolarCurveTrendPoint(BaseModel):
    """A solar cohort's curve in one release of the trend."""

    release: StoredRelease
    curve: SolarCurveOut


class DistributionTrendPoint(BaseModel):
    """An indicator's industry distribution in one release of the trend."""

    release: StoredRelease
    distribution: DistributionOut


def _fields(message: Message) -> dict[str, Any]:
    """A message's fields by their .proto names; unset optional fields left out (so they become None)."""
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def as_api(model: type[Out], message: Message) -> Out:
    """``message`` as its API model ``model`` (one of FOLLOWS_PROTO's): the one way a message becomes one."""
    return model(**_fields(message))


def release_kind(release: release_pb2.Release) -> str:
    """``"solar"`` for a solar release (it carries its solar spec), else ``"wind"``."""
    return "solar" if release.HasField("solar") or release.solar_curves else "wind"


def release_detail(row: StoredRelease, release: release_pb2.Release) -> ReleaseDetail:
    """Provenance, settings and cohorts of ``release``."""
    everything = release_to_dict(release)
    return ReleaseDetail(
        **row.model_dump(),
        kind=release_kind(release),
        provenance=everything["provenance"],
        settings={key: value for key, value in everything.items() if key not in CONTENT_FIELDS},
        indicator_spec_id=release.indicator_spec.spec_id,
        cohorts=[
            CohortSummary(
                cohort=c.cohort,
                turbine_model=c.turbine_model,
                suppressed=c.suppressed,
                suppression_reason=c.suppression_reason,
                operator_count=c.operator_count if c.HasField("operator_count") else None,
                bins_released=sum(not b.suppressed for b in c.bins),
                bins_suppressed=sum(b.suppressed for b in c.bins),
                complete=c.completeness.complete,
            )
            for c in release.curves
        ],
        solar_cohorts=[solar_cohort_summary(release, c) for c in release.solar_curves],
        solar=as_api(SolarSpecOut, release.solar) if release.HasField("solar") else None,
        indicators=list(dict.fromkeys(d.indicator for d in release.distributions)),
    )


def solar_cohort_summary(release: release_pb2.Release, curve: release_pb2.SolarCurve) -> SolarCohortSummary:
    """How much of a solar cohort's curve and distributions ``release`` publishes."""
    operators = [b.operator_count for b in curve.bins if b.HasField("operator_count")]
    distributions = [d for d in release.distributions if d.cohort == curve.cohort]
    return SolarCohortSummary(
        cohort=curve.cohort,
        operator_count=max(operators) if operators else None,
        bins_released=sum(not b.suppressed for b in curve.bins),
        bins_suppressed=sum(b.suppressed for b in curve.bins),
        distributions_released=sum(not d.suppressed for d in distributions),
        distributions_suppressed=sum(d.suppressed for d in distributions),
    )


def cohort_names(release: release_pb2.Release) -> list[str]:
    """Every cohort of ``release``, wind and solar, in release order."""
    return [c.cohort for c in release.curves] + [c.cohort for c in release.solar_curves]


def check_cohort(release: release_pb2.Release, release_id: int, cohort: str) -> None:
    """Nothing when ``release`` has ``cohort`` (wind or solar); else a 404 naming its cohorts."""
    if cohort not in cohort_names(release):
        raise HTTPException(404, f"release {release_id} has no cohort {cohort!r}; cohorts: {cohort_names(release)}")


def cohort_curve(release: release_pb2.Release, release_id: int, cohort: str) -> release_pb2.CohortCurve:
    """The curve of ``cohort`` in ``release``.

    Raises
    ------
    HTTPException
        404 naming the release's cohorts when it has no such cohort, and saying so when it is a solar one.
    """
    for curve in release.curves:
        if curve.cohort == cohort:
            return curve
    check_cohort(release, release_id, cohort)
    raise HTTPException(
        404, f"cohort {cohort!r} of release {release_id} is a solar cohort: its curve is at /solar-curve"
    )


def solar_curve(release: release_pb2.Release, release_id: int, cohort: str) -> release_pb2.SolarCurve:
    """The energy-normalised curve of solar cohort ``cohort`` in ``release`` (404 naming the cohorts when absent)."""
    for curve in release.solar_curves:
        if curve.cohort == cohort:
            return curve
    check_cohort(release, release_id, cohort)
    raise HTTPException(404, f"cohort {cohort!r} of release {release_id} is a wind cohort: its curve is at /curve")


def solar_curve_out(curve: release_pb2.SolarCurve, release_id: int) -> SolarCurveOut:
    """The API's view of a solar cohort's curve."""
    return SolarCurveOut(release_id=release_id, **_fields(curve))


def curve_out(curve: release_pb2.CohortCurve, release_id: int) -> CohortCurveOut:
    """The API's view of a cohort curve."""
    fields = _fields(curve)
    if not curve.HasField("completeness"):
        fields.pop("completeness", None)
    return CohortCurveOut(release_id=release_id, **fields)


class Releases:
    """Looks releases up for the routes, turning an unknown id into a 404."""

    def __init__(self, store: ReleaseStore) -> None:
        self.store = store

    def row(self, release_id: int) -> StoredRelease:
        """The store row of ``release_id`` (404 when absent)."""
        for row in self.store.releases():
            if row.release_id == release_id:
                return row
        known = [r.release_id for r in self.store.releases()]
        raise HTTPException(404, f"no release {release_id} in the store; releases: {known}")

    def get(self, release_id: int) -> release_pb2.Release:
        """Release ``release_id`` (404 when absent)."""
        try:
            return self.store.release(release_id)
        except UnknownReleaseError as exc:
            raise HTTPException(404, str(exc)) from None


def _releases(request: Request) -> Releases:
    releases: Releases = request.app.state.releases
    return releases


ReleasesDep = Annotated[Releases, Depends(_releases)]
CohortName = Annotated[str, Query(min_length=1, description="cohort name, e.g. E-82/2300 or 1500-3000 kW")]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "no valid member token"},
    404: {"model": ErrorOut, "description": "unknown release, cohort or indicator"},
}

# Declares bearer authentication in the OpenAPI schema; the check itself is the app's gate (app.py),
# which refuses every unauthenticated request before it reaches a route.
router = APIRouter(prefix="/api", responses=ERRORS, dependencies=[Depends(HTTPBearer(auto_error=False))])


@router.get("/releases", response_model=list[StoredRelease], summary="Every release in the store")
def list_releases(releases: ReleasesDep) -> list[StoredRelease]:
    """Every release, oldest period first."""
    return releases.store.releases()


@router.get("/releases/{release_id}", response_model=ReleaseDetail, summary="A release's provenance and cohorts")
def get_release(release_id: int, releases: ReleasesDep) -> ReleaseDetail:
    """Provenance, settings (privacy and disclosure settings included) and cohorts of one release."""
    return release_detail(releases.row(release_id), releases.get(release_id))


@router.get("/releases/{release_id}/curve", response_model=CohortCurveOut, summary="A cohort's industry power curve")
def get_curve(release_id: int, cohort: CohortName, releases: ReleasesDep) -> CohortCurveOut:
    """Bins (P10/P50/P90, mean, Cp, counts; suppressed bins with their reason), completeness and AEP."""
    return curve_out(cohort_curve(releases.get(release_id), release_id, cohort), release_id)


@router.get(
    "/releases/{release_id}/solar-curve",
    response_model=SolarCurveOut,
    summary="A solar cohort's energy-normalised curve",
)
def get_solar_curve(release_id: int, cohort: CohortName, releases: ReleasesDep) -> SolarCurveOut:
    """Specific power per in-plane irradiance bin (P10/P50/P90, mean, counts; suppressed bins with their reason)."""
    return solar_curve_out(solar_curve(releases.get(release_id), release_id, cohort), release_id)


@router.get(
    "/releases/{release_id}/distributions",
    response_model=list[DistributionOut],
    summary="Industry distributions (KPIs and model residuals)",
)
def get_distributions(
    release_id: int,
    releases: ReleasesDep,
    cohort: Annotated[str | None, Query(description="only this cohort")] = None,
    indicator: Annotated[str | None, Query(description="only this indicator, e.g. performance_index")] = None,
) -> list[DistributionOut]:
    """Histograms with P10..P90 of each cohort's indicators.

    Wind: performance index, yaw misalignment, availability and model residuals. Solar: performance
    ratio (plain and STC), degradation rate and its interval, soiling loss, clipping and inverter availability.
    """
    release = releases.get(release_id)
    if cohort is not None:
        check_cohort(release, release_id, cohort)
    known = list(dict.fromkeys(d.indicator for d in release.distributions))
    if indicator is not None and indicator not in known:
        raise HTTPException(404, f"release {release_id} has no indicator {indicator!r}; indicators: {known}")
    return [
        as_api(DistributionOut, d)
        for d in release.distributions
        if (cohort is None or d.cohort == cohort) and (indicator is None or d.indicator == indicator)
    ]


@router.get(
    "/releases/{release_id}/monthly",
    response_model=list[DistributionOut],
    summary="Industry distributions month by month (performance index, time availability)",
)
def get_monthly(
    release_id: int,
    releases: ReleasesDep,
    cohort: Annotated[str | None, Query(description="only this cohort")] = None,
    indicator: Annotated[str | None, Query(description="only this indicator, e.g. time_availability")] = None,
) -> list[DistributionOut]:
    """Each calendar month's histogram with P10..P90; a month one too few members covered is suppressed."""
    release = releases.get(release_id)
    if cohort is not None:
        check_cohort(release, release_id, cohort)
    return [
        as_api(DistributionOut, d)
        for d in release.monthly_distributions
        if (cohort is None or d.cohort == cohort) and (indicator is None or d.indicator == indicator)
    ]


@router.get("/releases/{release_id}/models", response_model=list[ModelOut], summary="Normal-behaviour models")
def get_models(release_id: int, releases: ReleasesDep, cohort: Annotated[str | None, Query()] = None) -> list[ModelOut]:
    """The anomaly baselines: each cohort's temperature models and their residual spread."""
    release = releases.get(release_id)
    if cohort is not None:
        check_cohort(release, release_id, cohort)
    return [as_api(ModelOut, m) for m in release.models if cohort is None or m.cohort == cohort]


@router.get("/releases/{release_id}/failure-rates", response_model=list[FailureRateOut], summary="Failure rates")
def get_failure_rates(
    release_id: int, releases: ReleasesDep, cohort: Annotated[str | None, Query()] = None
) -> list[FailureRateOut]:
    """Failures per turbine-year by component and turbine-age band."""
    release = releases.get(release_id)
    if cohort is not None:
        check_cohort(release, release_id, cohort)
    return [as_api(FailureRateOut, r) for r in release.failure_rates if cohort is None or r.cohort == cohort]


@router.get(
    "/releases/{release_id}/solar-failure-rates",
    response_model=list[SolarFailureRateOut],
    summary="Solar failure rates",
)
def get_solar_failure_rates(
    release_id: int, releases: ReleasesDep, cohort: Annotated[str | None, Query()] = None
) -> list[SolarFailureRateOut]:
    """A solar release's failures per inverter-year by component."""
    release = releases.get(release_id)
    if cohort is not None:
        check_cohort(release, release_id, cohort)
    return [as_api(SolarFailureRateOut, r) for r in release.solar_failure_rates if cohort is None or r.cohort == cohort]


@router.get("/releases/{release_id}/lost-production", response_model=list[LostProductionOut], summary="Lost production")
def get_lost_production(
    release_id: int, releases: ReleasesDep, cohort: Annotated[str | None, Query()] = None
) -> list[LostProductionOut]:
    """Lost production by IEC 61400-26 category, as a share of potential production."""
    release = releases.get(release_id)
    if cohort is not None:
        check_cohort(release, release_id, cohort)
    return [as_api(LostProductionOut, x) for x in release.lost_production if cohort is None or x.cohort == cohort]


def curve_trend(releases: Releases, cohort: str) -> list[tuple[StoredRelease, release_pb2.CohortCurve]]:
    """The cohort's curve in every release that has it, oldest period first (404 when none does)."""
    points = []
    for row in releases.store.releases():
        curve = next((c for c in releases.get(row.release_id).curves if c.cohort == cohort), None)
        if curve is not None:
            points.append((row, curve))
    if not points:
        raise HTTPException(404, f"no release has a cohort {cohort!r}")
    return points


def solar_curve_trend(releases: Releases, cohort: str) -> list[tuple[StoredRelease, release_pb2.SolarCurve]]:
    """The solar cohort's curve in every release that has it, oldest period first (404 when none does)."""
    points = []
    for row in releases.store.releases():
        curve = next((c for c in releases.get(row.release_id).solar_curves if c.cohort == cohort), None)
        if curve is not None:
            points.append((row, curve))
    if not points:
        raise HTTPException(404, f"no release has a solar cohort {cohort!r}")
    return points


def distribution_trend(
    releases: Releases, cohort: str, indicator: str
) -> list[tuple[StoredRelease, release_pb2.Distribution]]:
    """The indicator's distribution in every release that has it, oldest period first (404 when none does)."""
    points = []
    for row in releases.store.releases():
        found = [
            d for d in releases.get(row.release_id).distributions if (d.cohort, d.indicator) == (cohort, indicator)
        ]
        points += [(row, d) for d in found]
    if not points:
        raise HTTPException(404, f"no release has a distribution of {indicator!r} in cohort {cohort!r}")
    return points


def monthly_trend(
    releases: Releases, cohort: str, indicator: str
) -> list[tuple[StoredRelease, release_pb2.Distribution]]:
    """The indicator's monthly distributions of the cohort in every release, month by month (none: empty).

    A month two releases cover (a rerun for another spec) is taken from the later release.
    """
    by_month = {}
    for row in releases.store.releases():
        for d in releases.get(row.release_id).monthly_distributions:
            if (d.cohort, d.indicator) == (cohort, indicator):
                by_month[d.month] = (row, d)
    return [by_month[month] for month in sorted(by_month)]


@router.get("/trends/curve", response_model=list[CurveTrendPoint], summary="A cohort's curve across releases")
def get_curve_trend(cohort: CohortName, releases: ReleasesDep) -> list[CurveTrendPoint]:
    """The cohort's curve in every release that has it, oldest period first."""
    return [
        CurveTrendPoint(release=row, curve=curve_out(curve, row.release_id))
        for row, curve in curve_trend(releases, cohort)
    ]


@router.get(
    "/trends/solar-curve", response_model=list[SolarCurveTrendPoint], summary="A solar cohort's curve across releases"
)
def get_solar_curve_trend(cohort: CohortName, releases: ReleasesDep) -> list[SolarCurveTrendPoint]:
    """The solar cohort's energy-normalised curve in every release that has it, oldest period first."""
    return [
        SolarCurveTrendPoint(release=row, curve=solar_curve_out(curve, row.release_id))
        for row, curve in solar_curve_trend(releases, cohort)
    ]


@router.get("/trends/distribution", response_model=list[DistributionTrendPoint], summary="An indicator across releases")
def get_distribution_trend(
    cohort: CohortName,
    releases: ReleasesDep,
    indicator: Annotated[str, Query(min_length=1, description="e.g. performance_index")] = "performance_index",
) -> list[DistributionTrendPoint]:
    """The indicator's industry distribution and percentiles in every release that has it."""
    return [
        DistributionTrendPoint(release=row, distribution=as_api(DistributionOut, d))
        for row, d in distribution_trend(releases, cohort, indicator)
    ]
