"""``python -m ingestion_service backfill``: all of daily/binance_spot_2017-2026 plus the market
and sentiment series, twice. The second run changes nothing and publishes nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from cp_market.dataset import load_candles
from ingestion_service import SCHEMA

from .ingestion_testing import outbox_count, table_checksum

FOLDERS = ("daily/binance_spot_2017-2026", "market", "sentiment", "metadata")


def _cli(database_url: str, state_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "CP_STATE_DIR": str(state_dir), "ENVIRONMENT": "test"}
    return subprocess.run(
        [sys.executable, "-m", "ingestion_service", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
        check=False,
    )


async def _fingerprint(url: str) -> dict[str, Any]:
    conn = await asyncpg.connect(url, server_settings={"search_path": SCHEMA})
    try:
        return {
            "candles": await table_checksum(conn, "candles", "symbol, interval, open_time"),
            "snapshots": await table_checksum(conn, "market_snapshots", "taken_at"),
            "assets": await table_checksum(conn, "assets", "symbol"),
            "outbox": await outbox_count(conn),
        }
    finally:
        await conn.close()


@pytest.fixture(scope="module")
def runs(
    data_dir: Path, fresh_database: Callable[..., str], tmp_path_factory: pytest.TempPathFactory
) -> dict:
    url = fresh_database("ingestion_cli")  # not migrated: the command migrates first
    state = tmp_path_factory.mktemp("cli-state")
    args = [part for folder in FOLDERS for part in ("--data-dir", str(data_dir / folder))]
    first = _cli(url, state, "backfill", *args, "--report", str(state / "first.json"))
    assert first.returncode == 0, first.stderr
    return {"url": url, "state": state, "args": args, "first": json.loads(first.stdout)}


def test_first_run_stores_every_accepted_candle_and_lists_every_rejected_row(
    runs: dict, data_dir: Path
) -> None:
    summary = runs["first"]
    expected, expected_report = load_candles(data_dir / FOLDERS[0], interval="1d")
    assert summary["candles_stored"] == {"inserted": len(expected), "updated": 0, "unchanged": 0}
    assert summary["rejected_by_reason"] == dict(expected_report.rejected_by_reason)
    assert summary["snapshots_stored"]["inserted"] > 2000 and summary["assets_changed"] > 40
    assert summary["events_enqueued"].get("market.candles.v1", 0) == 0  # history: no event storm
    report = json.loads(Path(summary["report"]).read_text())
    assert len(report["rejections"]) == summary["rows_rejected"] > 0
    for rejection in report["rejections"]:
        assert rejection["reason"] == "incomplete_candle" and rejection["file"].endswith("_1d.csv")
        assert rejection["line"] > 1 and rejection["symbol"] and rejection["open_time"]
    assert summary["rows_read"] == summary["rows_accepted"] + summary["rows_rejected"]


async def test_second_run_changes_nothing(runs: dict) -> None:
    before = await _fingerprint(runs["url"])
    again = _cli(
        runs["url"], runs["state"], "backfill", *runs["args"], "--report", str(runs["state"] / "2.json")
    )
    assert again.returncode == 0, again.stderr
    summary = json.loads(again.stdout)
    assert summary["candles_stored"] == {
        "inserted": 0,
        "updated": 0,
        "unchanged": runs["first"]["candles_stored"]["inserted"],
    }
    assert summary["snapshots_stored"]["inserted"] == summary["snapshots_stored"]["updated"] == 0
    assert summary["assets_changed"] == 0 and sum(summary["events_enqueued"].values()) == 0
    assert await _fingerprint(runs["url"]) == before  # row counts, every value and timestamp, no new event


def test_status_reports_coverage_without_gaps(runs: dict) -> None:
    result = _cli(runs["url"], runs["state"], "status", "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    coverage = {row["symbol"]: row for row in status["coverage"]}
    assert len(coverage) == 21 and all(row["interval"] == "1d" for row in coverage.values())
    assert coverage["BTC"]["first"].startswith("2017-08-17") and coverage["BTC"]["missing"] == 0
    assert status["gaps"] == [] and status["latest_snapshot"]["fear_greed"] is not None
    assert [run["source"] for run in status["recent_runs"]][:2] == ["cli:files", "cli:files"]
    text = _cli(runs["url"], runs["state"], "status")
    assert "BTC" in text.stdout and "0 gaps" in text.stdout


def test_bad_arguments_are_refused(tmp_path: Path, database_url: str) -> None:
    result = _cli(database_url, tmp_path, "backfill", "--data-dir", str(tmp_path / "missing"))
    assert result.returncode == 2 and "not a directory" in result.stderr
