"""Yahoo Finance (yfinance) daily history, e.g. ``BTC-USD_1d.csv``.

Layout: ``Date,Close,High,Low,Open,Volume`` (note the column order; an ``Adj Close``
column is accepted and ignored). ``Date`` is the UTC day open. Prices and Volume are
USD: ``quote_volume`` = Volume and ``volume`` (base) = Volume / typical price, flagged
``volume_derived``. Symbol from the file name (``BTC-USD`` -> BTC, quote USD). The last
row is treated as still open (yfinance returns the running day).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cp_market.candles import CandleFlag
from cp_market.importers._common import (
    candle_importer,
    csv_columns,
    line_numbers,
    numeric_columns,
    pair_and_interval_from_name,
    pre_reject,
    read_csv,
    read_head,
    text_to_utc,
)
from cp_market.report import RejectReason
from cp_market.symbols import split_pair

FORMAT = "yahoo_daily"
SOURCE = "yahoo"
REQUIRED = {"date", "open", "high", "low", "close", "volume"}


def sniff(path: Path, head: list[str]) -> bool:
    if not head:
        return False
    cols = csv_columns(head[0])
    return cols[0] == "date" and REQUIRED <= set(cols) and len(cols) <= 7


def parse_file(path: Path | str, *, interval: str | None = None) -> tuple[pd.DataFrame, str]:
    """Parse one Yahoo daily CSV into raw candle rows (not yet validated)."""
    path = Path(path)
    if not sniff(path, read_head(path, 1)):
        raise ValueError(f"{path.name}: not a Yahoo daily file")
    df = read_csv(path)
    raw = pd.DataFrame(index=df.index)
    raw["_line"] = line_numbers(len(df))
    raw["_file"] = path.name
    raw["open_time"] = text_to_utc(df["date"])
    values, bad = numeric_columns(df, ["open", "high", "low", "close", "volume"])
    raw[["open", "high", "low", "close"]] = values[["open", "high", "low", "close"]]
    typical = (values["high"] + values["low"] + values["close"]) / 3
    raw["quote_volume"] = values["volume"]
    raw["volume"] = values["volume"] / typical
    raw["quality_flags"] = str(CandleFlag.VOLUME_DERIVED)
    pre_reject(raw, bad, RejectReason.BAD_NUMBER)
    pre_reject(raw, raw["open_time"].isna(), RejectReason.BAD_TIMESTAMP)
    pair, _ = pair_and_interval_from_name(path)
    base, quote = split_pair(pair or "")
    raw["symbol"] = base
    raw["quote"] = quote or "USD"
    raw["source"] = SOURCE
    return raw, "1d"


import_file = candle_importer(parse_file)
