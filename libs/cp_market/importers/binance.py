"""Binance spot klines in the CSV layouts found in public exports.

Layouts (recognised from the header line):

* ``timestamp,open,high,low,close,volume`` - ISO date or date-time of the candle open
  (daily ``2018-04-17``, intraday ``2017-08-17 04:00:00``);
* ``time,open,high,low,close,volume,timestamp`` - ISO open time plus epoch milliseconds
  (both are parsed; the epoch wins and a disagreement is flagged ``time_label_mismatch``).
  This export comes from a trading bot that appended some candles before the day had
  closed and never refreshed them; rows on ``STALE_PARTIAL_DATES`` are rejected as ``stale_partial_candle``;
* ``date,open,high,low,close,volume,ticker`` - ISO open time, the pair in ``ticker``;
* raw kline dumps (``data.binance.vision``), with or without a header:
  ``open_time,open,high,low,close,volume,close_time,quote_volume,count,...`` where the
  epoch times are milliseconds or (from 2025) microseconds.

Symbol and interval come from the file name (``BTCUSDT_1d.csv``, ``BTCUSDT-1h-2024-01.csv``)
or the ``ticker`` column; volume is in base units; quote is the pair's quote asset.
The last candle of a file is treated as still open (the capture time is unknown).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cp_market.candles import CandleFlag
from cp_market.importers._common import (
    candle_importer,
    csv_columns,
    epoch_to_utc,
    flag_rows,
    infer_interval,
    line_numbers,
    numeric_columns,
    pair_and_interval_from_name,
    pre_reject,
    read_csv,
    read_head,
    symbols_from_pairs,
    text_to_utc,
)
from cp_market.report import RejectReason

FORMAT = "binance_klines"
SOURCE = "binance"

HEADER_TIMESTAMP = ["timestamp", "open", "high", "low", "close", "volume"]
HEADER_TIME_MS = ["time", "open", "high", "low", "close", "volume", "timestamp"]
HEADER_TICKER = ["date", "open", "high", "low", "close", "volume", "ticker"]
RAW_KLINE_COLUMNS = [
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "count",
    "taker_buy_volume",
    "taker_buy_quote_volume",
    "ignore",
]

STALE_PARTIAL_DATES: frozenset[str] = frozenset(
    {
        "2021-01-21",
        "2022-03-22",
        "2022-03-26",
        "2022-03-27",
        "2022-03-28",
        "2022-04-09",
        "2022-04-15",
        "2022-05-30",
        "2022-06-05",
    }
)
"""Days on which the ``time,...,timestamp`` export holds never-refreshed partial candles."""


def layout(head: list[str]) -> str | None:
    """The layout name for a file whose first lines are ``head``, or None."""
    if not head:
        return None
    cols = csv_columns(head[0])
    if cols == HEADER_TIMESTAMP:
        return "timestamp"
    if cols == HEADER_TIME_MS:
        return "time_ms"
    if cols == HEADER_TICKER:
        return "ticker"
    if cols[:6] == RAW_KLINE_COLUMNS[:6] and "close_time" in cols:
        return "raw_header"
    if len(cols) >= 11 and all(_is_number(c) for c in cols[:6]):
        return "raw"
    return None


def sniff(path: Path, head: list[str]) -> bool:
    return layout(head) is not None


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def parse_file(path: Path | str, *, interval: str | None = None) -> tuple[pd.DataFrame, str]:
    """Parse one Binance kline CSV into raw candle rows (not yet validated) and its interval."""
    path = Path(path)
    kind = layout(read_head(path, 1))
    if kind is None:
        raise ValueError(f"{path.name}: not a recognised Binance kline layout")
    if kind == "raw":
        df = pd.read_csv(path, header=None, names=RAW_KLINE_COLUMNS)
    else:
        df = read_csv(path)
    raw = pd.DataFrame(index=df.index)
    raw["_line"] = line_numbers(len(df), 0 if kind == "raw" else 1)
    raw["_file"] = path.name
    raw["_reject"] = pd.Series([None] * len(df), index=df.index, dtype=object)

    if kind == "timestamp":
        raw["open_time"] = text_to_utc(df["timestamp"])
    elif kind == "ticker":
        raw["open_time"] = text_to_utc(df["date"])
    elif kind == "time_ms":
        t_text = text_to_utc(df["time"])
        t_num = epoch_to_utc(df["timestamp"])
        raw["open_time"] = t_num.where(t_num.notna(), t_text)
        flag_rows(raw, t_text.notna() & t_num.notna() & (t_text != t_num), CandleFlag.TIME_LABEL_MISMATCH)
        day = raw["open_time"].dt.strftime("%Y-%m-%d")
        pre_reject(raw, day.isin(STALE_PARTIAL_DATES), RejectReason.STALE_PARTIAL_CANDLE)
    else:  # raw kline dumps
        raw["open_time"] = epoch_to_utc(df["open_time"])

    cols = ["open", "high", "low", "close", "volume"]
    if kind in ("raw", "raw_header"):
        cols.append("quote_volume")
    values, bad = numeric_columns(df, cols)
    for c in cols:
        raw[c] = values[c]
    pre_reject(raw, bad, RejectReason.BAD_NUMBER)
    pre_reject(raw, raw["open_time"].isna(), RejectReason.BAD_TIMESTAMP)

    pair, name_interval = pair_and_interval_from_name(path)
    pairs = df["ticker"] if kind == "ticker" else pd.Series(pair or "", index=df.index)
    raw["symbol"], raw["quote"] = symbols_from_pairs(pairs, "USDT")
    raw["source"] = SOURCE
    iv = interval or name_interval or infer_interval(raw["open_time"])
    if iv is None:
        raise ValueError(f"{path.name}: cannot determine the candle interval")
    return raw, iv


import_file = candle_importer(parse_file)
