from protos.fleetbench.v1 import spec_pb2 as _spec_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PowerCurveBin(_message.Message):
    __slots__ = ("wind_speed_centre", "suppressed", "suppression_reason", "record_count", "operator_count", "mean_wind_speed", "mean_power", "std_power", "p10_normalised_power", "p50_normalised_power", "p90_normalised_power", "mean_power_per_unit", "std_power_per_unit", "uncertainty_power", "uncertainty_power_per_unit", "power_coefficient", "noisy_record_weight", "p50_noise_stddev")
    WIND_SPEED_CENTRE_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSED_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSION_REASON_FIELD_NUMBER: _ClassVar[int]
    RECORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_COUNT_FIELD_NUMBER: _ClassVar[int]
    MEAN_WIND_SPEED_FIELD_NUMBER: _ClassVar[int]
    MEAN_POWER_FIELD_NUMBER: _ClassVar[int]
    STD_POWER_FIELD_NUMBER: _ClassVar[int]
    P10_NORMALISED_POWER_FIELD_NUMBER: _ClassVar[int]
    P50_NORMALISED_POWER_FIELD_NUMBER: _ClassVar[int]
    P90_NORMALISED_POWER_FIELD_NUMBER: _ClassVar[int]
    MEAN_POWER_PER_UNIT_FIELD_NUMBER: _ClassVar[int]
    STD_POWER_PER_UNIT_FIELD_NUMBER: _ClassVar[int]
    UNCERTAINTY_POWER_FIELD_NUMBER: _ClassVar[int]
    UNCERTAINTY_POWER_PER_UNIT_FIELD_NUMBER: _ClassVar[int]
    POWER_COEFFICIENT_FIELD_NUMBER: _ClassVar[int]
    NOISY_RECORD_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    P50_NOISE_STDDEV_FIELD_NUMBER: _ClassVar[int]
    wind_speed_centre: float
    suppressed: bool
    suppression_reason: str
    record_count: int
    operator_count: int
    mean_wind_speed: float
    mean_power: float
    std_power: float
    p10_normalised_power: float
    p50_normalised_power: float
    p90_normalised_power: float
    mean_power_per_unit: float
    std_power_per_unit: float
    uncertainty_power: float
    uncertainty_power_per_unit: float
    power_coefficient: float
    noisy_record_weight: float
    p50_noise_stddev: float
    def __init__(self, wind_speed_centre: _Optional[float] = ..., suppressed: _Optional[bool] = ..., suppression_reason: _Optional[str] = ..., record_count: _Optional[int] = ..., operator_count: _Optional[int] = ..., mean_wind_speed: _Optional[float] = ..., mean_power: _Optional[float] = ..., std_power: _Optional[float] = ..., p10_normalised_power: _Optional[float] = ..., p50_normalised_power: _Optional[float] = ..., p90_normalised_power: _Optional[float] = ..., mean_power_per_unit: _Optional[float] = ..., std_power_per_unit: _Optional[float] = ..., uncertainty_power: _Optional[float] = ..., uncertainty_power_per_unit: _Optional[float] = ..., power_coefficient: _Optional[float] = ..., noisy_record_weight: _Optional[float] = ..., p50_noise_stddev: _Optional[float] = ...) -> None: ...

class Completeness(_message.Message):
    __slots__ = ("complete", "hours", "from_wind_speed", "to_wind_speed", "short_bins", "interpolated_bins")
    COMPLETE_FIELD_NUMBER: _ClassVar[int]
    HOURS_FIELD_NUMBER: _ClassVar[int]
    FROM_WIND_SPEED_FIELD_NUMBER: _ClassVar[int]
    TO_WIND_SPEED_FIELD_NUMBER: _ClassVar[int]
    SHORT_BINS_FIELD_NUMBER: _ClassVar[int]
    INTERPOLATED_BINS_FIELD_NUMBER: _ClassVar[int]
    complete: bool
    hours: float
    from_wind_speed: float
    to_wind_speed: float
    short_bins: _containers.RepeatedScalarFieldContainer[float]
    interpolated_bins: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, complete: _Optional[bool] = ..., hours: _Optional[float] = ..., from_wind_speed: _Optional[float] = ..., to_wind_speed: _Optional[float] = ..., short_bins: _Optional[_Iterable[float]] = ..., interpolated_bins: _Optional[_Iterable[float]] = ...) -> None: ...

