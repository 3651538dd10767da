"""CoinMarketCap daily history (the Kaggle "Cryptocurrency Historical Prices" export).

Layout: ``SNo,Name,Symbol,Date,High,Low,Open,Close,Volume,Marketcap``. ``Date`` is the
day CLOSE (``2013-04-29 23:59:59``), so ``open_time`` = that date at 00:00 UTC and every
row is a closed day. Volume and market cap are USD: ``quote_volume`` = Volume and
``volume`` (base) = Volume / typical price ((H+L+C)/3), flagged ``volume_derived``.
``Marketcap`` = 0 means unknown (stored NaN, flagged ``market_cap_missing``).
The file's ``Symbol`` column gives the symbol (IOTA is ``MIOTA``, NEM ``XEM``).
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
    pre_reject,
    read_csv,
    read_head,
    text_to_utc,
)
from cp_market.report import RejectReason

FORMAT = "cmc_daily"
SOURCE = "cmc"
HEADER = ["sno", "name", "symbol", "date", "high", "low", "open", "close", "volume", "marketcap"]


def sniff(path: Path, head: list[str]) -> bool:
    return bool(head) and csv_columns(head[0]) == HEADER


def parse_file(path: Path | str, *, interval: str | None = None) -> tuple[pd.DataFrame, str]:
    """Parse one CMC/Kaggle ``coin_<Name>.csv`` into raw candle rows (not yet validated)."""
    path = Path(path)
    if not sniff(path, read_head(path, 1)):
        raise ValueError(f"{path.name}: not a CMC/Kaggle daily file")
    df = read_csv(path)
    raw = pd.DataFrame(index=df.index)
    raw["_line"] = line_numbers(len(df))
    raw["_file"] = path.name
    stamp = text_to_utc(df["date"])
    raw["open_time"] = stamp.dt.floor("D")
    values, bad = numeric_columns(df, ["open", "high", "low", "close", "volume", "marketcap"])
    raw[["open", "high", "low", "close"]] = values[["open", "high", "low", "close"]]
    typical = (values["high"] + values["low"] + values["close"]) / 3
    raw["quote_volume"] = values["volume"]
    raw["volume"] = values["volume"] / typical
    raw["market_cap"] = values["marketcap"]
    raw["quality_flags"] = str(CandleFlag.VOLUME_DERIVED)
    pre_reject(raw, bad, RejectReason.BAD_NUMBER)
    pre_reject(raw, raw["open_time"].isna(), RejectReason.BAD_TIMESTAMP)
    raw["symbol"] = df["symbol"].str.strip().str.upper()
    raw["quote"] = "USD"
    raw["source"] = SOURCE
    # close-stamped rows: the capture was after the last day's close, so every day is complete
    raw["_as_of"] = stamp.max().ceil("D") if stamp.notna().any() else pd.NaT
    return raw, "1d"


import_file = candle_importer(parse_file)
