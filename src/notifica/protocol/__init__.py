"""The GAEN and Immuni protocol, sans-IO: pure functions and small value types.

Nothing here reads a clock, a file or a socket: time and randomness are arguments. Parsers of
outside bytes raise only the errors in `notifica.protocol.errors`.
"""

from notifica.protocol._intervals import (
    INTERVAL_SECONDS,
    MAX_INTERVAL_NUMBER,
    TEK_ROLLING_PERIOD,
    date_of_interval,
    interval_number,
    interval_number_at,
    interval_start_unix_s,
    rolling_start,
)
from notifica.protocol._key_batch import DiagnosisKeyBatch
from notifica.protocol._keys import (
    KEY_LENGTH,
    RPI_LENGTH,
    ReportType,
    TemporaryExposureKey,
    derive_aemk,
    derive_rpik,
    padded_data,
    rolling_proximity_identifier,
    rolling_proximity_identifiers,
)
from notifica.protocol._metadata import (
    METADATA_LENGTH,
    BluetoothMetadata,
    decrypt_aem,
    encrypt_aem,
)
from notifica.protocol._risk_inputs import KeyExposure, Sighting, attenuation_db
from notifica.protocol._risk_presets import (
    IMMUNI_2020_06_05,
    IMMUNI_2020_10_ANDROID,
    IMMUNI_2020_10_IOS,
    IMMUNI_LAUNCH,
    IMMUNI_PRESETS,
    ImmuniPreset,
)
from notifica.protocol._risk_rules import (
    DailySummaryRiskRule,
    ImmuniRiskRule,
    RiskAssessment,
    RiskRule,
)
from notifica.protocol._risk_v1 import (
    ExposureInformation,
    ExposureSummary,
    bucketize_duration_s,
    summarize_exposures_v1,
    time_weighted_attenuation,
)
from notifica.protocol._risk_v1_config import (
    ExposureConfiguration,
    attenuation_bucket,
    days_since_exposure_bucket,
    duration_bucket,
    transmission_risk_bucket,
)
from notifica.protocol._risk_v2 import (
    DiagnosisKeysDataMapping,
    ExposureWindow,
    Infectiousness,
    ScanInstance,
    Shuffler,
    exposure_windows,
    seconds_since_last_scan,
)
from notifica.protocol._risk_v2_summary import (
    DailySummariesConfig,
    DailySummary,
    ExposureSummaryData,
    daily_summaries,
)
from notifica.protocol.errors import (
    InvalidOtp,
    InvalidSignature,
    MalformedAdvertisement,
    MalformedExport,
    MalformedPayload,
    MalformedWireMessage,
    ProtocolError,
    UnsupportedAlgorithm,
)

__all__ = [
    "IMMUNI_2020_06_05",
    "IMMUNI_2020_10_ANDROID",
    "IMMUNI_2020_10_IOS",
    "IMMUNI_LAUNCH",
    "IMMUNI_PRESETS",
    "INTERVAL_SECONDS",
    "KEY_LENGTH",
    "MAX_INTERVAL_NUMBER",
    "METADATA_LENGTH",
    "RPI_LENGTH",
    "TEK_ROLLING_PERIOD",
    "BluetoothMetadata",
    "DailySummariesConfig",
    "DailySummary",
    "DailySummaryRiskRule",
    "DiagnosisKeyBatch",
    "DiagnosisKeysDataMapping",
    "ExposureConfiguration",
    "ExposureInformation",
    "ExposureSummary",
    "ExposureSummaryData",
    "ExposureWindow",
    "ImmuniPreset",
    "ImmuniRiskRule",
    "Infectiousness",
    "InvalidOtp",
    "InvalidSignature",
    "KeyExposure",
    "MalformedAdvertisement",
    "MalformedExport",
    "MalformedPayload",
    "MalformedWireMessage",
    "ProtocolError",
    "ReportType",
    "RiskAssessment",
    "RiskRule",
    "ScanInstance",
    "Shuffler",
    "Sighting",
    "TemporaryExposureKey",
    "UnsupportedAlgorithm",
    "attenuation_bucket",
    "attenuation_db",
    "bucketize_duration_s",
    "daily_summaries",
    "date_of_interval",
    "days_since_exposure_bucket",
    "decrypt_aem",
    "derive_aemk",
    "derive_rpik",
    "duration_bucket",
    "encrypt_aem",
    "exposure_windows",
    "interval_number",
    "interval_number_at",
    "interval_start_unix_s",
    "padded_data",
    "rolling_proximity_identifier",
    "rolling_proximity_identifiers",
    "rolling_start",
    "seconds_since_last_scan",
    "summarize_exposures_v1",
    "time_weighted_attenuation",
    "transmission_risk_bucket",
]
