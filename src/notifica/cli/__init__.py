"""The `notifica` command: Typer sub-apps per area, each in its own module.

Commands parse arguments, build objects, call one function and print; no rules live here.
"""

from __future__ import annotations

import typer

from notifica import __version__
from notifica.cli import keys, matching, otp, phone, portal, server, sim

app = typer.Typer(
    name="notifica",
    help="notifica: an exposure-notification system (GAEN + Immuni) and its simulator.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


app.add_typer(keys.app, name="keys")
app.add_typer(matching.app, name="matching")
app.add_typer(otp.app, name="otp")
app.add_typer(phone.app, name="phone")
app.add_typer(portal.app, name="portal")
app.add_typer(sim.app, name="sim")
server.register(app)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"notifica {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """notifica: an exposure-notification system (GAEN + Immuni) and its simulator."""


def main() -> None:
    """Console-script entry point."""
    app()
