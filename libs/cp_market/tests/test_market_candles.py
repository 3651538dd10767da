from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from cp_market.candles import (
    CANDLE_COLUMNS,
    Candle,
    CandleFrameError,
    candles_from_frame,
    empty_candle_frame,
    to_candle_frame,
    validate_candle_frame,
)


def _candle(**kw: object) -> Candle:
    base: dict[str, object] = dict(
        symbol="BTC",
        interval="1h",
        open_time=datetime(2024, 1, 1, 10, tzinfo=UTC),
        open=100.0,
        high=110.0,
        low=95.0,
        close=105.0,
        volume=3.0,
        source="binance",
        quote="USDT",
    )
    base.update(kw)
    return Candle(**base)  # type: ignore[arg-type]


def test_candle_is_frozen_and_knows_its_close_time() -> None:
    c = _candle()
    assert c.close_time == datetime(2024, 1, 1, 11, tzinfo=UTC)
    assert math.isnan(c.quote_volume)
    with pytest.raises(AttributeError):
        c.close = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    "bad",
    [
        {"interval": "7m"},
        {"open_time": datetime(2024, 1, 1, 10)},  # naive
        {"symbol": "btc"},
    ],
)
def test_candle_rejects_bad_fields(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        _candle(**bad)


def test_frame_round_trip_and_schema() -> None:
    full = {"quote_volume": 300.0, "market_cap": 1e9}
    candles = [_candle(open_time=datetime(2024, 1, 1, h, tzinfo=UTC), **full) for h in (12, 10, 11)]
    frame = to_candle_frame(candles)
    assert tuple(frame.columns) == CANDLE_COLUMNS
    validate_candle_frame(frame)
    assert frame["open_time"].is_monotonic_increasing
    assert str(frame["open_time"].dt.tz) == "UTC"
    back = candles_from_frame(frame)
    assert [c.open_time.hour for c in back] == [10, 11, 12]
    assert back[0] == _candle(open_time=datetime(2024, 1, 1, 10, tzinfo=UTC), **full)
    validate_candle_frame(empty_candle_frame())


def _frame() -> pd.DataFrame:
    return to_candle_frame([_candle(open_time=datetime(2024, 1, 1, h, tzinfo=UTC)) for h in range(3)])


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f.assign(low=f["high"] + 1), "OHLC"),
        (lambda f: f.assign(close=-1.0), "positive"),
        (lambda f: f.assign(volume=-1.0), "volume"),
        (lambda f: f.assign(symbol="btc"), "upper-case"),
        (lambda f: f.assign(open_time=f["open_time"].iloc[0]), "duplicate"),
        (lambda f: f.iloc[::-1].reset_index(drop=True), "ascending"),
        (lambda f: f.assign(open=f["open"].astype("float32")), "dtype"),
        (lambda f: f[list(reversed(CANDLE_COLUMNS))], "columns"),
    ],
)
def test_validator_catches_broken_frames(mutate, message: str) -> None:
    with pytest.raises(CandleFrameError, match=message):
        validate_candle_frame(mutate(_frame()))


def test_to_candle_frame_fills_optional_columns() -> None:
    df = pd.DataFrame(
        {
            "symbol": ["ETH"],
            "interval": ["1d"],
            "open_time": ["2024-01-01"],
            "open": [1.0],
            "high": [2.0],
            "low": [0.5],
            "close": [1.5],
            "volume": [10],
        }
    )
    frame = to_candle_frame(df)
    validate_candle_frame(frame)
    assert frame.loc[0, "quote"] == "USD" and bool(frame.loc[0, "is_closed"])
    assert np.isnan(frame.loc[0, "market_cap"])
