"""The root of every exception notifica raises on purpose.

    NotificaError
    ├── notifica.protocol.ProtocolError      bad bytes or values met by the sans-IO core
    ├── notifica.matching.MatchingError      the matching kernels
    ├── notifica.server.ApiError             an Immuni error response (status, code, message)
    ├── notifica.phone.PhoneError            the phone engine
    └── notifica.sim.SimError                the simulator and its scenarios

Each layer declares its own subtree in its ``errors.py``. Caller misuse (a wrong type, a
16-byte field given 15 bytes) stays a plain ``TypeError`` / ``ValueError``.
"""


class NotificaError(Exception):
    """Base class of all notifica errors."""
