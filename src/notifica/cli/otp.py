"""`notifica otp`: make a new Immuni OTP, or check one typed by hand (immuni-api.md §4)."""

from __future__ import annotations

from typing import Any

import typer

from notifica.cli._output import console, emit, fail
from notifica.protocol import (
    InvalidOtp,
    format_otp,
    generate_otp,
    otp_bearer_token,
    validate_otp,
)

app = typer.Typer(
    help="Immuni one-time upload codes: generate and check.",
    no_args_is_help=True,
)


def _describe(code: str) -> dict[str, Any]:
    return {
        "valid": True,
        "code": code,
        "display": format_otp(code),
        "bearer_token": otp_bearer_token(code),
    }


def _render(data: dict[str, Any]) -> None:
    console.print(f"code          {data['code']}")
    console.print(f"display       {data['display']}")
    console.print(f"bearer token  {data['bearer_token']}")


@app.command("new")
def new(
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Generate an OTP as the app does (CSPRNG) and print it with its bearer token."""
    emit(_describe(generate_otp()), as_json=as_json, render=_render)


@app.command("check")
def check(
    code: str = typer.Argument(..., help="The code as typed; spaces and dashes are ignored."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Check an OTP: exit 0 if valid, 1 with the reason on stderr if not."""
    try:
        normalised = validate_otp(code)
    except InvalidOtp as exc:
        if as_json:
            emit(
                {
                    "valid": False,
                    "problem": exc.problem.value if exc.problem else None,
                    "message": exc.message,
                    "length": exc.length,
                    "positions": list(exc.positions),
                    "character": exc.character,
                    "expected": exc.expected,
                },
                as_json=True,
            )
        fail(f"invalid OTP: {exc}")
    emit(_describe(normalised), as_json=as_json, render=_render)
