"""The normalised candle: one frozen record type and one canonical pandas "candle frame".

Every importer, the simulator and every source produce candles in this shape, so the
ingestion service, the feature code and model training all read the same columns.

Conventions
-----------
* ``symbol`` is the upper-case base asset ("BTC", not "BTCUSDT"); ``quote`` keeps the
  quote currency ("USDT" for Binance pairs, "USD" for Yahoo/CMC, "USD" for synthetic).
* ``open_time`` is the UTC, tz-aware start of the candle. A candle covers
  ``[open_time, open_time + interval)``.
* ``volume`` is in base units. Sources that only publish a quote/USD volume (Yahoo, CMC)
  get ``volume = quote_volume / typical_price`` and the ``volume_derived`` flag.
* ``quote_volume`` and ``market_cap`` may be NaN when the source lacks them.
* ``is_closed`` is False for a candle that was still open when the data were captured.
* ``quality_flags`` holds non-fatal quality flags, ``|``-joined (see ``CandleFlag``); "" if none.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import numpy as np
import pandas as pd

INTERVALS: dict[str, timedelta] = {
    "1m": timedelta(minutes=1),
    "5m": timedelta(minutes=5),
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "4h": timedelta(hours=4),
    "1d": timedelta(days=1),
}
"""Supported candle intervals (the cascade uses 1h, 4h and 1d)."""


class CandleFlag(StrEnum):
    """Non-fatal quality flags carried in the ``quality_flags`` column."""

    ZERO_VOLUME = "zero_volume"
    EXTREME_WICK = "extreme_wick"
    INCOMPLETE = "incomplete"
    MARKET_CAP_MISSING = "market_cap_missing"
    VOLUME_DERIVED = "volume_derived"
    TIME_LABEL_MISMATCH = "time_label_mismatch"  # text time disagreed with the epoch; epoch used


def interval_delta(interval: str) -> pd.Timedelta:
    """The length of one candle of ``interval`` ("1h", "4h", "1d", ...)."""
    try:
        return pd.Timedelta(INTERVALS[interval])
    except KeyError:
        raise ValueError(f"unsupported interval {interval!r}; expected one of {sorted(INTERVALS)}") from None


CANDLE_COLUMNS: tuple[str, ...] = (
    "symbol",
    "quote",
    "interval",
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "quote_volume",
    "market_cap",
    "source",
    "is_closed",
    "quality_flags",
)
"""Canonical column order of a candle frame."""

TIME_DTYPE = pd.DatetimeTZDtype(unit="ns", tz="UTC")
FLOAT_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close", "volume", "quote_volume", "market_cap")
STRING_COLUMNS: tuple[str, ...] = ("symbol", "quote", "interval", "source", "quality_flags")

CANDLE_DTYPES: dict[str, object] = {
    **{c: "str" for c in STRING_COLUMNS},
    "open_time": TIME_DTYPE,
    **{c: "float64" for c in FLOAT_COLUMNS},
    "is_closed": "bool",
}
"""Canonical dtypes. String columns use pandas' default string dtype."""


@dataclass(frozen=True, slots=True)
class Candle:
    """One normalised OHLCV candle (immutable)."""

    symbol: str
    interval: str
    open_time: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float
    quote_volume: float = math.nan
    source: str = "unknown"
    quote: str = "USD"
    market_cap: float = math.nan
    is_closed: bool = True
    quality_flags: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if self.interval not in INTERVALS:
            raise ValueError(f"unsupported interval {self.interval!r}")
        if self.open_time.tzinfo is None:
            raise ValueError("open_time must be timezone-aware (UTC)")
        if self.symbol != self.symbol.upper() or not self.symbol:
            raise ValueError(f"symbol must be upper-case and non-empty, got {self.symbol!r}")

    @property
    def close_time(self) -> datetime:
        """Exclusive end of the candle (``open_time + interval``)."""
        return self.open_time + INTERVALS[self.interval]

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["quality_flags"] = "|".join(self.quality_flags)
        return d


def empty_candle_frame() -> pd.DataFrame:
    """A zero-row candle frame with the canonical columns and dtypes."""
    return pd.DataFrame({c: pd.Series([], dtype=CANDLE_DTYPES[c]) for c in CANDLE_COLUMNS})


OPTIONAL_COLUMN_DEFAULTS: dict[str, object] = {
    "quote": "USD",
    "quote_volume": np.nan,
    "market_cap": np.nan,
    "source": "unknown",
    "is_closed": True,
    "quality_flags": "",
}


def with_optional_columns(data: pd.DataFrame, **overrides: object) -> pd.DataFrame:
    """A copy of ``data`` with every missing optional candle column filled with its default
    (``overrides`` adds or replaces defaults, e.g. ``interval="1d"``)."""
    df = data.copy()
    for col, value in {**OPTIONAL_COLUMN_DEFAULTS, **overrides}.items():
        if col not in df.columns:
            df[col] = value
    return df


