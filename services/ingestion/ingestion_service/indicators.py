"""Indicators of one symbol's candles, computed by the models' own point-in-time code
(:mod:`cp_models.features.indicators`), so the API and the cascade never disagree."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from cp_models.features import indicators as ind
from ingestion_service.api.analytics_schemas import BandsOut, IndicatorsOut, MacdOut, StochasticOut

STOCHASTIC_SMOOTHING = 3
BOLLINGER_STD = 2.0


def _last(frame: pd.DataFrame) -> float | None:
    value = float(frame.iloc[-1, 0])
    return value if math.isfinite(value) else None


def _frames(rows: Sequence[Mapping[str, Any]]) -> dict[str, pd.DataFrame]:
    index = pd.DatetimeIndex([r["open_time"] for r in rows])
    return {
        field: pd.DataFrame({"x": [float(r[field]) for r in rows]}, index=index)
        for field in ("high", "low", "close")
    }


def compute(rows: Sequence[Mapping[str, Any]], *, symbol: str, interval: str, period: int) -> IndicatorsOut:
    """``rows``: candles oldest first (at least one)."""
    f = _frames(rows)
    high, low, close = f["high"], f["low"], f["close"]
    line, signal, histogram = ind.macd(close)
    lower, middle, upper = ind.bollinger(close, period, BOLLINGER_STD)
    k, d = ind.stochastic(high, low, close, period, STOCHASTIC_SMOOTHING)
    return IndicatorsOut(
        symbol=symbol,
        interval=interval,
        period=period,
        as_of=rows[-1]["open_time"],
        close=float(rows[-1]["close"]),
        candles=len(rows),
        rsi=_last(ind.rsi(close, period)),
        macd=MacdOut(line=_last(line), signal=_last(signal), histogram=_last(histogram)),
        bollinger=BandsOut(lower=_last(lower), middle=_last(middle), upper=_last(upper)),
        sma=_last(ind.sma(close, period)),
        ema=_last(ind.ema(close, period)),
        stochastic=StochasticOut(k=_last(k), d=_last(d)),
        williams_r=_last(ind.williams_r(high, low, close, period)),
        cci=_last(ind.cci(high, low, close, period)),
    )