class AnnualEnergy(_message.Message):
    __slots__ = ("mean_wind_speed", "measured_full_load_hours", "extrapolated_full_load_hours", "interpolated_share")
    MEAN_WIND_SPEED_FIELD_NUMBER: _ClassVar[int]
    MEASURED_FULL_LOAD_HOURS_FIELD_NUMBER: _ClassVar[int]
    EXTRAPOLATED_FULL_LOAD_HOURS_FIELD_NUMBER: _ClassVar[int]
    INTERPOLATED_SHARE_FIELD_NUMBER: _ClassVar[int]
    mean_wind_speed: float
    measured_full_load_hours: float
    extrapolated_full_load_hours: float
    interpolated_share: float
    def __init__(self, mean_wind_speed: _Optional[float] = ..., measured_full_load_hours: _Optional[float] = ..., extrapolated_full_load_hours: _Optional[float] = ..., interpolated_share: _Optional[float] = ...) -> None: ...

class CohortCurve(_message.Message):
    __slots__ = ("cohort", "turbine_model", "suppressed", "suppression_reason", "operator_count", "bins", "completeness", "aep", "aep_note", "wind_speed_reference", "implausible_power_coefficient_bins")
    COHORT_FIELD_NUMBER: _ClassVar[int]
    TURBINE_MODEL_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSED_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSION_REASON_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_COUNT_FIELD_NUMBER: _ClassVar[int]
    BINS_FIELD_NUMBER: _ClassVar[int]
    COMPLETENESS_FIELD_NUMBER: _ClassVar[int]
    AEP_FIELD_NUMBER: _ClassVar[int]
    AEP_NOTE_FIELD_NUMBER: _ClassVar[int]
    WIND_SPEED_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    IMPLAUSIBLE_POWER_COEFFICIENT_BINS_FIELD_NUMBER: _ClassVar[int]
    cohort: str
    turbine_model: str
    suppressed: bool
    suppression_reason: str
    operator_count: int
    bins: _containers.RepeatedCompositeFieldContainer[PowerCurveBin]
    completeness: Completeness
    aep: _containers.RepeatedCompositeFieldContainer[AnnualEnergy]
    aep_note: str
    wind_speed_reference: _spec_pb2.WindSpeedReference
    implausible_power_coefficient_bins: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, cohort: _Optional[str] = ..., turbine_model: _Optional[str] = ..., suppressed: _Optional[bool] = ..., suppression_reason: _Optional[str] = ..., operator_count: _Optional[int] = ..., bins: _Optional[_Iterable[_Union[PowerCurveBin, _Mapping]]] = ..., completeness: _Optional[_Union[Completeness, _Mapping]] = ..., aep: _Optional[_Iterable[_Union[AnnualEnergy, _Mapping]]] = ..., aep_note: _Optional[str] = ..., wind_speed_reference: _Optional[_Union[_spec_pb2.WindSpeedReference, str]] = ..., implausible_power_coefficient_bins: _Optional[_Iterable[float]] = ...) -> None: ...

class Provenance(_message.Message):
    __slots__ = ("spec_sha256", "participants", "suppressed_cells", "flower_run_id", "created_utc", "method", "indicator_spec_sha256", "indicator_participants")
    SPEC_SHA256_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSED_CELLS_FIELD_NUMBER: _ClassVar[int]
    FLOWER_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    CREATED_UTC_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    INDICATOR_SPEC_SHA256_FIELD_NUMBER: _ClassVar[int]
    INDICATOR_PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    spec_sha256: str
    participants: int
    suppressed_cells: int
    flower_run_id: str
    created_utc: str
    method: str
    indicator_spec_sha256: str
    indicator_participants: int
    def __init__(self, spec_sha256: _Optional[str] = ..., participants: _Optional[int] = ..., suppressed_cells: _Optional[int] = ..., flower_run_id: _Optional[str] = ..., created_utc: _Optional[str] = ..., method: _Optional[str] = ..., indicator_spec_sha256: _Optional[str] = ..., indicator_participants: _Optional[int] = ...) -> None: ...

