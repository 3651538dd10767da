"""``make bench``: run every benchmark module and print one JSON document of figures.

A benchmark is a module ``tests/bench/bench_<name>.py`` with ``async def run() -> dict`` (or a
plain function) returning measured figures. Benchmarks compare against a baseline measured in
the same run (report ratios), because absolute timings on a shared 2-core machine drift.
Select some with ``python -m cp_tools.bench NAME...``.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import json
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[2] / "tests" / "bench"


def discover(names: list[str]) -> list[Path]:
    modules = sorted(BENCH_DIR.glob("bench_*.py"))
    if names:
        modules = [m for m in modules if m.stem.removeprefix("bench_") in names]
    return modules


def run_module(path: Path) -> dict:
    spec = importlib.util.spec_from_file_location(f"bench.{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and pickling look their module up there
    spec.loader.exec_module(module)
    started = time.perf_counter()
    result = module.run()
    if inspect.iscoroutine(result):
        result = asyncio.run(result)
    return {"figures": result, "wall_seconds": round(time.perf_counter() - started, 2)}


def main(argv: list[str]) -> int:
    results: dict[str, object] = {}
    failed = False
    for path in discover(argv):
        name = path.stem.removeprefix("bench_")
        try:
            results[name] = run_module(path)
        except Exception as exc:  # report and continue with the other benchmarks
            failed = True
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps({name: results[name]}), file=sys.stderr, flush=True)
    print(json.dumps(results, indent=2, sort_keys=True))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
