"""Parsing helpers shared by the file importers (time columns, numbers, file naming)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from cp_market.candles import INTERVALS
from cp_market.report import ImportReport, RejectReason
from cp_market.validation import DEFAULT_CONFIG, ValidationConfig, validate_candles

_FILE_PAIR = re.compile(r"^(?:[A-Za-z]+_)?(?P<pair>[A-Za-z0-9]+(?:-[A-Za-z]+)?)[_-](?P<interval>\d+[mhdw])\b")


ParseFile = Callable[..., tuple[pd.DataFrame, str]]
ImportFile = Callable[..., tuple[pd.DataFrame, ImportReport]]


def candle_importer(parse_file: ParseFile) -> ImportFile:
    """The ``import_file`` of a candle format: parse with ``parse_file``, then validate."""

    def import_file(
        path: Path | str,
        *,
        as_of: object = None,
        config: ValidationConfig = DEFAULT_CONFIG,
        interval: str | None = None,
    ) -> tuple[pd.DataFrame, ImportReport]:
        """Import one file; returns (candle frame, report)."""
        raw, iv = parse_file(path, interval=interval)
        return validate_candles(raw, interval=iv, as_of=as_of, config=config, file=Path(path).name)

    return import_file


def read_head(path: Path, n: int = 3) -> list[str]:
    """The first ``n`` lines of a text file (without newlines)."""
    lines: list[str] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for _ in range(n):
            line = fh.readline()
            if not line:
                break
            lines.append(line.rstrip("\r\n").lstrip("\ufeff"))
    return lines


def csv_columns(line: str) -> list[str]:
    """The column names of a CSV header line, stripped and lower-cased."""
    return [c.strip().lower() for c in line.split(",")]


def read_csv(path: Path, **kwargs: object) -> pd.DataFrame:
    """``pd.read_csv`` with the column names stripped and lower-cased."""
    df = pd.read_csv(path, **kwargs)
    df.columns = [str(c).strip().lower() for c in df.columns]
    return df


def pair_and_interval_from_name(path: Path) -> tuple[str | None, str | None]:
    """("BTCUSDT", "1d") from names like ``BTCUSDT_1d.csv``, ``Binance_BTCUSDT_1h.csv``,
    ``BTC-USD_1d.csv`` or ``BTCUSDT-1h-2024-01.csv``."""
    m = _FILE_PAIR.match(path.stem)
    if not m:
        return None, None
    interval = m.group("interval")
    return m.group("pair").upper(), interval if interval in INTERVALS else None


def epoch_to_utc(values: pd.Series) -> pd.Series:
    """Epoch numbers -> UTC datetimes, choosing the unit per value by magnitude.

    < 1e11: seconds, < 1e14: milliseconds, < 1e17: microseconds, else nanoseconds
    (Binance switched its kline dumps from ms to us in 2025; CDD mixes s and ms).
    """
    v = pd.to_numeric(values, errors="coerce").astype(float)
    a = v.abs()
    factor = np.select([a < 1e11, a < 1e14, a < 1e17], [1e9, 1e6, 1e3], default=1.0)
    ns = (v * factor).round()
    out = pd.to_datetime(ns, unit="ns", utc=True, errors="coerce")
    return pd.Series(out, index=values.index).astype("datetime64[ns, UTC]")


def text_to_utc(values: pd.Series, fmt: str = "ISO8601") -> pd.Series:
    """Date/time strings (naive = UTC) -> UTC datetimes; unparseable -> NaT."""
    out = pd.to_datetime(values, format=fmt, utc=True, errors="coerce")
    return pd.Series(out, index=values.index).astype("datetime64[ns, UTC]")


def numeric_columns(df: pd.DataFrame, cols: list[str]) -> tuple[pd.DataFrame, pd.Series]:
    """Coerce ``cols`` to float; return (values, mask of rows with an unparseable number).

    Empty cells become NaN without counting as unparseable (they are *missing*).
    """
    out = pd.DataFrame(index=df.index)
    bad = pd.Series(False, index=df.index)
    for c in cols:
        col = df[c]
        if pd.api.types.is_numeric_dtype(col):
            out[c] = col.astype(float)
            continue
        num = pd.to_numeric(col, errors="coerce")
        text = col.astype(object).where(col.notna(), "").astype(str).str.strip()
        empty = text.isin(["", "NULL", "null", "NaN", "nan", "None"])
        bad |= num.isna() & ~empty
        out[c] = num.astype(float)
    return out, bad


def pre_reject(df: pd.DataFrame, mask: pd.Series, code: RejectReason) -> None:
    """Set ``_reject`` = ``code`` on rows in ``mask`` that have no reason yet."""
    if "_reject" not in df.columns:
        df["_reject"] = pd.Series([None] * len(df), index=df.index, dtype=object)
    free = df["_reject"].isna() & mask
    df.loc[free, "_reject"] = str(code)


def line_numbers(n: int, header_lines: int = 1) -> np.ndarray:
    """1-based file line numbers of ``n`` data rows after ``header_lines`` header lines."""
    return np.arange(n) + header_lines + 1


def infer_interval(times: pd.Series) -> str | None:
    """The interval whose length equals the most common step between sorted times."""
    t = times.dropna().sort_values().drop_duplicates()
    if len(t) < 2:
        return None
    step = t.diff().dropna().mode().iloc[0]
    for name, delta in INTERVALS.items():
        if pd.Timedelta(delta) == step:
            return name
    return None


def flag_rows(df: pd.DataFrame, mask: pd.Series, flag: str) -> None:
    """Add ``flag`` to the ``quality_flags`` of rows in ``mask``."""
    if "quality_flags" not in df.columns:
        df["quality_flags"] = ""
    cur = df.loc[mask, "quality_flags"].fillna("").astype(str)
    df.loc[mask, "quality_flags"] = cur.map(lambda s: flag if not s else f"{s}|{flag}")


def symbols_from_pairs(pairs: pd.Series, default_quote: str) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised ``split_pair`` over a column of pairs: (base symbols, quote assets)."""
    from cp_market.symbols import split_pair

    codes, uniques = pd.factorize(pairs.astype(object).where(pairs.notna(), ""))
    split = [split_pair(str(u).strip()) for u in uniques]
    bases = np.array([b for b, _ in split] + [""], dtype=object)
    quotes = np.array([q or default_quote for _, q in split] + [default_quote], dtype=object)
    return bases[codes], quotes[codes]
