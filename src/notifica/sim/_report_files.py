"""A report directory appears whole or not at all.

The files are written into a hidden temporary directory beside the target
(``.<name>.XXXX.partial``), which is renamed into place only when everything is written; an
exception or Ctrl-C on the way removes it. An existing target is replaced only when it is
empty or a previous notifica report (it holds the `MARKER` file), so a mistyped ``--out``
never deletes unrelated files. Replacing renames the old report aside, renames the new one in
and then deletes the old one: at every instant the target is either the old complete report,
absent (between two renames, microseconds) or the new complete report.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from notifica.sim.errors import ReportError

__all__ = ["MARKER", "report_directory"]

#: The file that marks a directory as a notifica report (its content: the report's kind).
MARKER = ".notifica-report"


@contextmanager
def report_directory(out_dir: Path, *, kind: str) -> Iterator[Path]:
    """Yield an empty temporary directory; on a clean exit it becomes `out_dir`.

    Raises:
        ReportError: `out_dir` exists and is neither empty nor a notifica report (checked before
            anything is written and again before the rename).
    """
    out_dir = Path(out_dir)
    check_replaceable(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = _fresh_directory(out_dir, "partial")
    try:
        yield staging
        (staging / MARKER).write_text(f"{kind}\n", encoding="utf-8")
        check_replaceable(out_dir)
        _move_into_place(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def check_replaceable(out_dir: Path) -> None:
    """Refuse an `out_dir` that is not a directory, or a directory that is not a report.

    Raises:
        ReportError: naming the path and what to do.
    """
    if not os.path.lexists(out_dir):
        return
    if out_dir.is_symlink() or not out_dir.is_dir():
        raise ReportError(f"{out_dir} exists and is not a directory: choose another output path")
    if (out_dir / MARKER).is_file() or not any(out_dir.iterdir()):
        return
    raise ReportError(
        f"{out_dir} exists and is not a notifica report (no {MARKER} file); it would be "
        "replaced: choose another output directory or remove it"
    )


def _move_into_place(staging: Path, out_dir: Path) -> None:
    if not os.path.lexists(out_dir):
        os.rename(staging, out_dir)
        return
    old = _fresh_directory(out_dir, "old")
    os.rename(out_dir, old)
    try:
        os.rename(staging, out_dir)
    except BaseException:
        os.rename(old, out_dir)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _fresh_directory(out_dir: Path, suffix: str) -> Path:
    """A new empty hidden directory beside `out_dir`, with the usual permissions (umask)."""
    for _ in range(100):
        path = out_dir.parent / f".{out_dir.name}.{secrets.token_hex(4)}.{suffix}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"cannot create a temporary directory beside {out_dir}")
