from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class WindSpeedReference(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    NACELLE_ANEMOMETER: _ClassVar[WindSpeedReference]
    NACELLE_TRANSFER_FUNCTION: _ClassVar[WindSpeedReference]
    MET_MAST: _ClassVar[WindSpeedReference]

class Statistic(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STATISTIC_UNSPECIFIED: _ClassVar[Statistic]
    RECORD_COUNT: _ClassVar[Statistic]
    SUM_WIND_SPEED: _ClassVar[Statistic]
    SUM_POWER: _ClassVar[Statistic]
    SUM_POWER_SQUARED: _ClassVar[Statistic]
    NORMALISED_POWER_HISTOGRAM: _ClassVar[Statistic]
    BIN_CONTRIBUTOR: _ClassVar[Statistic]
    COHORT_CONTRIBUTOR: _ClassVar[Statistic]
    SUM_POWER_PER_UNIT: _ClassVar[Statistic]
    SUM_POWER_PER_UNIT_SQUARED: _ClassVar[Statistic]
    SUM_POWER_PER_AREA: _ClassVar[Statistic]
    NBM_GRAM: _ClassVar[Statistic]
    NBM_MOMENT: _ClassVar[Statistic]
    NBM_RESPONSE_SQUARES: _ClassVar[Statistic]
    NBM_RECORD_COUNT: _ClassVar[Statistic]
    PERFORMANCE_INDEX_HISTOGRAM: _ClassVar[Statistic]
    YAW_MISALIGNMENT_HISTOGRAM: _ClassVar[Statistic]
    NBM_RESIDUAL_HISTOGRAM: _ClassVar[Statistic]
    TIME_AVAILABILITY_HISTOGRAM: _ClassVar[Statistic]
    PRODUCTION_AVAILABILITY_HISTOGRAM: _ClassVar[Statistic]
    LOST_PRODUCTION: _ClassVar[Statistic]
    FAILURE_COUNT: _ClassVar[Statistic]
    FAILURE_DOWNTIME: _ClassVar[Statistic]
    TURBINE_YEARS: _ClassVar[Statistic]
    AGE_BAND_CONTRIBUTOR: _ClassVar[Statistic]
    CAPPED_POWER_HISTOGRAM: _ClassVar[Statistic]
    INDICATOR_CONTRIBUTOR: _ClassVar[Statistic]
    MONTHLY_PERFORMANCE_INDEX_HISTOGRAM: _ClassVar[Statistic]
    MONTHLY_TIME_AVAILABILITY_HISTOGRAM: _ClassVar[Statistic]
    MONTHLY_CONTRIBUTOR: _ClassVar[Statistic]
    CURVE_CENSUS: _ClassVar[Statistic]
    COHORT_CENSUS: _ClassVar[Statistic]
    TRAINING_CENSUS: _ClassVar[Statistic]
    INDICATOR_CENSUS: _ClassVar[Statistic]
    AGE_BAND_CENSUS: _ClassVar[Statistic]
    MONTHLY_CENSUS: _ClassVar[Statistic]
    IRRADIANCE_RECORD_COUNT: _ClassVar[Statistic]
    SUM_SPECIFIC_POWER: _ClassVar[Statistic]
    SUM_SPECIFIC_POWER_SQUARED: _ClassVar[Statistic]
    SPECIFIC_POWER_HISTOGRAM: _ClassVar[Statistic]
    IRRADIANCE_BIN_CONTRIBUTOR: _ClassVar[Statistic]
    PERFORMANCE_RATIO_HISTOGRAM: _ClassVar[Statistic]
    PERFORMANCE_RATIO_STC_HISTOGRAM: _ClassVar[Statistic]
    DEGRADATION_RATE_HISTOGRAM: _ClassVar[Statistic]
    DEGRADATION_INTERVAL_HISTOGRAM: _ClassVar[Statistic]
    SOILING_LOSS_HISTOGRAM: _ClassVar[Statistic]
    CLIPPING_SHARE_HISTOGRAM: _ClassVar[Statistic]
    INVERTER_AVAILABILITY_HISTOGRAM: _ClassVar[Statistic]
    SOLAR_LOST_PRODUCTION: _ClassVar[Statistic]
    SOLAR_CONTRIBUTOR: _ClassVar[Statistic]
    IRRADIANCE_CENSUS: _ClassVar[Statistic]
    SOLAR_CENSUS: _ClassVar[Statistic]
    SOLAR_FAILURE_COUNT: _ClassVar[Statistic]
    SOLAR_FAILURE_DOWNTIME: _ClassVar[Statistic]
    INVERTER_YEARS: _ClassVar[Statistic]
    CAPPED_SPECIFIC_POWER_HISTOGRAM: _ClassVar[Statistic]
    CENSUS_COMMITMENT_RANDOMNESS: _ClassVar[Statistic]
NACELLE_ANEMOMETER: WindSpeedReference
NACELLE_TRANSFER_FUNCTION: WindSpeedReference
MET_MAST: WindSpeedReference
STATISTIC_UNSPECIFIED: Statistic
RECORD_COUNT: Statistic
SUM_WIND_SPEED: Statistic
SUM_POWER: Statistic
SUM_POWER_SQUARED: Statistic
NORMALISED_POWER_HISTOGRAM: Statistic
BIN_CONTRIBUTOR: Statistic
COHORT_CONTRIBUTOR: Statistic
SUM_POWER_PER_UNIT: Statistic
SUM_POWER_PER_UNIT_SQUARED: Statistic
SUM_POWER_PER_AREA: Statistic
NBM_GRAM: Statistic
NBM_MOMENT: Statistic
NBM_RESPONSE_SQUARES: Statistic
NBM_RECORD_COUNT: Statistic
PERFORMANCE_INDEX_HISTOGRAM: Statistic
YAW_MISALIGNMENT_HISTOGRAM: Statistic
NBM_RESIDUAL_HISTOGRAM: Statistic
TIME_AVAILABILITY_HISTOGRAM: Statistic
PRODUCTION_AVAILABILITY_HISTOGRAM: Statistic
LOST_PRODUCTION: Statistic
FAILURE_COUNT: Statistic
FAILURE_DOWNTIME: Statistic
TURBINE_YEARS: Statistic
AGE_BAND_CONTRIBUTOR: Statistic
CAPPED_POWER_HISTOGRAM: Statistic
INDICATOR_CONTRIBUTOR: Statistic
MONTHLY_PERFORMANCE_INDEX_HISTOGRAM: Statistic
MONTHLY_TIME_AVAILABILITY_HISTOGRAM: Statistic
MONTHLY_CONTRIBUTOR: Statistic
CURVE_CENSUS: Statistic
COHORT_CENSUS: Statistic
TRAINING_CENSUS: Statistic
INDICATOR_CENSUS: Statistic
AGE_BAND_CENSUS: Statistic
MONTHLY_CENSUS: Statistic
IRRADIANCE_RECORD_COUNT: Statistic
SUM_SPECIFIC_POWER: Statistic
SUM_SPECIFIC_POWER_SQUARED: Statistic
SPECIFIC_POWER_HISTOGRAM: Statistic
IRRADIANCE_BIN_CONTRIBUTOR: Statistic
PERFORMANCE_RATIO_HISTOGRAM: Statistic
PERFORMANCE_RATIO_STC_HISTOGRAM: Statistic
DEGRADATION_RATE_HISTOGRAM: Statistic
DEGRADATION_INTERVAL_HISTOGRAM: Statistic
SOILING_LOSS_HISTOGRAM: Statistic
CLIPPING_SHARE_HISTOGRAM: Statistic
INVERTER_AVAILABILITY_HISTOGRAM: Statistic
SOLAR_LOST_PRODUCTION: Statistic
SOLAR_CONTRIBUTOR: Statistic
IRRADIANCE_CENSUS: Statistic
SOLAR_CENSUS: Statistic
SOLAR_FAILURE_COUNT: Statistic
SOLAR_FAILURE_DOWNTIME: Statistic
INVERTER_YEARS: Statistic
CAPPED_SPECIFIC_POWER_HISTOGRAM: Statistic
CENSUS_COMMITMENT_RANDOMNESS: Statistic

class BinGrid(_message.Message):
    __slots__ = ("first_centre", "width", "count", "unit")
    FIRST_CENTRE_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    first_centre: float
    width: float
    count: int
    unit: str
    def __init__(self, first_centre: _Optional[float] = ..., width: _Optional[float] = ..., count: _Optional[int] = ..., unit: _Optional[str] = ...) -> None: ...

class Period(_message.Message):
    __slots__ = ("start", "end")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    start: str
    end: str
    def __init__(self, start: _Optional[str] = ..., end: _Optional[str] = ...) -> None: ...

class Cohort(_message.Message):
    __slots__ = ("name", "turbine_model", "rated_power_kw_min", "rated_power_kw_max", "specific_power_min", "specific_power_max", "iec_wind_class", "wind_speed_reference", "module_technology", "mounting", "climate_zone", "dc_ac_ratio_min", "dc_ac_ratio_max")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TURBINE_MODEL_FIELD_NUMBER: _ClassVar[int]
    RATED_POWER_KW_MIN_FIELD_NUMBER: _ClassVar[int]
    RATED_POWER_KW_MAX_FIELD_NUMBER: _ClassVar[int]
    SPECIFIC_POWER_MIN_FIELD_NUMBER: _ClassVar[int]
    SPECIFIC_POWER_MAX_FIELD_NUMBER: _ClassVar[int]
    IEC_WIND_CLASS_FIELD_NUMBER: _ClassVar[int]
    WIND_SPEED_REFERENCE_FIELD_NUMBER: _ClassVar[int]
    MODULE_TECHNOLOGY_FIELD_NUMBER: _ClassVar[int]
    MOUNTING_FIELD_NUMBER: _ClassVar[int]
    CLIMATE_ZONE_FIELD_NUMBER: _ClassVar[int]
    DC_AC_RATIO_MIN_FIELD_NUMBER: _ClassVar[int]
    DC_AC_RATIO_MAX_FIELD_NUMBER: _ClassVar[int]
    name: str
    turbine_model: str
    rated_power_kw_min: float
    rated_power_kw_max: float
    specific_power_min: float
    specific_power_max: float
    iec_wind_class: str
    wind_speed_reference: WindSpeedReference
    module_technology: str
    mounting: str
    climate_zone: str
    dc_ac_ratio_min: float
    dc_ac_ratio_max: float
    def __init__(self, name: _Optional[str] = ..., turbine_model: _Optional[str] = ..., rated_power_kw_min: _Optional[float] = ..., rated_power_kw_max: _Optional[float] = ..., specific_power_min: _Optional[float] = ..., specific_power_max: _Optional[float] = ..., iec_wind_class: _Optional[str] = ..., wind_speed_reference: _Optional[_Union[WindSpeedReference, str]] = ..., module_technology: _Optional[str] = ..., mounting: _Optional[str] = ..., climate_zone: _Optional[str] = ..., dc_ac_ratio_min: _Optional[float] = ..., dc_ac_ratio_max: _Optional[float] = ...) -> None: ...

class Filter(_message.Message):
    __slots__ = ("name", "parameters")
    class ParametersEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    name: str
    parameters: _containers.ScalarMap[str, float]
    def __init__(self, name: _Optional[str] = ..., parameters: _Optional[_Mapping[str, float]] = ...) -> None: ...

class Block(_message.Message):
    __slots__ = ("cohort", "statistic", "shape", "unit", "scale_exponent", "per_site_bound", "target", "l2_sensitivity", "noise_stddev")
    COHORT_FIELD_NUMBER: _ClassVar[int]
    STATISTIC_FIELD_NUMBER: _ClassVar[int]
    SHAPE_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    SCALE_EXPONENT_FIELD_NUMBER: _ClassVar[int]
    PER_SITE_BOUND_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    L2_SENSITIVITY_FIELD_NUMBER: _ClassVar[int]
    NOISE_STDDEV_FIELD_NUMBER: _ClassVar[int]
    cohort: str
    statistic: Statistic
    shape: _containers.RepeatedScalarFieldContainer[int]
    unit: str
    scale_exponent: int
    per_site_bound: float
    target: str
    l2_sensitivity: float
    noise_stddev: float
    def __init__(self, cohort: _Optional[str] = ..., statistic: _Optional[_Union[Statistic, str]] = ..., shape: _Optional[_Iterable[int]] = ..., unit: _Optional[str] = ..., scale_exponent: _Optional[int] = ..., per_site_bound: _Optional[float] = ..., target: _Optional[str] = ..., l2_sensitivity: _Optional[float] = ..., noise_stddev: _Optional[float] = ...) -> None: ...

class DifferentialPrivacy(_message.Message):
    __slots__ = ("privacy_unit", "max_records_per_turbine_per_bin", "min_noise_sites", "epsilon", "delta", "max_failures_per_inverter", "max_downtime_hours_per_inverter")
    PRIVACY_UNIT_FIELD_NUMBER: _ClassVar[int]
    MAX_RECORDS_PER_TURBINE_PER_BIN_FIELD_NUMBER: _ClassVar[int]
    MIN_NOISE_SITES_FIELD_NUMBER: _ClassVar[int]
    EPSILON_FIELD_NUMBER: _ClassVar[int]
    DELTA_FIELD_NUMBER: _ClassVar[int]
    MAX_FAILURES_PER_INVERTER_FIELD_NUMBER: _ClassVar[int]
    MAX_DOWNTIME_HOURS_PER_INVERTER_FIELD_NUMBER: _ClassVar[int]
    privacy_unit: str
    max_records_per_turbine_per_bin: int
    min_noise_sites: int
    epsilon: float
    delta: float
    max_failures_per_inverter: int
    max_downtime_hours_per_inverter: int
    def __init__(self, privacy_unit: _Optional[str] = ..., max_records_per_turbine_per_bin: _Optional[int] = ..., min_noise_sites: _Optional[int] = ..., epsilon: _Optional[float] = ..., delta: _Optional[float] = ..., max_failures_per_inverter: _Optional[int] = ..., max_downtime_hours_per_inverter: _Optional[int] = ...) -> None: ...

class NormalBehaviourModel(_message.Message):
    __slots__ = ("target", "features", "ridge_lambda")
    TARGET_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    RIDGE_LAMBDA_FIELD_NUMBER: _ClassVar[int]
    target: str
    features: _containers.RepeatedScalarFieldContainer[str]
    ridge_lambda: float
    def __init__(self, target: _Optional[str] = ..., features: _Optional[_Iterable[str]] = ..., ridge_lambda: _Optional[float] = ...) -> None: ...

class IndicatorSpec(_message.Message):
    __slots__ = ("baseline_release_sha256", "performance_index_bins", "yaw_misalignment_bins", "residual_bins", "availability_bins", "age_band_edges", "components", "loss_categories", "yaw_wind_speed_min", "yaw_wind_speed_max", "monthly_performance_index_bins", "monthly_availability_bins")
    BASELINE_RELEASE_SHA256_FIELD_NUMBER: _ClassVar[int]
    PERFORMANCE_INDEX_BINS_FIELD_NUMBER: _ClassVar[int]
    YAW_MISALIGNMENT_BINS_FIELD_NUMBER: _ClassVar[int]
    RESIDUAL_BINS_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_BINS_FIELD_NUMBER: _ClassVar[int]
    AGE_BAND_EDGES_FIELD_NUMBER: _ClassVar[int]
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    LOSS_CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    YAW_WIND_SPEED_MIN_FIELD_NUMBER: _ClassVar[int]
    YAW_WIND_SPEED_MAX_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_PERFORMANCE_INDEX_BINS_FIELD_NUMBER: _ClassVar[int]
    MONTHLY_AVAILABILITY_BINS_FIELD_NUMBER: _ClassVar[int]
    baseline_release_sha256: str
    performance_index_bins: BinGrid
    yaw_misalignment_bins: BinGrid
    residual_bins: BinGrid
    availability_bins: BinGrid
    age_band_edges: _containers.RepeatedScalarFieldContainer[float]
    components: _containers.RepeatedScalarFieldContainer[str]
    loss_categories: _containers.RepeatedScalarFieldContainer[str]
    yaw_wind_speed_min: float
    yaw_wind_speed_max: float
    monthly_performance_index_bins: BinGrid
    monthly_availability_bins: BinGrid
    def __init__(self, baseline_release_sha256: _Optional[str] = ..., performance_index_bins: _Optional[_Union[BinGrid, _Mapping]] = ..., yaw_misalignment_bins: _Optional[_Union[BinGrid, _Mapping]] = ..., residual_bins: _Optional[_Union[BinGrid, _Mapping]] = ..., availability_bins: _Optional[_Union[BinGrid, _Mapping]] = ..., age_band_edges: _Optional[_Iterable[float]] = ..., components: _Optional[_Iterable[str]] = ..., loss_categories: _Optional[_Iterable[str]] = ..., yaw_wind_speed_min: _Optional[float] = ..., yaw_wind_speed_max: _Optional[float] = ..., monthly_performance_index_bins: _Optional[_Union[BinGrid, _Mapping]] = ..., monthly_availability_bins: _Optional[_Union[BinGrid, _Mapping]] = ...) -> None: ...

class BenchmarkSpec(_message.Message):
    __slots__ = ("contract", "spec_id", "period", "wind_speed_bins", "normalised_power_bins", "cohorts", "blocks", "k_min_operators", "max_turbines_per_site", "reference_air_density", "filters", "dominance_max_share", "aep_cut_out_wind_speed", "models", "training_period", "indicators", "privacy", "census_of_sha256", "solar")
    CONTRACT_FIELD_NUMBER: _ClassVar[int]
    SPEC_ID_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    WIND_SPEED_BINS_FIELD_NUMBER: _ClassVar[int]
    NORMALISED_POWER_BINS_FIELD_NUMBER: _ClassVar[int]
    COHORTS_FIELD_NUMBER: _ClassVar[int]
    BLOCKS_FIELD_NUMBER: _ClassVar[int]
    K_MIN_OPERATORS_FIELD_NUMBER: _ClassVar[int]
    MAX_TURBINES_PER_SITE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_AIR_DENSITY_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    DOMINANCE_MAX_SHARE_FIELD_NUMBER: _ClassVar[int]
    AEP_CUT_OUT_WIND_SPEED_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    TRAINING_PERIOD_FIELD_NUMBER: _ClassVar[int]
    INDICATORS_FIELD_NUMBER: _ClassVar[int]
    PRIVACY_FIELD_NUMBER: _ClassVar[int]
    CENSUS_OF_SHA256_FIELD_NUMBER: _ClassVar[int]
    SOLAR_FIELD_NUMBER: _ClassVar[int]
    contract: str
    spec_id: str
    period: Period
    wind_speed_bins: BinGrid
    normalised_power_bins: BinGrid
    cohorts: _containers.RepeatedCompositeFieldContainer[Cohort]
    blocks: _containers.RepeatedCompositeFieldContainer[Block]
    k_min_operators: int
    max_turbines_per_site: int
    reference_air_density: float
    filters: _containers.RepeatedCompositeFieldContainer[Filter]
    dominance_max_share: float
    aep_cut_out_wind_speed: float
    models: _containers.RepeatedCompositeFieldContainer[NormalBehaviourModel]
    training_period: Period
    indicators: IndicatorSpec
    privacy: DifferentialPrivacy
    census_of_sha256: str
    solar: SolarSpec
    def __init__(self, contract: _Optional[str] = ..., spec_id: _Optional[str] = ..., period: _Optional[_Union[Period, _Mapping]] = ..., wind_speed_bins: _Optional[_Union[BinGrid, _Mapping]] = ..., normalised_power_bins: _Optional[_Union[BinGrid, _Mapping]] = ..., cohorts: _Optional[_Iterable[_Union[Cohort, _Mapping]]] = ..., blocks: _Optional[_Iterable[_Union[Block, _Mapping]]] = ..., k_min_operators: _Optional[int] = ..., max_turbines_per_site: _Optional[int] = ..., reference_air_density: _Optional[float] = ..., filters: _Optional[_Iterable[_Union[Filter, _Mapping]]] = ..., dominance_max_share: _Optional[float] = ..., aep_cut_out_wind_speed: _Optional[float] = ..., models: _Optional[_Iterable[_Union[NormalBehaviourModel, _Mapping]]] = ..., training_period: _Optional[_Union[Period, _Mapping]] = ..., indicators: _Optional[_Union[IndicatorSpec, _Mapping]] = ..., privacy: _Optional[_Union[DifferentialPrivacy, _Mapping]] = ..., census_of_sha256: _Optional[str] = ..., solar: _Optional[_Union[SolarSpec, _Mapping]] = ...) -> None: ...

class SolarSpec(_message.Message):
    __slots__ = ("irradiance_bins", "specific_power_bins", "performance_ratio_bins", "degradation_bins", "degradation_interval_bins", "soiling_loss_bins", "clipping_share_bins", "availability_bins", "loss_categories", "max_inverters_per_site", "degradation_confidence_level", "lost_production_bins", "components")
    IRRADIANCE_BINS_FIELD_NUMBER: _ClassVar[int]
    SPECIFIC_POWER_BINS_FIELD_NUMBER: _ClassVar[int]
    PERFORMANCE_RATIO_BINS_FIELD_NUMBER: _ClassVar[int]
    DEGRADATION_BINS_FIELD_NUMBER: _ClassVar[int]
    DEGRADATION_INTERVAL_BINS_FIELD_NUMBER: _ClassVar[int]
    SOILING_LOSS_BINS_FIELD_NUMBER: _ClassVar[int]
    CLIPPING_SHARE_BINS_FIELD_NUMBER: _ClassVar[int]
    AVAILABILITY_BINS_FIELD_NUMBER: _ClassVar[int]
    LOSS_CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    MAX_INVERTERS_PER_SITE_FIELD_NUMBER: _ClassVar[int]
    DEGRADATION_CONFIDENCE_LEVEL_FIELD_NUMBER: _ClassVar[int]
    LOST_PRODUCTION_BINS_FIELD_NUMBER: _ClassVar[int]
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    irradiance_bins: BinGrid
    specific_power_bins: BinGrid
    performance_ratio_bins: BinGrid
    degradation_bins: BinGrid
    degradation_interval_bins: BinGrid
    soiling_loss_bins: BinGrid
    clipping_share_bins: BinGrid
    availability_bins: BinGrid
    loss_categories: _containers.RepeatedScalarFieldContainer[str]
    max_inverters_per_site: int
    degradation_confidence_level: float
    lost_production_bins: BinGrid
    components: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, irradiance_bins: _Optional[_Union[BinGrid, _Mapping]] = ..., specific_power_bins: _Optional[_Union[BinGrid, _Mapping]] = ..., performance_ratio_bins: _Optional[_Union[BinGrid, _Mapping]] = ..., degradation_bins: _Optional[_Union[BinGrid, _Mapping]] = ..., degradation_interval_bins: _Optional[_Union[BinGrid, _Mapping]] = ..., soiling_loss_bins: _Optional[_Union[BinGrid, _Mapping]] = ..., clipping_share_bins: _Optional[_Union[BinGrid, _Mapping]] = ..., availability_bins: _Optional[_Union[BinGrid, _Mapping]] = ..., loss_categories: _Optional[_Iterable[str]] = ..., max_inverters_per_site: _Optional[int] = ..., degradation_confidence_level: _Optional[float] = ..., lost_production_bins: _Optional[_Union[BinGrid, _Mapping]] = ..., components: _Optional[_Iterable[str]] = ...) -> None: ...

class Census(_message.Message):
    __slots__ = ("census_spec_sha256", "participants", "totals", "commitments")
    CENSUS_SPEC_SHA256_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    TOTALS_FIELD_NUMBER: _ClassVar[int]
    COMMITMENTS_FIELD_NUMBER: _ClassVar[int]
    census_spec_sha256: str
    participants: int
    totals: _containers.RepeatedCompositeFieldContainer[CensusTotal]
    commitments: _containers.RepeatedCompositeFieldContainer[CensusCommitment]
    def __init__(self, census_spec_sha256: _Optional[str] = ..., participants: _Optional[int] = ..., totals: _Optional[_Iterable[_Union[CensusTotal, _Mapping]]] = ..., commitments: _Optional[_Iterable[_Union[CensusCommitment, _Mapping]]] = ...) -> None: ...

class CensusCommitment(_message.Message):
    __slots__ = ("member", "commitment", "signature")
    MEMBER_FIELD_NUMBER: _ClassVar[int]
    COMMITMENT_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    member: str
    commitment: bytes
    signature: bytes
    def __init__(self, member: _Optional[str] = ..., commitment: _Optional[bytes] = ..., signature: _Optional[bytes] = ...) -> None: ...

class CensusTotal(_message.Message):
    __slots__ = ("values",)
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, values: _Optional[_Iterable[str]] = ...) -> None: ...
