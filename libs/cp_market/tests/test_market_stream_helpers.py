"""Helpers for live streams: resumable simulation runs, candle aggregation, one-candle checks."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cp_market.aggregate import CandleAggregator, constituents, resample_candles
from cp_market.candles import Candle, candles_from_frame, to_candle_frame, validate_candle_frame
from cp_market.report import RejectReason
from cp_market.simulator import MarketSimulator, SimulationRun
from cp_market.validation import ValidationConfig, check_candle, validate_candles

T0 = datetime(2024, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def hourly() -> pd.DataFrame:
    return MarketSimulator(seed=4).simulate("1h", periods=24 * 6, start="2024-03-01").candles


def test_a_run_continues_the_same_path_in_bulk_and_step_by_step() -> None:
    whole = MarketSimulator(seed=9).simulate("1h", periods=30, start="2024-03-01")
    run = MarketSimulator(seed=9).run("1h", start="2024-03-01")
    first = run.advance(20)
    assert run.next_open_time == pd.Timestamp("2024-03-01 20:00", tz="UTC")
    rest = [c for _ in range(10) for c in run.step().candles]
    combined = to_candle_frame(pd.concat([first.candles, to_candle_frame(rest)], ignore_index=True))
    pd.testing.assert_frame_equal(combined, whole.candles)


def test_a_saved_run_resumes_bit_for_bit_after_a_json_round_trip() -> None:
    simulator = MarketSimulator(seed=9)
    run = simulator.run("1h", start="2024-03-01")
    run.advance(50)
    saved = json.loads(json.dumps(run.state()))
    resumed = SimulationRun.resume(MarketSimulator(seed=9), saved)
    assert resumed.next_open_time == run.next_open_time
    pd.testing.assert_frame_equal(resumed.advance(40).candles, run.advance(40).candles, check_exact=True)
    assert resumed.step().snapshot == run.step().snapshot


def test_resample_builds_complete_buckets_only(hourly: pd.DataFrame) -> None:
    assert constituents("1h", "1d") == 24 and constituents("1h", "4h") == 4
    with pytest.raises(ValueError):
        constituents("1d", "1h")
    # drop one BTC hour on day 3: that BTC day must not exist, every other day must
    day3 = pd.Timestamp("2024-03-03", tz="UTC")
    holed = hourly[~((hourly["symbol"] == "BTC") & (hourly["open_time"] == day3 + pd.Timedelta(hours=7)))]
    daily = resample_candles(holed, "1d")
    validate_candle_frame(daily)
    btc = daily[daily["symbol"] == "BTC"].set_index("open_time")
    assert day3 not in btc.index and len(btc) == 5
    eth_hours = hourly[(hourly["symbol"] == "ETH") & (hourly["open_time"].dt.floor("D") == day3)]
    eth_day = daily[(daily["symbol"] == "ETH") & (daily["open_time"] == day3)].iloc[0]
    assert eth_day["open"] == eth_hours["open"].iloc[0] and eth_day["close"] == eth_hours["close"].iloc[-1]
    assert eth_day["high"] == eth_hours["high"].max() and eth_day["low"] == eth_hours["low"].min()
    assert eth_day["volume"] == pytest.approx(eth_hours["volume"].sum())
    assert eth_day["market_cap"] == eth_hours["market_cap"].iloc[-1]
    assert set(daily["interval"]) == {"1d"}


def test_resample_marks_quote_volume_unknown_if_a_part_lacks_it(hourly: pd.DataFrame) -> None:
    part = hourly[hourly["symbol"] == "SOL"].copy()
    part.loc[part.index[5], "quote_volume"] = np.nan
    four_hourly = resample_candles(part, "4h")
    assert (
        math.isnan(four_hourly["quote_volume"].iloc[1])
        and not four_hourly["quote_volume"].iloc[0] != (four_hourly["quote_volume"].iloc[0])
    )


def test_streaming_aggregator_matches_the_batch(hourly: pd.DataFrame) -> None:
    aggregator = CandleAggregator("1h", ["1d", "4h"])
    emitted: list[Candle] = []
    order: list[str] = []
    for _, step in hourly.groupby("open_time", sort=True):
        out = aggregator.add(candles_from_frame(step))
        emitted.extend(out)
        order.extend(c.interval for c in out)
    for interval in ("4h", "1d"):
        streamed = to_candle_frame([c for c in emitted if c.interval == interval])
        pd.testing.assert_frame_equal(streamed, resample_candles(hourly, interval), check_exact=True)
    # at midnight the 4h candle of 20:00 comes out before the day
    assert order.index("1d") > order.index("4h")


def test_streaming_aggregator_never_emits_an_incomplete_bucket(hourly: pd.DataFrame) -> None:
    aggregator = CandleAggregator("1h", ["4h"])
    btc = candles_from_frame(hourly[hourly["symbol"] == "BTC"].head(12))
    out = [c for candle in btc[:2] + btc[3:] for c in aggregator.add([candle])]  # 02:00 missing
    assert [pd.Timestamp(c.open_time).hour for c in out] == [4, 8]


def _candle(**changes: Any) -> Candle:
    base = Candle(
        symbol="BTC",
        interval="1h",
        open_time=T0,
        open=100.0,
        high=110.0,
        low=95.0,
        close=105.0,
        volume=12.0,
        quote_volume=1260.0,
        source="binance",
        quote="USDT",
        market_cap=5e9,
    )
    return replace(base, **changes)


CASES = [
    _candle(),
    _candle(open=math.nan),
    _candle(volume=math.nan),
    _candle(low=0.0),
    _candle(open=-1.0, low=-2.0),
    _candle(volume=-1.0),
    _candle(high=101.0),
    _candle(low=104.0),
    _candle(low=120.0, high=110.0),
    _candle(open_time=T0 + timedelta(minutes=30)),
    _candle(open_time=T0 + timedelta(hours=5)),  # still open at as_of
    _candle(volume=0.0),
    _candle(market_cap=0.0),
    _candle(low=40.0),  # wick over 50 % of the price
    _candle(symbol="LUNA", open_time=datetime(2022, 6, 1, tzinfo=UTC)),
    _candle(symbol="LUNA", open_time=datetime(2022, 5, 1, tzinfo=UTC)),
    _candle(interval="1d", open_time=T0 + timedelta(hours=1)),
]


@pytest.mark.parametrize("policy", ["remap", "reject"])
@pytest.mark.parametrize("candle", CASES)
def test_check_candle_agrees_with_validate_candles(candle: Candle, policy: str) -> None:
    as_of = T0 + timedelta(hours=5, minutes=30)
    config = ValidationConfig(symbol_reuse=policy)
    accepted, reason = check_candle(candle, as_of=as_of, config=config)
    frame, report = validate_candles(
        to_candle_frame([candle]), interval=candle.interval, as_of=as_of, config=config
    )
    if reason is None:
        assert report.rows_rejected == 0 and accepted is not None
        assert to_candle_frame([accepted]).equals(frame)
    else:
        assert accepted is None
        assert [r.reason for r in report.rejections] == [reason]


def test_check_candle_keeps_an_open_candle_only_when_asked() -> None:
    candle = _candle(open_time=T0 + timedelta(hours=5))
    as_of = T0 + timedelta(hours=5, minutes=30)
    assert check_candle(candle, as_of=as_of)[1] is RejectReason.INCOMPLETE_CANDLE
    kept, _ = check_candle(candle, as_of=as_of, config=ValidationConfig(include_incomplete=True))
    assert kept is not None and not kept.is_closed and "incomplete" in kept.quality_flags


def test_advancing_by_no_period_returns_an_empty_market() -> None:
    """A feed restarted in the hour it last caught up with advances by nothing."""
    run = MarketSimulator(seed=9).run("1h", start="2024-03-01")
    run.advance(5)
    empty = run.advance(0)
    assert empty.candles.empty and empty.snapshots.empty and empty.regimes.empty
    assert list(empty.candles.columns) == list(run.advance(1).candles.columns)
    assert run.next_open_time == pd.Timestamp("2024-03-01 06:00", tz="UTC")