class NormalBehaviourModelFit(_message.Message):
    __slots__ = ("cohort", "target", "features", "coefficients", "ridge_lambda", "suppressed", "suppression_reason", "record_count", "operator_count", "residual_std")
    COHORT_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    COEFFICIENTS_FIELD_NUMBER: _ClassVar[int]
    RIDGE_LAMBDA_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSED_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSION_REASON_FIELD_NUMBER: _ClassVar[int]
    RECORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_COUNT_FIELD_NUMBER: _ClassVar[int]
    RESIDUAL_STD_FIELD_NUMBER: _ClassVar[int]
    cohort: str
    target: str
    features: _containers.RepeatedScalarFieldContainer[str]
    coefficients: _containers.RepeatedScalarFieldContainer[float]
    ridge_lambda: float
    suppressed: bool
    suppression_reason: str
    record_count: int
    operator_count: int
    residual_std: float
    def __init__(self, cohort: _Optional[str] = ..., target: _Optional[str] = ..., features: _Optional[_Iterable[str]] = ..., coefficients: _Optional[_Iterable[float]] = ..., ridge_lambda: _Optional[float] = ..., suppressed: _Optional[bool] = ..., suppression_reason: _Optional[str] = ..., record_count: _Optional[int] = ..., operator_count: _Optional[int] = ..., residual_std: _Optional[float] = ...) -> None: ...

class Distribution(_message.Message):
    __slots__ = ("cohort", "indicator", "counts_of", "bins", "suppressed", "suppression_reason", "counts", "operator_count", "p10", "p25", "p50", "p75", "p90", "month", "count_noise_stddev", "p50_noise_stddev")
    COHORT_FIELD_NUMBER: _ClassVar[int]
    INDICATOR_FIELD_NUMBER: _ClassVar[int]
    COUNTS_OF_FIELD_NUMBER: _ClassVar[int]
    BINS_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSED_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSION_REASON_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_COUNT_FIELD_NUMBER: _ClassVar[int]
    P10_FIELD_NUMBER: _ClassVar[int]
    P25_FIELD_NUMBER: _ClassVar[int]
    P50_FIELD_NUMBER: _ClassVar[int]
    P75_FIELD_NUMBER: _ClassVar[int]
    P90_FIELD_NUMBER: _ClassVar[int]
    MONTH_FIELD_NUMBER: _ClassVar[int]
    COUNT_NOISE_STDDEV_FIELD_NUMBER: _ClassVar[int]
    P50_NOISE_STDDEV_FIELD_NUMBER: _ClassVar[int]
    cohort: str
    indicator: str
    counts_of: str
    bins: _spec_pb2.BinGrid
    suppressed: bool
    suppression_reason: str
    counts: _containers.RepeatedScalarFieldContainer[int]
    operator_count: int
    p10: float
    p25: float
    p50: float
    p75: float
    p90: float
    month: str
    count_noise_stddev: float
    p50_noise_stddev: float
    def __init__(self, cohort: _Optional[str] = ..., indicator: _Optional[str] = ..., counts_of: _Optional[str] = ..., bins: _Optional[_Union[_spec_pb2.BinGrid, _Mapping]] = ..., suppressed: _Optional[bool] = ..., suppression_reason: _Optional[str] = ..., counts: _Optional[_Iterable[int]] = ..., operator_count: _Optional[int] = ..., p10: _Optional[float] = ..., p25: _Optional[float] = ..., p50: _Optional[float] = ..., p75: _Optional[float] = ..., p90: _Optional[float] = ..., month: _Optional[str] = ..., count_noise_stddev: _Optional[float] = ..., p50_noise_stddev: _Optional[float] = ...) -> None: ...

