"""Dataset loaders: the API that model training, evaluation and the ingestion service use.

* ``load_candles(data_dir, interval=..., symbols=..., start=..., end=..., sources=...)``
  imports every candle file of that interval (through the importers and validation),
  merges the sources and returns ``(candle_frame, ImportReport)``.
* ``load_market_snapshots(data_dir, start=..., end=...)`` -> daily market-wide frame.
* ``load_assets(data_dir)`` -> symbol, name, sector, market_cap_rank, ...
* ``default_data_dir()`` -> ``CP_DATA_DIR`` or the shared data directory next to the
  repository, else None (everything must also run on synthetic data).

Merge priority (``SOURCE_PRIORITY``): for the same (symbol, open_time) the row from the
first source in ``binance > cryptodatadownload > cmc > yahoo > synthetic`` wins (exchange
klines with base volume first; CDD re-exports Binance; CMC before Yahoo, whose stablecoin
highs have bad ticks). ``market_cap`` is then filled from the best source that has it.
Series can therefore switch source (Binance USDT prices vs CMC/Yahoo USD prices); the
``source`` and ``quote`` columns say which row came from where.

Time bounds are inclusive on ``open_time``: no returned row has ``open_time > end``.
A daily candle with ``open_time == end`` closes at ``end + 1 day``; to see only candles
that had CLOSED by a moment T, pass ``end = T - interval``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from cp_market.candles import empty_candle_frame, to_candle_frame, to_utc_timestamp
from cp_market.importers import CANDLE_IMPORTERS, coingecko_global, fear_greed, metadata
from cp_market.importers.scanner import (
    KIND_ASSETS,
    KIND_CANDLES,
    KIND_CATEGORIES,
    KIND_FEAR_GREED,
    KIND_GLOBAL,
    scan_directory,
)
from cp_market.report import ImportReport
from cp_market.symbols import SYMBOL_REUSES
from cp_market.validation import DEFAULT_CONFIG, ValidationConfig, find_gaps, validate_candles

SOURCE_PRIORITY: tuple[str, ...] = ("binance", "cryptodatadownload", "cmc", "yahoo", "synthetic")
"""Merge priority for overlapping candles, best first."""

SNAPSHOT_COLUMNS: tuple[str, ...] = (
    "total_market_cap",
    "btc_dominance",
    "usdt_market_cap",
    "stablecoin_dominance",
    "fear_greed",
    "fear_greed_label",
    "stale_total_market_cap",
)


def default_data_dir() -> Path | None:
    """``CP_DATA_DIR`` if set, else ``<repo>/../shared/data`` if it exists, else None."""
    env = os.environ.get("CP_DATA_DIR")
    if env:
        return Path(env)
    repo = Path(__file__).resolve().parents[2]
    candidate = repo.parent / "shared" / "data"
    return candidate if candidate.is_dir() else None


def _symbol_set(symbols: Iterable[str] | str | None) -> set[str] | None:
    if symbols is None:
        return None
    if isinstance(symbols, str):
        symbols = [symbols]
    return {s.strip().upper() for s in symbols}


def load_candles(
    data_dir: Path | str,
    *,
    interval: str = "1d",
    symbols: Iterable[str] | str | None = None,
    start: object = None,
    end: object = None,
    sources: Iterable[str] | str | None = None,
    include_incomplete: bool = False,
    source_priority: tuple[str, ...] = SOURCE_PRIORITY,
    config: ValidationConfig | None = None,
) -> tuple[pd.DataFrame, ImportReport]:
    """Load merged candles of one ``interval`` from a data directory.

    ``symbols``: base symbols ("BTC"; "LUNA2" for Terra 2.0). ``start``/``end``: inclusive
    bounds on ``open_time`` (str/date/datetime; naive = UTC). ``sources``: restrict to these
    source names. ``include_incomplete``: keep still-open candles (``is_closed=False``).
    """
    cfg = config or DEFAULT_CONFIG
    if include_incomplete != cfg.include_incomplete:
        cfg = dataclasses.replace(cfg, include_incomplete=include_incomplete)
    wanted = _symbol_set(symbols)
    wanted_sources = _symbol_set(sources)
    lo, hi = to_utc_timestamp(start), to_utc_timestamp(end)
    report = ImportReport()
    file_symbols = None
    if wanted is not None:
        file_symbols = set(wanted) | {r.symbol for r in SYMBOL_REUSES if r.new_symbol in wanted}

    raws: list[pd.DataFrame] = []
    for f in scan_directory(data_dir).of_kind(KIND_CANDLES):
        if f.interval != interval:
            continue
        if wanted_sources is not None and f.source.upper() not in wanted_sources:
            continue
        if file_symbols is not None and f.symbol is not None and f.symbol not in file_symbols:
            continue
        raw, _ = CANDLE_IMPORTERS[f.format].parse_file(f.path, interval=interval)
        raw["_file"] = _relative_name(f.path, data_dir)
        raws.append(raw)
    if not raws:
        return empty_candle_frame(), report
    # one validation pass over all files (duplicates, capture time, gaps stay per file)
    df, _ = validate_candles(pd.concat(raws, ignore_index=True), interval=interval, config=cfg, report=report)
    if wanted is not None:
        df = df[df["symbol"].isin(wanted)]
    df = merge_sources(df, source_priority=source_priority, report=report)
    if lo is not None:
        df = df[df["open_time"] >= lo]
    if hi is not None:
        after = df["open_time"] > hi
        report.rows_after_end += int(after.sum())
        df = df[~after]
    df = to_candle_frame(df)
    report.series_gaps.extend(find_gaps(df, interval, by_source=False))
    return df, report


def _relative_name(path: Path, root: Path | str) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def merge_sources(
    df: pd.DataFrame,
    *,
    source_priority: tuple[str, ...] = SOURCE_PRIORITY,
    report: ImportReport | None = None,
) -> pd.DataFrame:
    """One row per (symbol, interval, open_time): the best source wins (see module doc).

    ``market_cap`` missing on the winning row is filled from the best other source.
    Losing rows are counted per source in ``report.overlaps_resolved``.
    """
    if df.empty:
        return df
    rank_of = {s: i for i, s in enumerate(source_priority)}
    d = df.copy()
    d["_rank"] = d["source"].map(rank_of).fillna(len(rank_of)).astype(int)
    d = d.sort_values(["symbol", "interval", "open_time", "_rank"], kind="stable")
    key = ["symbol", "interval", "open_time"]
    mcap = d.dropna(subset=["market_cap"]).drop_duplicates(key)[[*key, "market_cap"]]
    losers = d.duplicated(key, keep="first")
    if report is not None and losers.any():
        for src, n in d.loc[losers, "source"].value_counts().items():
            report.overlaps_resolved[str(src)] += int(n)
    best = d[~losers].drop(columns="_rank")
    if not mcap.empty:
        best = best.merge(mcap, on=key, how="left", suffixes=("", "_best"))
        best["market_cap"] = best["market_cap"].where(best["market_cap"].notna(), best["market_cap_best"])
        best = best.drop(columns="market_cap_best")
    return best.reset_index(drop=True)


def read_market_series(data_dir: Path | str) -> tuple[pd.DataFrame, ImportReport]:
    """All market-wide and sentiment series, outer-joined on the UTC date (no filling)."""
    report = ImportReport()
    scan = scan_directory(data_dir)
    metrics: dict[str, pd.Series] = {}
    stale: pd.Series | None = None
    for f in scan.of_kind(KIND_GLOBAL):
        frame, rep = coingecko_global.import_file(f.path)
        report.merge(rep)
        metric = coingecko_global.metric_of(f.path)
        metrics[metric] = frame.set_index("date")["value"]
        if metric == "total_market_cap":
            stale = frame.set_index("date")["stale"]
    fng_values: list[pd.Series] = []
    fng_labels: list[pd.Series] = []
    # float-valued plain file first (longer history), labelled file fills the rest
    fng_files = sorted(scan.of_kind(KIND_FEAR_GREED), key=lambda f: "index" in f.path.stem)
    for f in fng_files:
        frame, rep = fear_greed.import_file(f.path)
        report.merge(rep)
        fng_values.append(frame.set_index("date")["value"])
        fng_labels.append(frame.set_index("date")["label"])
    out = pd.DataFrame(metrics)
    if fng_values:
        value = fng_values[0]
        for extra in fng_values[1:]:
            value = value.combine_first(extra)
        out = out.join(value.rename("fear_greed"), how="outer")
        # labels: the published label where one exists, else the band of the value
        label = fng_labels[-1] if len(fng_labels) > 1 else fng_labels[0]
        out["fear_greed_label"] = label.reindex(out.index)
        fill = out["fear_greed_label"].isna() & out["fear_greed"].notna()
        out.loc[fill, "fear_greed_label"] = out.loc[fill, "fear_greed"].map(fear_greed.label_for)
    for col in ("total_market_cap", "btc_dominance", "usdt_market_cap", "fear_greed"):
        if col not in out.columns:
            out[col] = np.nan
    if "fear_greed_label" not in out.columns:
        out["fear_greed_label"] = None
    out["stablecoin_dominance"] = out["usdt_market_cap"] / out["total_market_cap"] * 100.0
    out["stale_total_market_cap"] = (
        stale.reindex(out.index).fillna(False).astype(bool) if stale is not None else False
    )
    out.index.name = "date"
    out = out.sort_index()
    return out.loc[:, list(SNAPSHOT_COLUMNS)], report


def load_market_snapshots(data_dir: Path | str, *, start: object = None, end: object = None) -> pd.DataFrame:
    """Daily market snapshot frame indexed by UTC date (inclusive ``start``/``end``).

    Columns: ``total_market_cap`` (USD), ``btc_dominance`` (%), ``usdt_market_cap`` (USD),
    ``stablecoin_dominance`` (% of total; USDT only, as that is all the source has, so a
    lower bound), ``fear_greed`` (0-100), ``fear_greed_label``, ``stale_total_market_cap``
    (the source forward-filled that day; dominance is unreliable then). Missing days stay
    missing (no forward fill, so no look-ahead or invented values).
    """
    df, _ = read_market_series(data_dir)
    lo, hi = to_utc_timestamp(start), to_utc_timestamp(end)
    if lo is not None:
        df = df[df.index >= lo]
    if hi is not None:
        df = df[df.index <= hi]
    return df


def load_assets(data_dir: Path | str) -> pd.DataFrame:
    """Assets with ``symbol, name, sector, market_cap_rank, coingecko_id, sector_tags``.

    ``sector`` is the primary sector (hand-made map); ``market_cap_rank`` is the CoinGecko
    rank of the 2025-02 snapshot (nullable Int64; missing for delisted coins).
    """
    scan = scan_directory(data_dir)
    categories = None
    cat_files = scan.of_kind(KIND_CATEGORIES)
    if cat_files:
        categories, _ = metadata.import_categories(cat_files[0].path)
    asset_files = scan.of_kind(KIND_ASSETS)
    if not asset_files:
        raise FileNotFoundError(f"no coin metadata (dataset_coins.csv) under {data_dir}")
    assets, _ = metadata.import_assets(asset_files[0].path, categories)
    return assets
