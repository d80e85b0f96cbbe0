"""The Immuni rules, one module per service; each receives the repository, clock and settings.

Services are synchronous (the repository is); routers run them in the thread pool. They raise
`notifica.server.errors.ApiError` subclasses and return plain values or wire models.
"""

from notifica.server.services.admin import AdminService
from notifica.server.services.analytics import AnalyticsService
from notifica.server.services.app_config import AppConfigService
from notifica.server.services.his import HisAuthenticator, new_api_key
from notifica.server.services.ingestion import IngestionService
from notifica.server.services.keys import KeysService
from notifica.server.services.otp import OtpService

__all__ = [
    "AdminService",
    "AnalyticsService",
    "AppConfigService",
    "HisAuthenticator",
    "IngestionService",
    "KeysService",
    "OtpService",
    "new_api_key",
]
