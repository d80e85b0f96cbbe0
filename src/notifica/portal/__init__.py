"""The health-authority portal where operators authorise upload codes (layer 3½).

Server-rendered pages in Italian and English, mounted at ``/portal`` in the backend's app,
using only `notifica.server`'s public API. Public API:

* `mount_portal(app, backend, settings=None)` / `create_portal(backend, settings=None)`;
  `PortalSettings` (``NOTIFICA_PORTAL_*``); `upgrade_portal(database_url)` creates or
  upgrades the portal's tables (own Alembic chain, version table ``portal_alembic_version``).
* `Portal` (its services: ``accounts``, ``sessions``, ``desk``), `PortalStore`,
  `open_accounts` for account management without a backend (the command line).
* Records: `Operator`, `Role`, `AuditEntry`, `AuditAction`; `code_fingerprint` (how the
  audit log names a code).
* Errors: `PortalError` and its subclasses (see `notifica.portal.errors`).
"""

from notifica.portal._accounts import Accounts, normalise_email
from notifica.portal._codes import code_fingerprint
from notifica.portal._portal import Portal, open_accounts
from notifica.portal._records import AuditAction, AuditEntry, Operator, Role
from notifica.portal._store import PortalStore
from notifica.portal.app import MOUNT_PATH, create_portal, mount_portal
from notifica.portal.errors import (
    AccountDisabled,
    AlreadyAuthorised,
    FormInvalid,
    InvalidField,
    LastAdmin,
    OperatorExists,
    PortalError,
    PortalStorageError,
    SignInPaused,
    SignInRefused,
    UnknownOperator,
)
from notifica.portal.settings import PortalSettings

__all__ = [
    "MOUNT_PATH",
    "AccountDisabled",
    "Accounts",
    "AlreadyAuthorised",
    "AuditAction",
    "AuditEntry",
    "FormInvalid",
    "InvalidField",
    "LastAdmin",
    "Operator",
    "OperatorExists",
    "Portal",
    "PortalError",
    "PortalSettings",
    "PortalStorageError",
    "PortalStore",
    "Role",
    "SignInPaused",
    "SignInRefused",
    "UnknownOperator",
    "code_fingerprint",
    "create_portal",
    "mount_portal",
    "normalise_email",
    "open_accounts",
    "upgrade_portal",
]


def upgrade_portal(database_url: str) -> str:
    """Create or upgrade the portal's tables in the database at `database_url`.

    Returns:
        The portal schema's revision.

    Raises:
        PortalStorageError: if the database cannot be reached or refuses.
    """
    store = PortalStore.open(database_url)
    try:
        return store.upgrade()
    finally:
        store.close()
