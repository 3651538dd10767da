"""CryptoDataDownload (CDD) exchange exports, e.g. ``Binance_BTCUSDT_1h.csv``.

Layout: an optional first line with the site URL (skipped), then
``unix,date,symbol,open,high,low,close,Volume <BASE>,Volume <QUOTE>[,tradecount]``.
Known traps handled here:

* rows are NEWEST FIRST (counted as ``out_of_order_rows``, then sorted);
* two spliced formats: old rows have ``unix`` in SECONDS (``1502946000.0``) and ``date``
  like ``2017-08-17 04-AM``; new rows have MILLISECONDS and ``2021-06-10 00:00:00``.
  The unit is chosen per row by magnitude. ``unix`` is authoritative: around the
  2017-09-26 outage the text labels run 4 hours behind the epoch (checked against the
  Binance 4h klines), so disagreeing rows keep the epoch time and are flagged
  ``time_label_mismatch``;
* the overlap of the two formats appears twice with slightly different values: the
  millisecond (newer-format) row wins (importer priority 1 vs 0), the other is rejected
  as ``duplicate_superseded`` and counted as a conflict;
* zero-volume hours are kept and flagged ``zero_volume``; an empty quote volume is NaN.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
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

FORMAT = "cryptodatadownload"
SOURCE = "cryptodatadownload"


def _header_index(head: list[str]) -> int | None:
    for i, line in enumerate(head[:2]):
        cols = csv_columns(line)
        if cols[:3] == ["unix", "date", "symbol"] and {"open", "high", "low", "close"} <= set(cols):
            return i
    return None


def sniff(path: Path, head: list[str]) -> bool:
    return _header_index(head) is not None


def _parse_cdd_dates(s: pd.Series) -> pd.Series:
    iso = text_to_utc(s)
    ampm = text_to_utc(s, fmt="%Y-%m-%d %I-%p")
    return iso.where(iso.notna(), ampm)


def parse_file(path: Path | str, *, interval: str | None = None) -> tuple[pd.DataFrame, str]:
    """Parse one CDD CSV into raw candle rows (not yet validated) and its interval."""
    path = Path(path)
    header_at = _header_index(read_head(path, 2))
    if header_at is None:
        raise ValueError(f"{path.name}: not a CryptoDataDownload file")
    df = read_csv(path, skiprows=header_at)
    vol_cols = [c for c in df.columns if c.startswith("volume")]
    raw = pd.DataFrame(index=df.index)
    raw["_line"] = line_numbers(len(df), header_at + 1)
    raw["_file"] = path.name
    raw["_reject"] = pd.Series([None] * len(df), index=df.index, dtype=object)
    unix = pd.to_numeric(df["unix"], errors="coerce")
    t_num = epoch_to_utc(unix)
    t_text = _parse_cdd_dates(df["date"])
    raw["open_time"] = t_num.where(t_num.notna(), t_text)
    flag_rows(raw, t_num.notna() & t_text.notna() & (t_num != t_text), CandleFlag.TIME_LABEL_MISMATCH)
    # newer-format (millisecond) rows are preferred over the older (seconds) ones
    raw["_priority"] = np.where(unix.abs() >= 1e11, 1, 0)

    raw["symbol"], raw["quote"] = symbols_from_pairs(df["symbol"], "USDT")
    base = raw["symbol"].iloc[0].lower() if len(df) else ""
    base_vol = next((c for c in vol_cols if base and c == f"volume {base}"), vol_cols[0])
    quote_vol = next((c for c in vol_cols if c != base_vol), None)
    num_cols = ["open", "high", "low", "close", base_vol] + ([quote_vol] if quote_vol else [])
    values, bad = numeric_columns(df, num_cols)
    raw[["open", "high", "low", "close"]] = values[["open", "high", "low", "close"]]
    raw["volume"] = values[base_vol]
    raw["quote_volume"] = values[quote_vol] if quote_vol else np.nan
    pre_reject(raw, bad, RejectReason.BAD_NUMBER)
    pre_reject(raw, raw["open_time"].isna(), RejectReason.BAD_TIMESTAMP)
    raw["source"] = SOURCE
    _, name_interval = pair_and_interval_from_name(path)
    iv = interval or name_interval or infer_interval(raw["open_time"])
    if iv is None:
        raise ValueError(f"{path.name}: cannot determine the candle interval")
    return raw, iv


import_file = candle_importer(parse_file)
