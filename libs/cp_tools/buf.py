"""Run buf (lint, breaking-change check) on ``proto/`` with a pinned, project-local binary.

buf is installed on first use from the npm package ``@bufbuild/buf`` into
``<state dir>/tools`` (``.state/tools`` unless ``CP_STATE_DIR`` says otherwise; gitignored),
so nothing global is needed besides ``npm``. ``BUF_BIN`` overrides the binary to run.

    python -m cp_tools.buf lint                  # buf lint proto
    python -m cp_tools.buf breaking [--against REF]
    python -m cp_tools.buf install               # just install; prints the binary's path
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from cp_common.settings import default_state_dir

BUF_VERSION = "1.75.0"
NPM_PACKAGE = "@bufbuild/buf"
REPO_ROOT = Path(__file__).resolve().parents[2]
PROTO_DIR = "proto"
#: Compare against the ``proto`` directory on ``main`` by default.
DEFAULT_AGAINST = f".git#branch=main,subdir={PROTO_DIR}"

_NPM_PLATFORMS = {
    ("linux", "x86_64"): "linux-x64",
    ("linux", "amd64"): "linux-x64",
    ("linux", "aarch64"): "linux-aarch64",
    ("linux", "arm64"): "linux-aarch64",
    ("darwin", "x86_64"): "darwin-x64",
    ("darwin", "arm64"): "darwin-arm64",
}


class BufUnavailableError(RuntimeError):
    """buf is not installed and could not be installed."""


def tools_dir() -> Path:
    state_dir = os.environ.get("CP_STATE_DIR")
    return (Path(state_dir) if state_dir else default_state_dir()) / "tools"


def _candidate_binaries(prefix: Path) -> list[Path]:
    """The native binary first (no node start-up), then npm's node wrapper."""
    modules = prefix / "node_modules"
    candidates = []
    npm_platform = _NPM_PLATFORMS.get((sys.platform, platform.machine().lower()))
    if npm_platform:
        candidates.append(modules / "@bufbuild" / f"buf-{npm_platform}" / "bin" / "buf")
    candidates.append(modules / ".bin" / "buf")
    return candidates


def buf_version(binary: Path) -> str | None:
    try:
        result = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=30)
    except OSError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def find_buf(prefix: Path | None = None) -> Path | None:
    """The pinned buf if it is installed under ``prefix`` (default :func:`tools_dir`)."""
    override = os.environ.get("BUF_BIN")
    if override:
        return Path(override)
    for candidate in _candidate_binaries(prefix or tools_dir()):
        if candidate.is_file() and buf_version(candidate) == BUF_VERSION:
            return candidate
    return None


def install_buf(prefix: Path | None = None) -> Path:
    """Install the pinned buf with npm into ``prefix`` and return the binary."""
    prefix = prefix or tools_dir()
    npm = shutil.which("npm")
    if npm is None:
        raise BufUnavailableError("npm is needed to install buf (package @bufbuild/buf)")
    prefix.mkdir(parents=True, exist_ok=True)
    command = [
        npm,
        "install",
        "--prefix",
        str(prefix),
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        f"{NPM_PACKAGE}@{BUF_VERSION}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise BufUnavailableError(f"npm install {NPM_PACKAGE}@{BUF_VERSION} failed:\n{result.stderr}")
    binary = find_buf(prefix)
    if binary is None:
        raise BufUnavailableError(f"installed {NPM_PACKAGE}@{BUF_VERSION} but found no working buf binary")
    return binary


def ensure_buf() -> Path:
    return find_buf() or install_buf()


def run_buf(args: Sequence[str]) -> int:
    """Run buf from the repository root and return its exit code."""
    return subprocess.run([str(ensure_buf()), *args], cwd=REPO_ROOT).returncode


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cp_tools.buf", description="buf for proto/")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("lint", help=f"buf lint {PROTO_DIR}")
    breaking = commands.add_parser("breaking", help=f"buf breaking {PROTO_DIR} --against REF")
    breaking.add_argument("--against", default=DEFAULT_AGAINST, help=f"default: {DEFAULT_AGAINST}")
    commands.add_parser("install", help="install the pinned buf and print its path")
    args = parser.parse_args(argv)
    try:
        if args.command == "install":
            print(ensure_buf())
            return 0
        if args.command == "lint":
            return run_buf(["lint", PROTO_DIR])
        return run_buf(["breaking", PROTO_DIR, "--against", args.against])
    except BufUnavailableError as exc:
        print(f"buf: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
