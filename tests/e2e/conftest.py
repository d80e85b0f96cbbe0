"""The end-to-end tests reuse the backend fixtures (both engines, simulated clock)."""

from tests.server.conftest import (  # noqa: F401 - fixtures
    anyio_backend,
    backend,
    backend_factory,
    client,
    clock,
    database_url,
    his_token,
    postgres_database,
    settings,
    signing_pem,
    sleeper,
    sqlite_template,
)
