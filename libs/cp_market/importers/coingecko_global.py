"""Market-wide daily series derived from CoinGecko (``Date,value`` files).

File name -> metric: ``total_mcap.csv`` -> ``total_market_cap`` (USD),
``btc_dominance.csv`` -> ``btc_dominance`` (percent, 0-100),
``stablecoin_supply.csv`` -> ``usdt_market_cap`` (USD; despite the name it is Tether only).
The source forward-filled missing days, so a value identical to the previous day's is
marked ``stale`` (those days also give unreliable dominance spikes).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cp_market.importers._common import (
    csv_columns,
    line_numbers,
    numeric_columns,
    pre_reject,
    read_csv,
    read_head,
    text_to_utc,
)
from cp_market.importers._series import validate_daily_series
from cp_market.report import ImportReport, RejectReason

FORMAT = "coingecko_global"
SOURCE = "coingecko"
METRICS: dict[str, str] = {
    "total_mcap": "total_market_cap",
    "total_market_cap": "total_market_cap",
    "btc_dominance": "btc_dominance",
    "stablecoin_supply": "usdt_market_cap",
    "usdt_market_cap": "usdt_market_cap",
}
RANGES: dict[str, tuple[float, float | None]] = {
    "total_market_cap": (1.0, None),
    "usdt_market_cap": (1.0, None),
    "btc_dominance": (0.0, 100.0),
}


def sniff(path: Path, head: list[str]) -> bool:
    return bool(head) and csv_columns(head[0]) == ["date", "value"] and path.stem.lower() in METRICS


def metric_of(path: Path) -> str:
    return METRICS[path.stem.lower()]


def import_file(path: Path | str) -> tuple[pd.DataFrame, ImportReport]:
    """Import one series; returns (frame with date, metric, value, stale; report)."""
    path = Path(path)
    if not sniff(path, read_head(path, 1)):
        raise ValueError(f"{path.name}: not a CoinGecko global series file")
    metric = metric_of(path)
    df = read_csv(path)
    raw = pd.DataFrame(index=df.index)
    raw["_line"] = line_numbers(len(df))
    raw["date"] = text_to_utc(df["date"])
    values, bad = numeric_columns(df, ["value"])
    raw["value"] = values["value"]
    pre_reject(raw, bad, RejectReason.BAD_NUMBER)
    lo, hi = RANGES[metric]
    clean, rep = validate_daily_series(raw, file=path.name, lo=lo, hi=hi)
    clean["metric"] = metric
    clean["stale"] = clean["value"].eq(clean["value"].shift(1))
    return clean[["date", "metric", "value", "stale"]], rep
