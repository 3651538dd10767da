"""Command line: ``python -m cp_models train|evaluate``.

python -m cp_models train [--data DIR] --out DIR [--seed N] [--end DATE]
python -m cp_models evaluate --data DIR --from DATE --to DATE --out DIR
    [--trial-log FILE] [--fee 0.001] [--slippage 0.0005] [--workers 2] [--note TEXT]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time

from cp_models.config import CascadeConfig


def _config(args: argparse.Namespace) -> CascadeConfig:
    cfg = CascadeConfig(seed=args.seed)
    ev = cfg.evaluation
    changes = {}
    if getattr(args, "fee", None) is not None:
        changes["fee"] = args.fee
    if getattr(args, "slippage", None) is not None:
        changes["slippage"] = args.slippage
    if getattr(args, "workers", None) is not None:
        changes["workers"] = args.workers
    if changes:
        cfg = dataclasses.replace(cfg, evaluation=dataclasses.replace(ev, **changes))
    return cfg


def cmd_train(args: argparse.Namespace) -> int:
    from cp_models.training import train_all

    t0 = time.perf_counter()
    artifacts = train_all(args.data, _config(args), end=args.end)
    paths = artifacts.write(args.out)
    print(
        json.dumps(
            {
                "written": [str(p) for p in paths],
                "data_window": artifacts.metadata["data_window"],
                "seconds": round(time.perf_counter() - t0, 1),
            },
            indent=2,
        )
    )
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from cp_models.evaluation.run import evaluate

    t0 = time.perf_counter()
    report = evaluate(
        args.data,
        args.date_from,
        args.date_to,
        args.out,
        _config(args),
        trial_log=args.trial_log,
        workers=args.workers,
        note=args.note or "",
    )
    summary = {
        "out": args.out,
        "targets": {k: v["met"] for k, v in report["targets"].items()},
        "cascade_1x": report["portfolio"]["1x"]["cascade"],
        "wall_seconds": round(time.perf_counter() - t0, 1),
    }
    print(json.dumps(summary, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m cp_models", description="Train and evaluate the AI cascade.")
    sub = p.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train all four layers and write the artifacts")
    t.add_argument("--data", help="data directory laid out like the shared data (default: the simulator)")
    t.add_argument("--out", required=True, help="output directory for artifacts and metadata.json")
    t.add_argument("--end", help="last day of data to use (inclusive)")
    t.add_argument("--seed", type=int, default=CascadeConfig().seed)
    t.set_defaults(func=cmd_train)
    e = sub.add_parser("evaluate", help="walk-forward evaluation with a report")
    e.add_argument("--data", required=True, help="data directory laid out like the shared data")
    e.add_argument("--from", dest="date_from", required=True, help="first out-of-sample day")
    e.add_argument("--to", dest="date_to", required=True, help="last day; nothing after it is read")
    e.add_argument("--out", required=True, help="output directory (report.json, report.md, plots)")
    e.add_argument("--trial-log", help="append-only trial log (default: OUT/trials.jsonl)")
    e.add_argument("--fee", type=float, help="fee per side (default 0.001)")
    e.add_argument("--slippage", type=float, help="slippage per side (default 0.0005)")
    e.add_argument("--workers", type=int, help="parallel fold workers (default 2)")
    e.add_argument("--seed", type=int, default=CascadeConfig().seed)
    e.add_argument("--note", help="free text stored with the trial")
    e.set_defaults(func=cmd_evaluate)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