def to_candle_frame(data: pd.DataFrame | Iterable[Candle]) -> pd.DataFrame:
    """Coerce a DataFrame (or an iterable of ``Candle``) into the canonical frame.

    Missing optional columns are filled (``quote_volume``/``market_cap`` NaN, ``quote``
    "USD", ``is_closed`` True, ``quality_flags`` ""); extra columns are dropped; rows are sorted
    by (symbol, open_time) and the index is reset.
    """
    if not isinstance(data, pd.DataFrame):
        rows = [c.to_dict() for c in data]
        data = pd.DataFrame(rows) if rows else empty_candle_frame()
    df = with_optional_columns(data)
    missing = [c for c in CANDLE_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"candle frame is missing required columns: {missing}")
    df = df.loc[:, list(CANDLE_COLUMNS)]
    df["open_time"] = to_utc_series(df["open_time"])
    for c in FLOAT_COLUMNS:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    df["quality_flags"] = df["quality_flags"].fillna("")
    for c in STRING_COLUMNS:
        df[c] = df[c].astype("str")
    df["is_closed"] = df["is_closed"].fillna(True).astype("bool")
    return df.sort_values(["symbol", "open_time"], kind="stable").reset_index(drop=True)


def to_utc_series(values: pd.Series) -> pd.Series:
    """Convert datetimes (naive = UTC) to the canonical ``datetime64[ns, UTC]`` dtype."""
    s = pd.to_datetime(values, utc=True)
    return s.astype(TIME_DTYPE)


def to_utc_timestamp(value: object) -> pd.Timestamp | None:
    """Parse a bound (str, date, datetime, Timestamp; naive = UTC) into a UTC Timestamp."""
    if value is None:
        return None
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        return ts.tz_localize("UTC")
    return ts.tz_convert("UTC")


class CandleFrameError(ValueError):
    """Raised by ``validate_candle_frame`` when a frame breaks the schema."""


def validate_candle_frame(df: pd.DataFrame, *, check_values: bool = True) -> None:
    """Check that ``df`` is a canonical candle frame; raise ``CandleFrameError`` if not.

    Schema: exact columns in ``CANDLE_COLUMNS`` order, dtypes per ``CANDLE_DTYPES``.
    With ``check_values``: upper-case symbols, known intervals, positive prices,
    ``low <= open, close <= high``, non-negative volume, and (symbol, interval, open_time)
    unique and ascending per symbol.
    """
    if tuple(df.columns) != CANDLE_COLUMNS:
        raise CandleFrameError(f"columns {list(df.columns)} != {list(CANDLE_COLUMNS)}")
    problems = _dtype_problems(df)
    if problems:
        raise CandleFrameError("; ".join(problems))
    if not check_values or df.empty:
        return
    problems = _value_problems(df)
    if problems:
        raise CandleFrameError("; ".join(problems))


def _dtype_problems(df: pd.DataFrame) -> list[str]:
    problems: list[str] = []
    if df["open_time"].dtype != TIME_DTYPE:
        problems.append(f"open_time dtype {df['open_time'].dtype} != {TIME_DTYPE}")
    for c in FLOAT_COLUMNS:
        if df[c].dtype != np.float64:
            problems.append(f"{c} dtype {df[c].dtype} != float64")
    for c in STRING_COLUMNS:
        if not pd.api.types.is_string_dtype(df[c]):
            problems.append(f"{c} dtype {df[c].dtype} is not a string dtype")
    if df["is_closed"].dtype != np.bool_:
        problems.append(f"is_closed dtype {df['is_closed'].dtype} != bool")
    return problems


def _value_problems(df: pd.DataFrame) -> list[str]:
    problems: list[str] = []
    if (df["symbol"] != df["symbol"].str.upper()).any() or (df["symbol"] == "").any():
        problems.append("symbols must be upper-case and non-empty")
    bad_iv = set(df["interval"].unique()) - set(INTERVALS)
    if bad_iv:
        problems.append(f"unknown intervals {sorted(bad_iv)}")
    prices = df[["open", "high", "low", "close"]]
    if prices.isna().any().any() or (prices <= 0).any().any():
        problems.append("prices must be positive and not NaN")
    if (df["low"] > df[["open", "close"]].min(axis=1)).any() or (
        df["high"] < df[["open", "close"]].max(axis=1)
    ).any():
        problems.append("OHLC inconsistent (need low <= open, close <= high)")
    if df["volume"].isna().any() or (df["volume"] < 0).any():
        problems.append("volume must be non-negative and not NaN")
    return problems + _order_problems(df)


def _order_problems(df: pd.DataFrame) -> list[str]:
    problems: list[str] = []
    if df.duplicated(["symbol", "interval", "open_time"]).any():
        problems.append("duplicate (symbol, interval, open_time) rows")
    increasing = df.groupby(["symbol", "interval"], sort=False)["open_time"].apply(
        lambda s: s.is_monotonic_increasing
    )
    if not increasing.all():
        problems.append("open_time not ascending within a symbol")
    return problems


def candles_from_frame(df: pd.DataFrame) -> list[Candle]:
    """Turn a candle frame into ``Candle`` records (for streaming / events)."""
    out: list[Candle] = []
    for row in df.itertuples(index=False):
        out.append(
            Candle(
                symbol=row.symbol,
                interval=row.interval,
                open_time=row.open_time.to_pydatetime().astimezone(UTC),
                open=float(row.open),
                high=float(row.high),
                low=float(row.low),
                close=float(row.close),
                volume=float(row.volume),
                quote_volume=float(row.quote_volume),
                source=row.source,
                quote=row.quote,
                market_cap=float(row.market_cap),
                is_closed=bool(row.is_closed),
                quality_flags=tuple(f for f in str(row.quality_flags).split("|") if f),
            )
        )
    return out
