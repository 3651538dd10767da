"""Run buf (lint, breaking-change check) on ``proto/`` with a pinned, project-local binary.

buf is installed on first use from the npm package ``@bufbuild/buf`` into
``<state dir>/tools`` (``.state/tools`` unless ``CP_STATE_DIR`` says otherwise; gitignored),
so nothing global is needed besides ``npm``. ``BUF_BIN`` overrides the binary to run.

    python -m cp_tools.buf lint                  # buf lint proto
    python -m cp_tools.buf breaking [--against REF]
    python -m cp_tools.buf install               # just install; prints the binary's path

``breaking`` without ``--against`` compares ``proto/`` with the merge base (see
:func:`breaking_base`): the fork point from ``origin/main`` or ``main`` on a branch, and on
``main`` itself (CI's fresh clone) the commit before the last change to ``proto/``. With no
base to compare (a shallow clone, no git, no proto history) it says so and passes.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cp_common.settings import default_state_dir

BUF_VERSION = "1.75.0"
NPM_PACKAGE = "@bufbuild/buf"
REPO_ROOT = Path(__file__).resolve().parents[2]
PROTO_DIR = "proto"
#: Branches a feature branch is compared against, in order of preference.
BASE_BRANCHES = ("origin/main", "main")

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


def _git(*args: str, cwd: Path = REPO_ROOT) -> str | None:
    """``git args`` in ``cwd``: its stripped stdout, or None if git fails or is missing."""
    try:
        result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    except OSError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


@dataclass(frozen=True)
class BreakingBase:
    """What ``proto/`` is compared against: a commit, or why there is none."""

    commit: str | None
    why: str


def breaking_base(repo: Path = REPO_ROOT) -> BreakingBase:
    """The commit whose ``proto/`` a change must stay compatible with.

    On a branch: the merge base with ``origin/main`` (or ``main``). On ``main`` itself, where
    the merge base is HEAD: the first parent of the last first-parent commit that changed
    ``proto/``, i.e. the contracts as they were before the latest change landed.
    """
    if _git("rev-parse", "--is-inside-work-tree", cwd=repo) != "true":
        return BreakingBase(None, "not a git checkout")
    if _git("rev-parse", "--is-shallow-repository", cwd=repo) == "true":
        return BreakingBase(None, "shallow clone (no history to compare with)")
    head = _git("rev-parse", "HEAD", cwd=repo)
    for branch in BASE_BRANCHES:
        base = _git("merge-base", "HEAD", branch, cwd=repo)
        if base and base != head:
            return BreakingBase(base, f"merge base with {branch}")
    last_change = _git("log", "-1", "--first-parent", "--format=%H", "HEAD", "--", PROTO_DIR, cwd=repo)
    if not last_change:
        return BreakingBase(None, f"no commit has changed {PROTO_DIR}/")
    parent = _git("rev-parse", "--verify", "--quiet", f"{last_change}^1", cwd=repo)
    if not parent:
        return BreakingBase(None, f"{PROTO_DIR}/ was created by the first commit")
    return BreakingBase(parent, f"before the last change to {PROTO_DIR}/ ({last_change[:12]})")


def _against(base: str, repo: Path = REPO_ROOT) -> str:
    git_dir = _git("rev-parse", "--path-format=absolute", "--git-common-dir", cwd=repo) or ".git"
    return f"{git_dir}#format=git,ref={base},subdir={PROTO_DIR}"


def breaking(against: str | None) -> int:
    """``buf breaking`` against ``against``, or against :func:`breaking_base`."""
    if against is None:
        base = breaking_base()
        if base.commit is None:
            print(f"buf breaking: skipped, no base to compare with: {base.why}")
            return 0
        if _git("diff", "--quiet", base.commit, "--", PROTO_DIR) is not None:
            print(f"buf breaking: {PROTO_DIR}/ unchanged since {base.commit[:12]} ({base.why})")
            return 0
        print(f"buf breaking: comparing {PROTO_DIR}/ with {base.commit[:12]} ({base.why})")
        against = _against(base.commit)
    return run_buf(["breaking", PROTO_DIR, "--against", against])


def run_buf(args: Sequence[str]) -> int:
    """Run buf from the repository root and return its exit code."""
    return subprocess.run([str(ensure_buf()), *args], cwd=REPO_ROOT).returncode


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cp_tools.buf", description="buf for proto/")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("lint", help=f"buf lint {PROTO_DIR}")
    breaking_parser = commands.add_parser("breaking", help=f"buf breaking {PROTO_DIR} --against REF")
    breaking_parser.add_argument("--against", default=None, help="a buf input; default: the merge base")
    commands.add_parser("install", help="install the pinned buf and print its path")
    args = parser.parse_args(argv)
    try:
        if args.command == "install":
            print(ensure_buf())
            return 0
        if args.command == "lint":
            return run_buf(["lint", PROTO_DIR])
        return breaking(args.against)
    except BufUnavailableError as exc:
        print(f"buf: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
