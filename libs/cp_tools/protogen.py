"""Generate the Python code for every ``.proto`` under ``proto/`` into ``libs/cryptopredict``.

``python -m cp_tools.protogen`` regenerates (writing only files whose bytes changed and
removing generated files whose ``.proto`` is gone); ``python -m cp_tools.protogen --check``
regenerates into a temporary directory, compares with the committed tree and exits 1 listing
every stale, missing or extra file. Output depends only on the ``.proto`` files and the
installed ``grpcio-tools`` version (which bundles ``protoc``), so it is deterministic.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

REPO_ROOT = Path(__file__).resolve().parents[2]
PROTO_ROOT = REPO_ROOT / "proto"
OUTPUT_ROOT = REPO_ROOT / "libs"
#: Top-level Python package the generated modules live in (mirrors ``proto/cryptopredict``).
GENERATED_PACKAGE = "cryptopredict"
GENERATED_SUFFIXES = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")
INIT_DOCSTRING = '"""Generated from proto/ by ``python -m cp_tools.protogen``; do not edit."""\n'


class ProtocError(RuntimeError):
    """protoc rejected the ``.proto`` files (its own message went to stderr)."""


@dataclass
class TreeDiff:
    """Differences between a fresh generation and the committed generated package."""

    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.changed or self.missing or self.extra)

    def lines(self) -> list[str]:
        return (
            [f"stale:   {p}" for p in self.changed]
            + [f"missing: {p}" for p in self.missing]
            + [f"extra:   {p}" for p in self.extra]
        )


def proto_files(proto_root: Path = PROTO_ROOT) -> list[Path]:
    """Every ``.proto`` file of the project, relative to ``proto_root``, in a stable order."""
    return sorted(p.relative_to(proto_root) for p in proto_root.rglob("*.proto"))


def _well_known_types_dir() -> str:
    return str(resources.files("grpc_tools") / "_proto")


def generate(out_root: Path, proto_root: Path = PROTO_ROOT) -> list[Path]:
    """Run protoc for every proto into ``out_root`` and add ``__init__.py`` files.

    Returns the generated files relative to ``out_root``, sorted.
    """
    files = proto_files(proto_root)
    if not files:
        raise ProtocError(f"no .proto files under {proto_root}")
    out_root.mkdir(parents=True, exist_ok=True)
    args = [
        "grpc_tools.protoc",
        f"--proto_path={proto_root}",
        f"--proto_path={_well_known_types_dir()}",
        f"--python_out={out_root}",
        f"--pyi_out={out_root}",
        f"--grpc_python_out={out_root}",
        *(str(f) for f in files),
    ]
    if protoc.main(args) != 0:
        raise ProtocError("protoc failed; see the messages above")
    package_root = out_root / GENERATED_PACKAGE
    for directory in [package_root, *(p for p in package_root.rglob("*") if p.is_dir())]:
        if directory.name != "__pycache__":
            (directory / "__init__.py").write_text(INIT_DOCSTRING)
    return _generated_files(out_root)


def _generated_files(root: Path) -> list[Path]:
    package_root = root / GENERATED_PACKAGE
    if not package_root.is_dir():
        return []
    return sorted(
        p.relative_to(root)
        for p in package_root.rglob("*")
        if p.is_file() and (p.name == "__init__.py" or p.name.endswith(GENERATED_SUFFIXES))
    )


def compare(fresh_root: Path, committed_root: Path) -> TreeDiff:
    """Compare the generated files under two roots (each holding ``cryptopredict/``)."""
    fresh = set(_generated_files(fresh_root))
    committed = set(_generated_files(committed_root))
    diff = TreeDiff()
    for rel in sorted(fresh | committed):
        if rel not in committed:
            diff.missing.append(rel.as_posix())
        elif rel not in fresh:
            diff.extra.append(rel.as_posix())
        elif (fresh_root / rel).read_bytes() != (committed_root / rel).read_bytes():
            diff.changed.append(rel.as_posix())
    return diff


def check(proto_root: Path = PROTO_ROOT, committed_root: Path = OUTPUT_ROOT) -> TreeDiff:
    """Regenerate into a temporary directory and compare with ``committed_root``."""
    with tempfile.TemporaryDirectory(prefix="protogen-") as tmp:
        generate(Path(tmp), proto_root)
        return compare(Path(tmp), committed_root)


def sync(proto_root: Path = PROTO_ROOT, out_root: Path = OUTPUT_ROOT) -> TreeDiff:
    """Regenerate into ``out_root``, touching only files that differ; returns what changed."""
    with tempfile.TemporaryDirectory(prefix="protogen-") as tmp:
        fresh_root = Path(tmp)
        generate(fresh_root, proto_root)
        diff = compare(fresh_root, out_root)
        for rel in diff.changed + diff.missing:
            target = out_root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes((fresh_root / rel).read_bytes())
        for rel in diff.extra:
            (out_root / rel).unlink()
    return diff


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cp_tools.protogen", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the committed generated code is stale"
    )
    args = parser.parse_args(argv)
    try:
        diff = check() if args.check else sync()
    except ProtocError as exc:
        print(f"protogen: {exc}", file=sys.stderr)
        return 2
    if args.check:
        if diff.clean:
            print("protogen: generated code is up to date")
            return 0
        print("protogen: generated code is stale; run `python -m cp_tools.protogen`:", file=sys.stderr)
        for line in diff.lines():
            print(f"  {line}", file=sys.stderr)
        return 1
    print(f"protogen: {len(diff.changed) + len(diff.missing)} written, {len(diff.extra)} removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
