"""The portal's commands: ``notifica portal add-operator|list|disable|enable|reset-password|...``.

Accounts live in the deployment's database (the backend's settings say where); each command
creates or upgrades the portal's tables first. Passwords are read from a hidden prompt
(typed twice) or, with ``--password-stdin``, from the first line of standard input; they
never appear in arguments, where ``ps`` and shell history would show them.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from notifica.cli._output import console, emit, fail, user_errors
from notifica.cli.server import ConfigOption, DatabaseOption, JsonOption
from notifica.clock import SystemClock
from notifica.portal import (
    Accounts,
    Operator,
    PortalSettings,
    PortalStore,
    Role,
    open_accounts,
    upgrade_portal,
)
from notifica.server import Settings

__all__ = ["app"]

app = typer.Typer(
    help="Accounts of the health-authority portal (served at /portal).", no_args_is_help=True
)

EmailArgument = Annotated[str, typer.Argument(help="The operator's e-mail address.")]
PasswordStdinOption = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from the first line of stdin."),
]


@contextmanager
def _accounts(config: Path | None, database_url: str | None) -> Iterator[Accounts]:
    overrides: dict[str, Any] = {"database_url": database_url} if database_url else {}
    try:
        settings = Settings.load(config, **overrides)
        portal_settings = PortalSettings()
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        fail(f"setting {'.'.join(map(str, first['loc']))}: {first['msg']}")
    with user_errors():
        url = settings.effective_database_url
        upgrade_portal(url)
        store = PortalStore.open(url)
        try:
            yield open_accounts(store, portal_settings, SystemClock())
        finally:
            store.close()


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            fail("--password-stdin: standard input is empty")
        return line.rstrip("\r\n")
    password: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def _row(operator: Operator) -> dict[str, Any]:
    return {
        "email": operator.email,
        "role": operator.role.value,
        "active": operator.active,
        "must_change_password": operator.must_change_password,
        "created_at": operator.created_at.isoformat(),
        "last_sign_in_at": operator.last_sign_in_at.isoformat()
        if operator.last_sign_in_at
        else None,
    }


@app.command("add-operator")
def add_operator(
    email: EmailArgument,
    role: Annotated[Role, typer.Option(help="operator or admin.")] = Role.OPERATOR,
    password_stdin: PasswordStdinOption = False,
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an account with a password read from a prompt or stdin."""
    password = _read_password(password_stdin)
    with _accounts(config, database_url) as accounts:
        operator, _ = accounts.create(email=email, role=role, password=password, actor=None)
    emit(
        _row(operator),
        as_json=as_json,
        render=lambda r: console.print(f"{r['role']} {r['email']} created"),
    )


@app.command("list")
def list_operators(
    config: ConfigOption = None, database_url: DatabaseOption = None, as_json: JsonOption = False
) -> None:
    """Every account (never a password or its hash)."""
    with _accounts(config, database_url) as accounts:
        rows = [_row(o) for o in accounts.all()]

    def render(rows: list[dict[str, Any]]) -> None:
        for r in rows:
            state = "active" if r["active"] else "disabled"
            last = r["last_sign_in_at"] or "never"
            console.print(f"{r['email']}  {r['role']}  {state}  last sign-in {last}")

    emit(rows, as_json=as_json, render=render)


def _set_active(email: str, active: bool, config: Path | None, database_url: str | None) -> None:
    with _accounts(config, database_url) as accounts:
        operator = accounts.by_email(email)
        accounts.set_active(operator.id, active, actor=None)
    console.print(f"{operator.email} {'enabled' if active else 'disabled'}")


@app.command("disable")
def disable(
    email: EmailArgument, config: ConfigOption = None, database_url: DatabaseOption = None
) -> None:
    """Disable an account; its sessions end at once."""
    _set_active(email, False, config, database_url)


@app.command("enable")
def enable(
    email: EmailArgument, config: ConfigOption = None, database_url: DatabaseOption = None
) -> None:
    """Enable a disabled account."""
    _set_active(email, True, config, database_url)


@app.command("reset-password")
def reset_password(
    email: EmailArgument,
    temporary: Annotated[
        bool,
        typer.Option(
            "--temporary", help="Make a temporary password (printed once, changed at sign-in)."
        ),
    ] = False,
    password_stdin: PasswordStdinOption = False,
    config: ConfigOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Set a new password (prompt, stdin, or --temporary); the account's sessions end."""
    password = None if temporary else _read_password(password_stdin)
    with _accounts(config, database_url) as accounts:
        operator = accounts.by_email(email)
        made = accounts.reset_password(operator.id, actor=None, password=password)
    if made is None:
        console.print(f"password of {operator.email} changed")
    else:
        console.print(f"temporary password of {operator.email}: {made}", soft_wrap=True)


@app.command("remove")
def remove(
    email: EmailArgument, config: ConfigOption = None, database_url: DatabaseOption = None
) -> None:
    """Delete an account (the audit log keeps its e-mail)."""
    with _accounts(config, database_url) as accounts:
        operator = accounts.by_email(email)
        accounts.remove(operator.id, actor=None)
    console.print(f"{operator.email} removed")
