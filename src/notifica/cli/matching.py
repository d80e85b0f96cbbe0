"""`notifica matching`: which matching backend is active, and why."""

from __future__ import annotations

from typing import Any

import typer

from notifica.cli._output import console, emit, fail, user_errors
from notifica.matching import backend_info

app = typer.Typer(help="Diagnosis-key matching: backend status.", no_args_is_help=True)


@app.command("info")
def info(
    as_json: bool = typer.Option(False, "--json", help="Print JSON for scripts."),
    backend: str = typer.Option(
        "auto", "--backend", help="Which request to explain: auto, python or native."
    ),
) -> None:
    """Say which matching backend `get_backend()` uses here, and why."""
    with user_errors():
        try:
            data = backend_info(backend)
        except ValueError as exc:
            fail(str(exc), exit_code=2)
    emit(dict(data), as_json=as_json, render=_render)


def _render(data: dict[str, Any]) -> None:
    console.print(f"backend: [bold]{data['backend']}[/bold] ({data['reason']})")
    cpu = data["cpu"]
    console.print(f"cpu: aes={cpu['aes']} sha={cpu['sha']}")
    if data["kernel_built"]:
        console.print(f"kernel: built; AES via {data['aes']}, SHA-256 via {data['sha']}")
    else:
        console.print(f"kernel: not available ({data['kernel_error']})")
