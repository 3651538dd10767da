"""mypy over ``libs/`` and every service package, each service directory a package root.

    python -m cp_tools.typecheck [mypy options]      # what `make lint` and pre-commit run

The configuration is ``[tool.mypy]`` in ``pyproject.toml``; this wrapper only adds each
``services/<name>`` to ``MYPYPATH``, so a new service is type-checked without being listed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def package_roots(repo: Path = REPO_ROOT) -> list[str]:
    """``libs`` and each ``services/<name>`` directory, relative to ``repo``."""
    services = sorted(p for p in (repo / "services").iterdir() if p.is_dir() and not p.name.startswith("."))
    return ["libs", *(str(p.relative_to(repo)) for p in services)]


def main(argv: Sequence[str] | None = None) -> int:
    env = dict(os.environ, MYPYPATH=os.pathsep.join(package_roots()))
    command = [sys.executable, "-m", "mypy", *(sys.argv[1:] if argv is None else argv)]
    return subprocess.run(command, cwd=REPO_ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
