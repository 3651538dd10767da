"""The fleet-wide live record (``GetPerformanceSummary``'s figures) as SQL aggregates over the
signal table: counts generated / open / closed by outcome in the window, and the same trade
record as ``performance.summarise`` computes from the closed rows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from cp_common.errors import BadRequest
from cryptopredict.analysis.v1 import timing_pb2 as pb
from layer4_timing_service.components import build_components
from layer4_timing_service.grpc_api import TimingSignalsGrpcService
from layer4_timing_service.performance import summarise
from layer4_timing_service.settings import TimingSettings
from layer4_timing_service.storage import signals as store
from layer4_timing_service.storage import summary as summary_store
from layer4_timing_service.storage.signals import Closing

from .timing_testing import new_signal, store_signal

NOW = datetime.now(UTC)


async def _closed(pool: asyncpg.Pool, symbol: str, status: str, net: float | None, days_ago: float) -> None:
    signal = await store_signal(
        pool,
        new_signal(
            symbol, "long", date.today() - timedelta(days=40), 100.0, target_distance=5, stop_distance=2
        ),
    )
    closing = Closing(
        status=status, closed_at=NOW - timedelta(days=days_ago), exit_price=100.0, net_return=net
    )
    async with pool.acquire() as conn:
        assert await store.close(conn, signal.id, closing) is not None


async def test_an_empty_table_has_zero_counts_and_no_rates(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        empty = await summary_store.summary(conn, NOW - timedelta(days=30))
    assert (empty.generated, empty.open, empty.trades, empty.wins, empty.total_return) == (0, 0, 0, 0, 0.0)
    assert empty.closed_by_outcome == {"target_hit": 0, "stopped_out": 0, "expired": 0, "cancelled": 0}
    assert (empty.win_rate, empty.average_return, empty.profit_factor) == (None, None, None)


async def test_counts_and_the_trade_record_match_the_closed_rows(pool: asyncpg.Pool) -> None:
    since = NOW - timedelta(days=30)
    await _closed(pool, "BTC", "target_hit", 0.05, days_ago=2)
    await _closed(pool, "ETH", "target_hit", 0.03, days_ago=3)
    await _closed(pool, "SOL", "stopped_out", -0.02, days_ago=4)
    await _closed(pool, "ADA", "expired", -0.01, days_ago=5)
    await _closed(pool, "XRP", "cancelled", -0.004, days_ago=1)  # cancelled: closed, not a trade
    await _closed(pool, "DOT", "target_hit", 0.09, days_ago=45)  # before the window
    await store_signal(
        pool, new_signal("LINK", "short", date.today(), 10.0, target_distance=1, stop_distance=1)
    )
    async with pool.acquire() as conn:
        found = await summary_store.summary(conn, since)
        record = summarise(await store.closed_since(conn, since))
    # new_signal generates a signal the day after its decision day: the closed ones 39 days ago
    # (before the window), the open one tomorrow
    assert found.generated == 1 and found.open == 1
    assert found.closed_by_outcome == {"target_hit": 2, "stopped_out": 1, "expired": 1, "cancelled": 1}
    assert (found.trades, found.wins) == (4, 2) == (record.signals, record.wins)
    assert found.win_rate == pytest.approx(0.5) == record.win_rate
    assert found.total_return == pytest.approx(0.05) == pytest.approx(record.total_return)
    assert found.average_return == pytest.approx(0.0125) == pytest.approx(record.average_return)
    assert found.profit_factor == pytest.approx(0.08 / 0.03) == pytest.approx(record.profit_factor)


async def test_the_grpc_method_defaults_to_30_days_and_refuses_other_windows(
    pool: asyncpg.Pool, migrated_database
) -> None:
    settings = TimingSettings(environment="test", database_url=migrated_database())
    servicer = TimingSignalsGrpcService(None, build_components(settings, pool))
    reply = await servicer.GetPerformanceSummary(pb.GetPerformanceSummaryRequest(), None)
    assert reply.period_days == 30
    since, until = reply.since.ToDatetime(tzinfo=UTC), reply.until.ToDatetime(tzinfo=UTC)
    assert abs((until - datetime.now(UTC)).total_seconds()) < 60
    assert until - since == timedelta(days=30)
    async with pool.acquire() as conn:
        direct = await summary_store.summary(conn, since)
    assert (reply.generated, reply.open, reply.trades, reply.wins) == (
        direct.generated,
        direct.open,
        direct.trades,
        direct.wins,
    )
    assert dict(reply.closed_by_outcome) == direct.closed_by_outcome
    assert reply.HasField("win_rate") == (direct.win_rate is not None)
    week = await servicer.GetPerformanceSummary(pb.GetPerformanceSummaryRequest(days=7), None)
    assert week.period_days == 7
    assert week.until.ToDatetime(tzinfo=UTC) - week.since.ToDatetime(tzinfo=UTC) == timedelta(days=7)
    for days in (-1, 366):
        with pytest.raises(BadRequest, match="between 1 and 365"):
            await servicer.GetPerformanceSummary(pb.GetPerformanceSummaryRequest(days=days), None)
