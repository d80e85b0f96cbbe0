"""The backend's commands: ``serve``, ``publish``, ``retention``, ``db upgrade``, ``his ...``.

Each builds the settings (environment ``NOTIFICA_*`` plus ``--config FILE``), calls one
function of `notifica.server` and prints its report.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import os
import ssl
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from notifica.cli._output import console, emit, fail, user_errors
from notifica.cli._serving import APP_FACTORY, prepare_portal
from notifica.server import Backend, Settings
from notifica.server._serve import CONFIG_ENV

__all__ = ["register"]

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="TOML settings file (the NOTIFICA_* environment wins).",
        exists=True,
        dir_okay=False,
    ),
]
DatabaseOption = Annotated[
    str | None, typer.Option("--database-url", help="Overrides NOTIFICA_DATABASE_URL.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]

db_app = typer.Typer(help="The backend's database.", no_args_is_help=True)
his_app = typer.Typer(
    help="Health operators' systems allowed to authorise OTPs.", no_args_is_help=True
)


def _settings(config: Path | None, database_url: str | None = None) -> Settings:
    overrides: dict[str, Any] = {"database_url": database_url} if database_url else {}
    try:
        return Settings.load(config, **overrides)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        fail(f"setting {'.'.join(map(str, first['loc']))}: {first['msg']}")


def _backend(config: Path | None, database_url: str | None = None) -> Backend:
    backend = Backend(_settings(config, database_url))
    backend.upgrade()
    return backend


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1, max=64)] = 1,
    tls_cert: Annotated[
        Path | None,
        typer.Option(help="PEM certificate chain: serve HTTPS.", exists=True, dir_okay=False),
    ] = None,
    tls_key: Annotated[
        Path | None,
        typer.Option(help="PEM private key of --tls-cert.", exists=True, dir_okay=False),
    ] = None,
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Serve the Immuni API with uvicorn (schema created or upgraded first)."""
    import uvicorn

    if (tls_cert is None) != (tls_key is None):
        fail("--tls-cert and --tls-key go together")
    if database_url:
        os.environ["NOTIFICA_DATABASE_URL"] = database_url
    if config is not None:
        os.environ[CONFIG_ENV] = str(config.resolve())
    settings = _settings(config)
    with user_errors():
        backend = Backend(settings)
        backend.upgrade()  # once, before the workers start
        backend.signer()  # loads, or creates in embedded mode, the signing key once
        backend.repository.close()
        try:
            prepare_portal(settings)  # the portal's tables, once (docs: README "The portal")
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            fail(f"setting portal_{'.'.join(map(str, first['loc']))}: {first['msg']}")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    options: dict[str, Any] = {}
    if "timeout_worker_healthcheck" in inspect.signature(uvicorn.Config).parameters:
        # uvicorn ≥ 0.37 kills a worker that does not answer its supervisor's ping within 5 s:
        # on a busy machine a worker still importing, or one saturated with requests, fails it.
        options["timeout_worker_healthcheck"] = settings.worker_healthcheck_timeout_s
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=settings.access_log,
        server_header=False,
        date_header=False,  # the app sets Date from its clock
        proxy_headers=False,
        ssl_certfile=str(tls_cert) if tls_cert else None,
        ssl_keyfile=str(tls_key) if tls_key else None,
        ssl_version=ssl.PROTOCOL_TLS_SERVER,  # Python's default minimum is TLS 1.2
        ssl_ciphers="ECDHE+AESGCM:ECDHE+CHACHA20",
        **options,
    )


def publish(
    config: ConfigOption = None, database_url: DatabaseOption = None, as_json: JsonOption = False
) -> None:
    """Publish pending keys as signed batches now (one transaction, under the lock)."""
    with user_errors():
        backend = _backend(config, database_url)
        report = backend.publish()
        backend.repository.close()
    emit(dataclasses.asdict(report), as_json=as_json)


def retention(
    config: ConfigOption = None, database_url: DatabaseOption = None, as_json: JsonOption = False
) -> None:
    """Delete data past its retention (or everything after the data sunset)."""
    with user_errors():
        backend = _backend(config, database_url)
        report = backend.retention()
        backend.repository.close()
    emit(dataclasses.asdict(report), as_json=as_json)


@db_app.command("upgrade")
def db_upgrade(
    config: ConfigOption = None, database_url: DatabaseOption = None, as_json: JsonOption = False
) -> None:
    """Create the schema or bring it to the newest migration."""
    with user_errors():
        backend = Backend(_settings(config, database_url))
        revision = backend.upgrade()
        backend.repository.close()
    emit(
        {"revision": revision},
        as_json=as_json,
        render=lambda d: console.print(f"database at revision {d['revision']}"),
    )


@his_app.command("add-client")
def his_add_client(
    name: Annotated[str, typer.Argument(help="Name of the health operators' system.")],
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a client; its bearer token is printed once, as the last word."""
    with user_errors():
        backend = _backend(config, database_url)
        client, token = backend.his.add_client(name)
        backend.repository.close()
    emit(
        {"name": client.name, "token": token},
        as_json=as_json,
        render=lambda d: console.print(
            f"HIS client {d['name']!r} created; bearer token: {d['token']}", soft_wrap=True
        ),
    )


@his_app.command("list")
def his_list(
    config: ConfigOption = None, database_url: DatabaseOption = None, as_json: JsonOption = False
) -> None:
    """The registered clients (never their tokens)."""
    with user_errors():
        backend = _backend(config, database_url)
        clients = backend.repository.his_clients.list()
        backend.repository.close()
    rows = [{"name": c.name, "created_at": c.created_at.isoformat()} for c in clients]

    def render(data: list[dict[str, str]]) -> None:
        for row in data:
            console.print(f"{row['name']}  {row['created_at']}")

    emit(rows, as_json=as_json, render=render)


@his_app.command("remove")
def his_remove(
    name: Annotated[str, typer.Argument(help="Client to revoke.")],
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Revoke a client's token."""
    with user_errors():
        backend = _backend(config, database_url)
        removed = backend.repository.his_clients.remove(name)
        backend.repository.close()
    if not removed:
        fail(f"no HIS client called {name!r}")
    console.print(f"HIS client {name!r} removed")


def register(app: typer.Typer) -> None:
    """Add the backend's commands to the `notifica` command."""
    app.command("serve")(serve)
    app.command("publish")(publish)
    app.command("retention")(retention)
    app.add_typer(db_app, name="db")
    app.add_typer(his_app, name="his")