class FailureRate(_message.Message):
    __slots__ = ("cohort", "component", "age_from_years", "age_to_years", "suppressed", "suppression_reason", "failures", "turbine_years", "failures_per_turbine_year", "mean_downtime_hours", "operator_count")
    COHORT_FIELD_NUMBER: _ClassVar[int]
    COMPONENT_FIELD_NUMBER: _ClassVar[int]
    AGE_FROM_YEARS_FIELD_NUMBER: _ClassVar[int]
    AGE_TO_YEARS_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSED_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSION_REASON_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    TURBINE_YEARS_FIELD_NUMBER: _ClassVar[int]
    FAILURES_PER_TURBINE_YEAR_FIELD_NUMBER: _ClassVar[int]
    MEAN_DOWNTIME_HOURS_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_COUNT_FIELD_NUMBER: _ClassVar[int]
    cohort: str
    component: str
    age_from_years: float
    age_to_years: float
    suppressed: bool
    suppression_reason: str
    failures: int
    turbine_years: float
    failures_per_turbine_year: float
    mean_downtime_hours: float
    operator_count: int
    def __init__(self, cohort: _Optional[str] = ..., component: _Optional[str] = ..., age_from_years: _Optional[float] = ..., age_to_years: _Optional[float] = ..., suppressed: _Optional[bool] = ..., suppression_reason: _Optional[str] = ..., failures: _Optional[int] = ..., turbine_years: _Optional[float] = ..., failures_per_turbine_year: _Optional[float] = ..., mean_downtime_hours: _Optional[float] = ..., operator_count: _Optional[int] = ...) -> None: ...

class LostProduction(_message.Message):
    __slots__ = ("cohort", "category", "suppressed", "suppression_reason", "share_of_potential")
    COHORT_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSED_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSION_REASON_FIELD_NUMBER: _ClassVar[int]
    SHARE_OF_POTENTIAL_FIELD_NUMBER: _ClassVar[int]
    cohort: str
    category: str
    suppressed: bool
    suppression_reason: str
    share_of_potential: float
    def __init__(self, cohort: _Optional[str] = ..., category: _Optional[str] = ..., suppressed: _Optional[bool] = ..., suppression_reason: _Optional[str] = ..., share_of_potential: _Optional[float] = ...) -> None: ...

class PrivacyParameters(_message.Message):
    __slots__ = ("privacy_unit", "rho", "epsilon", "delta", "max_records_per_turbine_per_bin", "min_noise_sites", "cell_noise_stddev", "note", "operator_epsilon")
    class CellNoiseStddevEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    class OperatorEpsilonEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: int
        value: float
        def __init__(self, key: _Optional[int] = ..., value: _Optional[float] = ...) -> None: ...
    PRIVACY_UNIT_FIELD_NUMBER: _ClassVar[int]
    RHO_FIELD_NUMBER: _ClassVar[int]
    EPSILON_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    MAX_RECORDS_PER_TURBINE_PER_BIN_FIELD_NUMBER: _ClassVar[int]
    MIN_NOISE_SITES_FIELD_NUMBER: _ClassVar[int]
    CELL_NOISE_STDDEV_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_EPSILON_FIELD_NUMBER: _ClassVar[int]
    privacy_unit: str
    rho: float
    epsilon: float
    delta: float
    max_records_per_turbine_per_bin: int
    min_noise_sites: int
    cell_noise_stddev: _containers.ScalarMap[str, float]
    note: str
    operator_epsilon: _containers.ScalarMap[int, float]
    def __init__(self, privacy_unit: _Optional[str] = ..., rho: _Optional[float] = ..., epsilon: _Optional[float] = ..., delta: _Optional[float] = ..., max_records_per_turbine_per_bin: _Optional[int] = ..., min_noise_sites: _Optional[int] = ..., cell_noise_stddev: _Optional[_Mapping[str, float]] = ..., note: _Optional[str] = ..., operator_epsilon: _Optional[_Mapping[int, float]] = ...) -> None: ...

