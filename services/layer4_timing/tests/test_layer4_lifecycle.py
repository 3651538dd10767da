"""The tracker closes signals on real BTC daily bars in each of the three ways, with the
realised returns of a hand computation (entry at the next open, levels from the fill, costs on
both fills), and pays out the paper executions that followed them."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import asyncpg
import pytest

from cp_common.kafka.consumer import PermanentError
from cp_models.backtest.costs import CostModel
from cryptopredict.common.v1 import market_pb2 as common
from layer4_timing_service import paper
from layer4_timing_service.lifecycle import Tracker
from layer4_timing_service.performance import summarise
from layer4_timing_service.storage import evidence
from layer4_timing_service.storage import paper as paper_store
from layer4_timing_service.storage import signals as store
from layer4_timing_service.storage.paper import RiskSettings

from .timing_testing import (
    FEE,
    SLIPPAGE,
    candle_event,
    daily_bars,
    feed,
    long_net,
    new_signal,
    store_signal,
)

DECISION = date(2023, 3, 1)  # BTC closed at 23628.97
ENTRY = 23629.76  # BTC open on 2023-03-02, the fill of a decision taken at the close of 03-01
DEFAULTS = RiskSettings(
    paper_equity=10_000.0, max_position_size=0.1, max_open_positions=5, max_risk_per_trade=0.02
)


@pytest.fixture
def tracker() -> Tracker:
    return Tracker(CostModel(FEE, SLIPPAGE), evidence_window=100, evidence_min_weight=0.1)


async def test_real_bars_close_signals_by_target_stop_and_expiry(
    pool: asyncpg.Pool, tracker: Tracker, data_dir: Path
) -> None:
    bars = daily_bars(data_dir, "BTC", "2023-03-01", "2023-03-08")
    close = float(bars.iloc[0]["close"])
    # stop 23500 (128.97 under the close): 03-02 closes at 23465.32, so it leaves at 03-03's open
    stopped = await store_signal(
        pool, new_signal("BTC", "long", DECISION, close, target_distance=5000, stop_distance=128.97)
    )
    # target 23790 (161.03 over the close): 03-02's high 23796.93 reaches it
    target = await store_signal(
        pool, new_signal("BTC", "long", DECISION, close, target_distance=161.03, stop_distance=5000)
    )
    # levels out of reach, 3 days: leaves at the open of the 4th bar (03-05, 22346.57)
    expiring = await store_signal(
        pool,
        new_signal("BTC", "long", DECISION, close, target_distance=20000, stop_distance=20000, horizon=3),
    )
    await feed(pool, tracker, bars.iloc[:1])  # the decision day's own bar changes nothing
    async with pool.acquire() as conn, conn.transaction():
        execution = await paper.execute(
            conn, paper.Order("trader-1", target.id, 0.05), DEFAULTS, clock_mode="market"
        )
    assert execution.entry_price == close  # the latest daily close known

    await feed(pool, tracker, bars.iloc[1:])
    async with pool.acquire() as conn:
        s1, s2, s3 = [await store.get(conn, s.id) for s in (stopped, target, expiring)]
        (closed_execution,) = await paper_store.for_user(conn, "trader-1")
    assert s1 and s2 and s3
    assert (s1.status, s1.entry_fill_price, s1.exit_price, s1.bars_held) == (
        "stopped_out",
        ENTRY,
        23465.32,
        2,
    )
    assert s1.net_return == pytest.approx(long_net(ENTRY, 23465.32), abs=1e-12)
    assert (s2.status, s2.exit_price, s2.bars_held) == ("target_hit", pytest.approx(23790.0), 1)
    assert s2.net_return == pytest.approx(long_net(ENTRY, 23790.0), abs=1e-12)
    assert s2.gross_return == pytest.approx(23790.0 / ENTRY - 1, abs=1e-12)
    assert (s3.status, s3.exit_price, s3.bars_held) == ("expired", 22346.57, 4)
    assert s3.net_return == pytest.approx(long_net(ENTRY, 22346.57), abs=1e-12)
    # the levels are prices: the fill does not move them
    assert (s1.stop_loss, s2.target_price) == (pytest.approx(23500.0), pytest.approx(23790.0))
    assert s2.closed_at == datetime(2023, 3, 3, tzinfo=UTC)  # the close of the 03-02 bar

    # the paper execution closed with its signal at the signal's exit, net of the same costs
    assert (closed_execution.status, closed_execution.exit_price) == ("closed", pytest.approx(23790.0))
    expected_net = long_net(close, 23790.0)
    assert closed_execution.net_return == pytest.approx(expected_net, abs=1e-12)
    assert closed_execution.realised_pnl == pytest.approx(500.0 * expected_net, abs=1e-9)

    # the live record of these three, by hand
    record = summarise([s1, s2, s3])
    returns = [long_net(ENTRY, 23465.32), long_net(ENTRY, 23790.0), long_net(ENTRY, 22346.57)]
    assert record.signals == 3 and record.wins == 1
    assert record.win_rate == pytest.approx(1 / 3)
    assert record.average_return == pytest.approx(sum(returns) / 3)
    assert record.profit_factor == pytest.approx(returns[1] / -(returns[0] + returns[2]))

    # the evidence: rsi and the model were in favour each time (one winner, two losers),
    # macd was against (a "short" vote) each time: right twice
    async with pool.acquire() as conn:
        accuracy = await evidence.all_accuracy(conn)
    assert (accuracy["rsi"].samples, accuracy["rsi"].accuracy) == (3, pytest.approx(1 / 3))
    assert accuracy["macd"].accuracy == pytest.approx(2 / 3)
    assert accuracy["model"].weight == pytest.approx(1 / 3)
    assert "volume" not in accuracy  # it held: no side, no score


async def test_redelivered_and_foreign_candles_change_nothing(
    pool: asyncpg.Pool, tracker: Tracker, data_dir: Path
) -> None:
    bars = daily_bars(data_dir, "ETH", "2023-03-01", "2023-03-04")
    close = float(bars.iloc[0]["close"])
    signal = await store_signal(
        pool, new_signal("ETH", "short", DECISION, close, target_distance=60, stop_distance=500)
    )
    await feed(pool, tracker, bars)
    async with pool.acquire() as conn:
        first = await store.get(conn, signal.id)
        outbox_rows = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE record_key = $1", str(signal.id).encode()
        )
    assert first is not None and first.status == "target_hit"  # 1675.22: 03-02's high is 1677.86
    await feed(pool, tracker, bars)  # a replay of the same bars
    async with pool.acquire() as conn, conn.transaction():
        hourly = candle_event(bars.iloc[-1], interval=common.INTERVAL_1H)
        await tracker.on_candle(hourly, conn)
        again = await store.get(conn, signal.id)
        assert (
            await conn.fetchval("SELECT count(*) FROM outbox WHERE record_key = $1", str(signal.id).encode())
            == outbox_rows
        )
    assert again == first
    assert outbox_rows == 2  # entry filled, then closed


async def test_a_candle_with_impossible_prices_is_dead_lettered(
    pool: asyncpg.Pool, tracker: Tracker, data_dir: Path
) -> None:
    row = daily_bars(data_dir, "BTC", "2023-03-02", "2023-03-02").iloc[0].copy()
    row["low"] = row["high"] + 1
    async with pool.acquire() as conn, conn.transaction():
        with pytest.raises(PermanentError):
            await tracker.on_candle(candle_event(row), conn)


async def test_cancel_closes_once_and_pays_out_at_the_latest_close(
    pool: asyncpg.Pool, tracker: Tracker
) -> None:
    signal = await store_signal(
        pool, new_signal("SOL", "long", date(2023, 6, 1), 20.0, target_distance=2, stop_distance=1)
    )
    async with pool.acquire() as conn, conn.transaction():
        first = await tracker.cancel(conn, signal.id, "admin: bad data")
        second = await tracker.cancel(conn, signal.id, "again")
        missing = await tracker.cancel(conn, uuid.uuid4(), "unknown")
    assert first is not None and first.status == "cancelled" and first.close_reason == "admin: bad data"
    assert second is None and missing is None
