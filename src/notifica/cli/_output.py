"""What every command shares: JSON or human output, and errors as one line, never a traceback."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console

from notifica.errors import NotificaError

__all__ = ["console", "emit", "fail", "user_errors"]

console = Console(highlight=False)
_stderr = Console(stderr=True, highlight=False)


def emit(data: Any, *, as_json: bool, render: Callable[[Any], None] | None = None) -> None:
    """Print `data` as JSON for scripts, or through `render` (default: pretty JSON) for people."""
    if as_json or render is None:
        sys.stdout.write(json.dumps(data, indent=None if as_json else 2, sort_keys=False) + "\n")
        sys.stdout.flush()
    else:
        render(data)


def fail(message: str, *, exit_code: int = 1) -> NoReturn:
    """Stop the command with a one-line error on stderr."""
    _stderr.print(f"error: {message}", markup=False, soft_wrap=True)
    raise typer.Exit(exit_code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn notifica's documented errors and OS errors into a one-line message and exit 1."""
    try:
        yield
    except NotificaError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