class Release(_message.Message):
    __slots__ = ("contract", "spec_id", "period", "k_min_operators", "provenance", "curves", "percentile_resolution", "reference_air_density", "filters", "dominance_max_share", "models", "distributions", "failure_rates", "lost_production", "training_period", "indicator_spec", "privacy", "monthly_distributions", "solar_curves", "solar", "solar_failure_rates")
    CONTRACT_FIELD_NUMBER: _ClassVar[int]
    SPEC_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    K_MIN_OPERATORS_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    CURVES_FIELD_NUMBER: _ClassVar[int]
    PERCENTILE_RESOLUTION_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_AIR_DENSITY_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    DOMINANCE_MAX_SHARE_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    DISTRIBUTIONS_FIELD_NUMBER: _ClassVar[int]
    FAILURE_RATES_FIELD_NUMBER: _ClassVar[int]
    LOST_PRODUCTION_FIELD_NUMBER: _ClassVar[int]
    TRAINING_PERIOD_FIELD_NUMBER: _ClassVar[int]
    INDICATOR_SPEC_FIELD_NUMBER: _ClassVar[int]
    PRIVACY_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_DISTRIBUTIONS_FIELD_NUMBER: _ClassVar[int]
    SOLAR_CURVES_FIELD_NUMBER: _ClassVar[int]
    SOLAR_FIELD_NUMBER: _ClassVar[int]
    SOLAR_FAILURE_RATES_FIELD_NUMBER: _ClassVar[int]
    contract: str
    spec_id: str
    period: _spec_pb2.Period
    k_min_operators: int
    provenance: Provenance
    curves: _containers.RepeatedCompositeFieldContainer[CohortCurve]
    percentile_resolution: float
    reference_air_density: float
    filters: _containers.RepeatedCompositeFieldContainer[_spec_pb2.Filter]
    dominance_max_share: float
    models: _containers.RepeatedCompositeFieldContainer[NormalBehaviourModelFit]
    distributions: _containers.RepeatedCompositeFieldContainer[Distribution]
    failure_rates: _containers.RepeatedCompositeFieldContainer[FailureRate]
    lost_production: _containers.RepeatedCompositeFieldContainer[LostProduction]
    training_period: _spec_pb2.Period
    indicator_spec: _spec_pb2.BenchmarkSpec
    privacy: PrivacyParameters
    monthly_distributions: _containers.RepeatedCompositeFieldContainer[Distribution]
    solar_curves: _containers.RepeatedCompositeFieldContainer[SolarCurve]
    solar: _spec_pb2.SolarSpec
    solar_failure_rates: _containers.RepeatedCompositeFieldContainer[SolarFailureRate]
    def __init__(self, contract: _Optional[str] = ..., spec_id: _Optional[str] = ..., period: _Optional[_Union[_spec_pb2.Period, _Mapping]] = ..., k_min_operators: _Optional[int] = ..., provenance: _Optional[_Union[Provenance, _Mapping]] = ..., curves: _Optional[_Iterable[_Union[CohortCurve, _Mapping]]] = ..., percentile_resolution: _Optional[float] = ..., reference_air_density: _Optional[float] = ..., filters: _Optional[_Iterable[_Union[_spec_pb2.Filter, _Mapping]]] = ..., dominance_max_share: _Optional[float] = ..., models: _Optional[_Iterable[_Union[NormalBehaviourModelFit, _Mapping]]] = ..., distributions: _Optional[_Iterable[_Union[Distribution, _Mapping]]] = ..., failure_rates: _Optional[_Iterable[_Union[FailureRate, _Mapping]]] = ..., lost_production: _Optional[_Iterable[_Union[LostProduction, _Mapping]]] = ..., training_period: _Optional[_Union[_spec_pb2.Period, _Mapping]] = ..., indicator_spec: _Optional[_Union[_spec_pb2.BenchmarkSpec, _Mapping]] = ..., privacy: _Optional[_Union[PrivacyParameters, _Mapping]] = ..., monthly_distributions: _Optional[_Iterable[_Union[Distribution, _Mapping]]] = ..., solar_curves: _Optional[_Iterable[_Union[SolarCurve, _Mapping]]] = ..., solar: _Optional[_Union[_spec_pb2.SolarSpec, _Mapping]] = ..., solar_failure_rates: _Optional[_Iterable[_Union[SolarFailureRate, _Mapping]]] = ...) -> None: ...

