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
    "INTERVAL_SECONDS",
    "KEY_LENGTH",
    "MAX_INTERVAL_NUMBER",
    "METADATA_LENGTH",
    "RPI_LENGTH",
    "TEK_ROLLING_PERIOD",
    "BluetoothMetadata",
    "DiagnosisKeyBatch",
    "InvalidOtp",
    "InvalidSignature",
    "MalformedAdvertisement",
    "MalformedExport",
    "MalformedPayload",
    "MalformedWireMessage",
    "ProtocolError",
    "ReportType",
    "TemporaryExposureKey",
    "UnsupportedAlgorithm",
    "date_of_interval",
    "decrypt_aem",
    "derive_aemk",
    "derive_rpik",
    "encrypt_aem",
    "interval_number",
    "interval_number_at",
    "interval_start_unix_s",
    "padded_data",
    "rolling_proximity_identifier",
    "rolling_proximity_identifiers",
    "rolling_start",
]
