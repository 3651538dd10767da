"""Bodies of the computed market routes: indicators, batch quotes, movers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from ingestion_service.api.params import SYMBOL_PATTERN
from ingestion_service.api.schemas import AssetOut

MAX_QUOTE_SYMBOLS = 100


class MacdOut(BaseModel):
    line: float | None
    signal: float | None
    histogram: float | None


class BandsOut(BaseModel):
    lower: float | None
    middle: float | None
    upper: float | None


class StochasticOut(BaseModel):
    k: float | None
    d: float | None


class IndicatorsOut(BaseModel):
    """Indicators at the close of the latest stored candle (``as_of`` is its open time). A value
    is null while the history is shorter than its window."""

    symbol: str
    interval: str
    period: int
    as_of: datetime
    close: float
    #: How many candles the values were computed from (the latest of the stored history).
    candles: int
    rsi: float | None = Field(description="Wilder RSI(period), 0..100")
    macd: MacdOut = Field(description="MACD(12, 26, 9) in price units (the period does not apply)")
    bollinger: BandsOut = Field(description="Bollinger bands (period, 2 standard deviations)")
    sma: float | None = Field(description="simple moving average of the close over period")
    ema: float | None = Field(description="exponential moving average of the close, span period")
    stochastic: StochasticOut = Field(description="%K over period, %D its 3-candle average")
    williams_r: float | None = Field(description="Williams %R(period), -100..0")
    cci: float | None = Field(description="Commodity Channel Index(period)")


QuoteSymbol = Annotated[str, Field(pattern=SYMBOL_PATTERN, examples=["BTC"])]


class QuotesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbols: list[QuoteSymbol] = Field(
        min_length=1, max_length=MAX_QUOTE_SYMBOLS, description="1 to 100 symbols, case-insensitive"
    )


class QuotesOut(BaseModel):
    count: int
    quotes: list[AssetOut]
    #: Requested symbols no asset is stored for (upper-cased), in request order.
    unknown: list[str]


class MoversOut(BaseModel):
    """Over the latest daily candle against the day before (24 h)."""

    as_of: datetime | None
    limit: int
    gainers: list[AssetOut]
    losers: list[AssetOut]
    most_active: list[AssetOut]
