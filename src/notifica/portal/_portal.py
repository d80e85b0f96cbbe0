"""`Portal`: the portal's services for one backend, built once and shared by its pages."""

from __future__ import annotations

from notifica.clock import Clock
from notifica.portal._accounts import Accounts
from notifica.portal._authorise import CodeDesk
from notifica.portal._lockout import ClientBackoff
from notifica.portal._passwords import Passwords
from notifica.portal._sessions import Sessions
from notifica.portal._store import PortalStore
from notifica.portal.settings import PortalSettings
from notifica.server import Backend

__all__ = ["Portal", "open_accounts"]


def _passwords(settings: PortalSettings) -> Passwords:
    return Passwords(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )


def open_accounts(store: PortalStore, settings: PortalSettings, clock: Clock) -> Accounts:
    """Account management without a backend (the command line)."""
    clients = ClientBackoff(
        clock,
        free=settings.client_free_failures,
        base_s=settings.lock_base_s,
        max_s=settings.lock_max_s,
    )
    return Accounts(store, clock, settings, _passwords(settings), clients)


class Portal:
    """Sessions, accounts and the code desk over one backend and the portal's store.

    Args:
        backend: the backend the portal is mounted on; its clock is the portal's clock and
            its database URL the portal's database.
        settings: the portal's settings (``NOTIFICA_PORTAL_*`` by default).
        store: the portal's storage; by default opened on the backend's database (its tables
            must exist: `Portal.upgrade` or any ``notifica portal`` command).
    """

    def __init__(
        self,
        backend: Backend,
        settings: PortalSettings | None = None,
        *,
        store: PortalStore | None = None,
    ) -> None:
        self.backend = backend
        self.settings = settings or PortalSettings()
        self.clock = backend.clock
        self._owns_store = store is None
        self.store = store or PortalStore.open(backend.settings.effective_database_url)
        self.accounts = open_accounts(self.store, self.settings, self.clock)
        self.sessions = Sessions(self.store, self.clock, self.settings)
        self.desk = CodeDesk(backend, self.store, self.clock)

    def upgrade(self) -> str:
        """Create or upgrade the portal's tables; return the revision."""
        return self.store.upgrade()

    def close(self) -> None:
        """Release the store's connections if the portal opened it."""
        if self._owns_store:
            self.store.close()
