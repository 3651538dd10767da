"""Operator commands: ``backfill`` and ``status`` (``serve`` / ``migrate`` are the shared runtime's).

    python -m ingestion_service backfill --data-dir DIR [--data-dir DIR2] [--from 2020-01-01]
                                         [--to 2023-12-31] [--interval 1d --interval 4h] [--report FILE]
    python -m ingestion_service backfill --source synthetic [--days 400] [--intraday-days 30]
    python -m ingestion_service status [--json] [--gaps 20]

``backfill`` migrates the schema, stores everything through the service's pipeline (validation,
upserts, outbox), prints the summary as JSON and writes the full report (every rejected row with
file, line and reason code, every gap) to ``--report`` (default
``<CP_STATE_DIR>/ingestion/backfill-<time>.json``). Running it again changes nothing. Events
it enqueues (only for candles that closed within the event window) are relayed to Kafka by the
running service. ``status`` shows, per symbol and interval, the candles stored, the covered
range and the gaps, then the latest snapshot and the last import runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cp_common.db.migrations import upgrade
from cp_common.db.pool import close_pool, create_pool
from cp_common.logging import configure_logging
from cp_common.settings import SettingsError, load_settings
from ingestion_service import MIGRATIONS_DIR, SCHEMA
from ingestion_service.feeds.base import Feed
from ingestion_service.feeds.files import FilesFeed
from ingestion_service.feeds.synthetic import SyntheticFeed
from ingestion_service.pipeline import IngestResult
from ingestion_service.settings import STORED_INTERVALS, IngestionSettings
from ingestion_service.sources import create_pipeline
from ingestion_service.storage import candles as candle_store
from ingestion_service.storage import runs
from ingestion_service.storage import snapshots as snapshot_store

COMMANDS = ("backfill", "status")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ingestion_service", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    backfill = sub.add_parser("backfill", help="store history from data directories or the simulator")
    backfill.add_argument("--source", choices=("files", "synthetic"), default="files")
    backfill.add_argument(
        "--data-dir",
        action="append",
        type=Path,
        default=[],
        help="a directory of data files (repeatable; files are recognised by header)",
    )
    backfill.add_argument("--from", dest="start", help="first open time to store (ISO date)")
    backfill.add_argument("--to", dest="end", help="last open time to store (ISO date)")
    backfill.add_argument(
        "--interval",
        action="append",
        choices=STORED_INTERVALS,
        help="only these intervals (repeatable; default all)",
    )
    backfill.add_argument("--days", type=int, default=400, help="synthetic: days of daily history")
    backfill.add_argument("--intraday-days", type=int, default=30, help="synthetic: days of 1h/4h candles")
    backfill.add_argument("--report", type=Path, help="where to write the full JSON report")
    status = sub.add_parser("status", help="coverage per symbol and interval, gaps, latest snapshot")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument("--gaps", type=int, default=20, help="list at most this many gaps (text output)")
    return parser


def main(argv: Sequence[str]) -> int:
    args = _parser().parse_args(list(argv))
    try:
        settings = load_settings(IngestionSettings)
    except SettingsError as exc:
        print(f"ingestion: {exc}", file=sys.stderr)
        return 2
    if not settings.database_url:
        print("ingestion: DATABASE_URL is required", file=sys.stderr)
        return 2
    configure_logging("ingestion-cli", "WARNING")
    if args.command == "backfill":
        if args.source == "files" and not args.data_dir:
            print("ingestion: backfill --source files needs --data-dir", file=sys.stderr)
            return 2
        missing = [str(d) for d in args.data_dir if not d.is_dir()]
        if missing:
            print(f"ingestion: not a directory: {', '.join(missing)}", file=sys.stderr)
            return 2
        return asyncio.run(_backfill(settings, args))
    return asyncio.run(_status(settings, as_json=args.json, max_gaps=args.gaps))


def _feed(settings: IngestionSettings, args: argparse.Namespace, pool: Any) -> Feed:
    if args.source == "synthetic":
        # the service's seed: a different one would start a new market over the stored one
        return SyntheticFeed(
            pool,
            seed=settings.ingestion_synthetic_seed,
            history_days=args.days,
            intraday_days=args.intraday_days,
        )
    intervals = args.interval or STORED_INTERVALS
    return FilesFeed(args.data_dir, intervals=intervals, start=args.start, end=args.end)


async def _backfill(settings: IngestionSettings, args: argparse.Namespace) -> int:
    url = settings.database_url
    assert url is not None
    await asyncio.to_thread(upgrade, url, SCHEMA, MIGRATIONS_DIR)
    pool = await create_pool(url, SCHEMA, min_size=1, max_size=2, register_metrics=False)
    try:
        started = datetime.now(UTC)
        pipeline = create_pipeline(settings, pool)
        feed = _feed(settings, args, pool)
        total = IngestResult()
        async for batch in feed.backfill():
            total.merge(await pipeline.ingest(batch))
        summary = total.summary()
        await runs.record_run(pool, f"cli:{feed.name}", started, summary)
    finally:
        await close_pool(pool)
    path = args.report or settings.state_dir / "ingestion" / f"backfill-{started:%Y%m%dT%H%M%SZ}.json"
    write_report(path, total)
    print(json.dumps({**summary, "report": str(path)}, indent=2, default=str))
    return 0


def write_report(path: Path, result: IngestResult) -> None:
    """The summary, every rejected row (file, line, reason, symbol, open time) and every gap."""
    report = result.report
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "summary": result.summary(),
        "rejections": [{**asdict(r), "reason": str(r.reason)} for r in report.rejections],
        "gaps": [
            {**asdict(g), "after": g.after.isoformat(), "before": g.before.isoformat()} for g in report.gaps
        ],
        "files": report.files,
    }
    path.write_text(json.dumps(document, indent=1, default=str))


async def _status(settings: IngestionSettings, *, as_json: bool, max_gaps: int) -> int:
    url = settings.database_url
    assert url is not None
    pool = await create_pool(url, SCHEMA, min_size=1, max_size=2, register_metrics=False)
    try:
        if await pool.fetchval("SELECT to_regclass('candles')") is None:
            print(
                "ingestion: the schema is not migrated yet (run `python -m ingestion_service migrate`)",
                file=sys.stderr,
            )
            return 1
        coverage = await candle_store.coverage(pool)
        gaps = await candle_store.gaps(pool)
        latest = await snapshot_store.latest_snapshot(pool)
        recent = await runs.recent_runs(pool)
    finally:
        await close_pool(pool)
    gap_count: dict[tuple[str, str], int] = {}
    for gap in gaps:
        gap_count[gap.symbol, gap.interval] = gap_count.get((gap.symbol, gap.interval), 0) + 1
    coverage_rows: list[dict[str, Any]] = [
        {
            "symbol": c.symbol,
            "interval": c.interval,
            "candles": c.candles,
            "first": c.first.isoformat(),
            "last": c.last.isoformat(),
            "missing": c.missing,
            "gaps": gap_count.get((c.symbol, c.interval), 0),
            "sources": c.sources,
        }
        for c in coverage
    ]
    gap_rows: list[dict[str, Any]] = [
        {
            "symbol": g.symbol,
            "interval": g.interval,
            "after": g.after.isoformat(),
            "before": g.before.isoformat(),
            "missing": g.missing,
        }
        for g in gaps
    ]
    document = {
        "coverage": coverage_rows,
        "gaps": gap_rows,
        "latest_snapshot": None if latest is None else {k: latest[k] for k in latest.keys()},
        "recent_runs": recent,
    }
    if as_json:
        print(json.dumps(document, indent=2, default=str))
        return 0
    header = ("symbol", "interval", "candles", "first", "last", "missing", "gaps")
    print("{:<8} {:<8} {:>8} {:<20} {:<20} {:>8} {:>5}".format(*header))
    for row in coverage_rows:
        print(
            f"{row['symbol']:<8} {row['interval']:<8} {row['candles']:>8} {row['first'][:19]:<20} "
            f"{row['last'][:19]:<20} {row['missing']:>8} {row['gaps']:>5}"
        )
    print(f"\n{len(gaps)} gaps" + (f" (first {max_gaps}):" if gaps else ""))
    for item in gap_rows[:max_gaps]:
        print(
            f"  {item['symbol']} {item['interval']}: {item['missing']} missing between {item['after']} "
            f"and {item['before']}"
        )
    if latest is not None:
        print(
            f"\nlatest snapshot: {latest['taken_at'].isoformat()} total market cap "
            f"{latest['total_market_cap']} fear & greed {latest['fear_greed']} ({latest['source']})"
        )
    for run in recent:
        print(
            f"import run {run['id']} {run['source']} at {run['finished_at']:%Y-%m-%d %H:%M:%S}: "
            f"{json.dumps(run['summary'].get('candles_stored'))}"
        )
    return 0
