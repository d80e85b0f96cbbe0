"""Regenerate `notifica.protocol._export_pb2` from `src/notifica/protocol/proto/export.proto`.

    python scripts/gen_proto.py          # rewrite _export_pb2.py and _export_pb2.pyi
    python scripts/gen_proto.py --check  # exit 1 if the committed files are not what protoc makes

Uses the protoc bundled with grpcio-tools, pinned in the dev extras of pyproject.toml so that
everyone generates the same bytes. grpcio-tools 1.63.2 bundles protoc 26.1, whose output needs a
protobuf runtime of at least 5.26.1 (the floor declared in pyproject.toml) and runs on every
later runtime (checked on 5.26.1, 5.29, 6.33 and 7.36; README "Export files").

protoc is run with `-I src`, so the schema is registered in protobuf's descriptor pool under its
package path (`notifica/protocol/proto/export.proto`), a name no other project will use. The
generated module is then renamed to the private module the protocol layer imports; that rename
is the only edit made to protoc's output.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
PROTO = "notifica/protocol/proto/export.proto"
GENERATED_MODULE = "notifica.protocol.proto.export_pb2"
TARGET_MODULE = "notifica.protocol._export_pb2"
TARGET = SRC / "notifica" / "protocol" / "_export_pb2"
PINNED_GRPCIO_TOOLS = "1.63.2"


def generate() -> dict[str, str]:
    """The generated module and its stub, as text, keyed by file suffix."""
    try:
        from grpc_tools import protoc  # type: ignore[import-untyped]
    except ImportError:
        sys.exit(f"grpcio-tools is missing: pip install grpcio-tools=={PINNED_GRPCIO_TOOLS}")
    from importlib.metadata import version

    if (installed := version("grpcio-tools")) != PINNED_GRPCIO_TOOLS:
        sys.exit(
            f"grpcio-tools {installed} is installed but {PINNED_GRPCIO_TOOLS} is pinned: "
            "other versions emit different code (run make setup)"
        )
    with tempfile.TemporaryDirectory() as out:
        status = protoc.main(
            ["protoc", f"-I{SRC}", f"--python_out={out}", f"--pyi_out={out}", str(SRC / PROTO)]
        )
        if status != 0:
            sys.exit(f"protoc failed with status {status}")
        stem = Path(out) / PROTO.removesuffix(".proto")
        texts = {
            ".py": Path(f"{stem}_pb2.py").read_text(),
            ".pyi": Path(f"{stem}_pb2.pyi").read_text(),
        }
    if f"'{GENERATED_MODULE}'" not in texts[".py"]:
        sys.exit(f"protoc output does not name {GENERATED_MODULE}; update this script")
    texts[".py"] = texts[".py"].replace(f"'{GENERATED_MODULE}'", f"'{TARGET_MODULE}'")
    return texts


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    stale = []
    for suffix, text in generate().items():
        path = TARGET.with_suffix(suffix)
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(path.relative_to(ROOT))
        else:
            path.write_text(text)
            print(f"wrote {path.relative_to(ROOT)}")
    if stale:
        print("out of date (run python scripts/gen_proto.py): " + ", ".join(map(str, stale)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
