"""Builds notifica's one native part: the matching kernel `notifica.matching._native_kernel`.

Everything else is declared in pyproject.toml. The kernel needs only a C compiler (no OpenSSL
headers: AES-128 and SHA-256 are implemented in `src/notifica/matching/_native/`, with AES-NI
and SHA-NI paths chosen at run time). The build never fails the install: if there is no
compiler, or the kernel does not compile, a warning is printed and notifica uses its
pure-Python matcher (`notifica matching info` says which is active and why). Set
`NOTIFICA_BUILD_NATIVE=0` to skip the kernel on purpose.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

NATIVE = Path("src/notifica/matching/_native")
SOURCES = ["kernel.c", "cpu.c", "sha256.c", "aes.c", "index.c", "match.c"]
UNIX_FLAGS = [
    "-O3",
    "-std=gnu11",
    "-fvisibility=hidden",
    "-Wall",
    "-Wextra",
    "-Wno-unused-parameter",
]


class OptionalBuildExt(build_ext):
    """build_ext that turns any failure into a warning, so the pure path takes over."""

    def build_extensions(self) -> None:
        if self.compiler.compiler_type == "unix":
            for extension in self.extensions:
                extension.extra_compile_args = [*UNIX_FLAGS, *extension.extra_compile_args]
        super().build_extensions()

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # no compiler at all lands here
            _warn(exc)

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:  # a compile error lands here
            _warn(exc)


def _warn(exc: BaseException) -> None:
    print(
        f"warning: notifica's native matching kernel was not built ({exc}); "
        "the pure-Python matcher will be used",
        file=sys.stderr,
    )


extensions = []
if os.environ.get("NOTIFICA_BUILD_NATIVE", "1") != "0":
    extensions.append(
        Extension(
            "notifica.matching._native_kernel",
            sources=[str(NATIVE / name) for name in SOURCES],
            depends=[str(NATIVE / "nk.h")],
            optional=True,
        )
    )

setup(ext_modules=extensions, cmdclass={"build_ext": OptionalBuildExt})