class SolarCurveBin(_message.Message):
    __slots__ = ("irradiance_centre", "suppressed", "suppression_reason", "record_count", "operator_count", "mean_specific_power", "std_specific_power", "p10_specific_power", "p50_specific_power", "p90_specific_power", "noisy_record_weight", "p50_noise_stddev")
    IRRADIANCE_CENTRE_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSED_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSION_REASON_FIELD_NUMBER: _ClassVar[int]
    RECORD_COUNT_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_COUNT_FIELD_NUMBER: _ClassVar[int]
    MEAN_SPECIFIC_POWER_FIELD_NUMBER: _ClassVar[int]
    STD_SPECIFIC_POWER_FIELD_NUMBER: _ClassVar[int]
    P10_SPECIFIC_POWER_FIELD_NUMBER: _ClassVar[int]
    P50_SPECIFIC_POWER_FIELD_NUMBER: _ClassVar[int]
    P90_SPECIFIC_POWER_FIELD_NUMBER: _ClassVar[int]
    NOISY_RECORD_WEIGHT_FIELD_NUMBER: _ClassVar[int]
    P50_NOISE_STDDEV_FIELD_NUMBER: _ClassVar[int]
    irradiance_centre: float
    suppressed: bool
    suppression_reason: str
    record_count: int
    operator_count: int
    mean_specific_power: float
    std_specific_power: float
    p10_specific_power: float
    p50_specific_power: float
    p90_specific_power: float
    noisy_record_weight: float
    p50_noise_stddev: float
    def __init__(self, irradiance_centre: _Optional[float] = ..., suppressed: _Optional[bool] = ..., suppression_reason: _Optional[str] = ..., record_count: _Optional[int] = ..., operator_count: _Optional[int] = ..., mean_specific_power: _Optional[float] = ..., std_specific_power: _Optional[float] = ..., p10_specific_power: _Optional[float] = ..., p50_specific_power: _Optional[float] = ..., p90_specific_power: _Optional[float] = ..., noisy_record_weight: _Optional[float] = ..., p50_noise_stddev: _Optional[float] = ...) -> None: ...

class SolarFailureRate(_message.Message):
    __slots__ = ("cohort", "component", "suppressed", "suppression_reason", "failures", "inverter_years", "failures_per_inverter_year", "mean_downtime_hours", "operator_count", "failures_noise_stddev", "inverter_years_noise_stddev", "rate_noise_stddev", "downtime_hours", "downtime_noise_stddev", "mean_downtime_noise_stddev")
    COHORT_FIELD_NUMBER: _ClassVar[int]
    COMPONENT_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSED_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSION_REASON_FIELD_NUMBER: _ClassVar[int]
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    INVERTER_YEARS_FIELD_NUMBER: _ClassVar[int]
    FAILURES_PER_INVERTER_YEAR_FIELD_NUMBER: _ClassVar[int]
    MEAN_DOWNTIME_HOURS_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_COUNT_FIELD_NUMBER: _ClassVar[int]
    FAILURES_NOISE_STDDEV_FIELD_NUMBER: _ClassVar[int]
    INVERTER_YEARS_NOISE_STDDEV_FIELD_NUMBER: _ClassVar[int]
    RATE_NOISE_STDDEV_FIELD_NUMBER: _ClassVar[int]
    DOWNTIME_HOURS_FIELD_NUMBER: _ClassVar[int]
    DOWNTIME_NOISE_STDDEV_FIELD_NUMBER: _ClassVar[int]
    MEAN_DOWNTIME_NOISE_STDDEV_FIELD_NUMBER: _ClassVar[int]
    cohort: str
    component: str
    suppressed: bool
    suppression_reason: str
    failures: int
    inverter_years: float
    failures_per_inverter_year: float
    mean_downtime_hours: float
    operator_count: int
    failures_noise_stddev: float
    inverter_years_noise_stddev: float
    rate_noise_stddev: float
    downtime_hours: float
    downtime_noise_stddev: float
    mean_downtime_noise_stddev: float
    def __init__(self, cohort: _Optional[str] = ..., component: _Optional[str] = ..., suppressed: _Optional[bool] = ..., suppression_reason: _Optional[str] = ..., failures: _Optional[int] = ..., inverter_years: _Optional[float] = ..., failures_per_inverter_year: _Optional[float] = ..., mean_downtime_hours: _Optional[float] = ..., operator_count: _Optional[int] = ..., failures_noise_stddev: _Optional[float] = ..., inverter_years_noise_stddev: _Optional[float] = ..., rate_noise_stddev: _Optional[float] = ..., downtime_hours: _Optional[float] = ..., downtime_noise_stddev: _Optional[float] = ..., mean_downtime_noise_stddev: _Optional[float] = ...) -> None: ...

class SolarCurve(_message.Message):
    __slots__ = ("cohort", "bins")
    COHORT_FIELD_NUMBER: _ClassVar[int]
    BINS_FIELD_NUMBER: _ClassVar[int]
    cohort: str
    bins: _containers.RepeatedCompositeFieldContainer[SolarCurveBin]
    def __init__(self, cohort: _Optional[str] = ..., bins: _Optional[_Iterable[_Union[SolarCurveBin, _Mapping]]] = ...) -> None: ...
