"""Candle validation: turn parsed rows into clean canonical candles plus a report.

Checks, in order (the first failing check gives the row's single ``RejectReason``):

1. importer pre-rejections (``bad_number``, ``bad_timestamp``, ``stale_partial_candle``)
   carried in the raw frame's ``_reject`` column;
2. ``bad_timestamp`` (NaT open_time), ``missing_value`` (NaN price or volume),
   ``non_positive_price`` (any price <= 0), ``negative_volume``;
3. ``ohlc_inconsistent``: we need ``low <= min(open, close)`` and
   ``high >= max(open, close)`` (relative tolerance 1e-9 for float noise);
4. ``misaligned_time``: open_time not on the interval grid (e.g. 10:30 for 1h);
5. ``unknown_symbol``; symbol reuse (see ``symbols.SYMBOL_REUSES``): policy ``remap``
   renames (counted in ``symbols_remapped``), ``reject`` rejects with ``symbol_reused``;
6. duplicates on (symbol, interval, open_time): the row with the highest importer
   priority wins, ties go to the later row in the file ("latest row wins"); the others are
   rejected as ``duplicate_superseded`` and counted (``duplicates_resolved``, and
   ``duplicate_conflicts`` when values differed);
7. incomplete candles: a candle is still open if ``open_time + interval > as_of``.
   ``as_of`` is the capture time; when unknown, it is the latest open_time in the batch,
   i.e. the last candle of a file is assumed to be the one that was open at download
   time. Incomplete candles are rejected (``incomplete_candle``) unless
   ``include_incomplete`` is set, in which case they are kept with ``is_closed=False``
   and the ``incomplete`` flag, and must not be treated as closed.

Flags on accepted rows (never rejections): ``zero_volume``; ``market_cap_missing`` (the
source said 0, stored as NaN); ``extreme_wick`` when a wick (``high - max(open, close)``
or ``min(open, close) - low``) is larger than ``wick_atr_k`` (8) x the ATR of the
previous ``wick_atr_window`` (14) candles AND more than ``wick_min_fraction`` (5 %) of
the price, or more than ``wick_max_fraction`` (50 %) of the price whatever the ATR.
Flash-crash wicks are real prints, so they are flagged, not removed.

Gaps (a step between consecutive candles of one symbol and source larger than the
interval) are listed in the report and never filled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from cp_market.candles import (
    CANDLE_COLUMNS,
    INTERVALS,
    Candle,
    CandleFlag,
    interval_delta,
    to_candle_frame,
    to_utc_timestamp,
    with_optional_columns,
)
from cp_market.report import Gap, ImportReport, RejectReason
from cp_market.symbols import SYMBOL_REUSES

RAW_EXTRA_COLUMNS = ("_line", "_file", "_priority", "_reject", "_as_of")
"""Bookkeeping columns an importer may add to its raw frame."""


@dataclass(frozen=True, slots=True)
class ValidationConfig:
    """Tunable thresholds (defaults documented in the module docstring)."""

    wick_atr_k: float = 8.0
    wick_atr_window: int = 14
    wick_min_fraction: float = 0.05
    wick_max_fraction: float = 0.5
    ohlc_rel_tolerance: float = 1e-9
    symbol_reuse: str = "remap"  # or "reject"
    include_incomplete: bool = False


DEFAULT_CONFIG = ValidationConfig()


def validate_candles(
    raw: pd.DataFrame,
    *,
    interval: str,
    as_of: object = None,
    config: ValidationConfig = DEFAULT_CONFIG,
    report: ImportReport | None = None,
    file: str = "",
) -> tuple[pd.DataFrame, ImportReport]:
    """Validate ``raw`` candle rows; return the canonical frame of accepted rows and a report.

    ``raw`` must hold the candle columns (``quote``, ``quote_volume``, ``market_cap``,
    ``is_closed``, ``quality_flags`` optional) and may hold ``_line`` (1-based file line),
    ``_file``, ``_priority`` (higher wins duplicates), ``_reject`` (pre-rejection code) and
    ``_as_of`` (per-row capture time). Rows of several files can be validated in one call:
    duplicates, ordering, wicks, gaps and the default capture time are per ``_file``.
    An explicit ``as_of`` applies to every row.
    """
    rep = report if report is not None else ImportReport()
    step = interval_delta(interval)
    rep.rows_read += len(raw)
    if len(raw) == 0:
        if file:
            rep.files.append(file)
        return to_candle_frame(_with_defaults(raw.copy(), interval)), rep
    df = _prepared(raw, interval, file, rep)
    reason = _row_rule_reasons(df, step, config)
    reason = _apply_symbol_reuse(df, reason, config, rep)
    _count_out_of_order(df[reason.isna()], rep)
    reason, dup_detail = _resolve_duplicates(df, reason, rep)
    incomplete = reason.isna() & ((df["open_time"] + step) > _capture_cutoff(df, as_of))
    if config.include_incomplete:
        df.loc[incomplete, "is_closed"] = False
        _flag(df, incomplete, CandleFlag.INCOMPLETE)
    else:
        reason = _mark(reason, incomplete, RejectReason.INCOMPLETE_CANDLE)
    _record_rejections(df, reason, dup_detail, rep, file)
    clean = _flag_accepted(df[reason.isna()].copy(), config, rep)
    rep.gaps.extend(find_gaps(clean, interval, by=["_file", "symbol", "source"]))
    rep.rows_accepted += len(clean)
    return to_candle_frame(clean[list(CANDLE_COLUMNS)]), rep


def _prepared(raw: pd.DataFrame, interval: str, file: str, rep: ImportReport) -> pd.DataFrame:
    """A copy of ``raw`` with every candle and bookkeeping column present and typed."""
    n = len(raw)
    df = _with_defaults(raw.copy(), interval)
    if "_line" not in df.columns:
        df["_line"] = np.arange(n) + 2
    if "_file" not in df.columns:
        df["_file"] = file
    for f in pd.unique(df["_file"]):
        if f and f not in rep.files:
            rep.files.append(str(f))
    if "_priority" not in df.columns:
        df["_priority"] = 0
    if "_reject" not in df.columns:
        df["_reject"] = None
    df["_order"] = np.arange(n)
    df["open_time"] = pd.to_datetime(df["open_time"], utc=True, errors="coerce")
    return df


def _mark(reason: pd.Series, mask: pd.Series, code: RejectReason) -> pd.Series:
    """``reason`` with ``code`` on the rows of ``mask`` that have no reason yet (first rule wins)."""
    return reason.where(~(mask & reason.isna()), str(code))


def _row_rule_reasons(df: pd.DataFrame, step: pd.Timedelta, config: ValidationConfig) -> pd.Series:
    """The first row rule each row breaks (None: none), in the order :func:`check_candle` uses."""
    reason = df["_reject"].astype(object).where(df["_reject"].notna(), None)
    prices = df[["open", "high", "low", "close"]]
    reason = _mark(reason, df["open_time"].isna(), RejectReason.BAD_TIMESTAMP)
    reason = _mark(reason, prices.isna().any(axis=1) | df["volume"].isna(), RejectReason.MISSING_VALUE)
    reason = _mark(reason, (prices <= 0).any(axis=1), RejectReason.NON_POSITIVE_PRICE)
    reason = _mark(reason, df["volume"] < 0, RejectReason.NEGATIVE_VOLUME)
    tol = config.ohlc_rel_tolerance
    body_lo = df[["open", "close"]].min(axis=1)
    body_hi = df[["open", "close"]].max(axis=1)
    inconsistent = (
        (df["low"] > body_lo * (1 + tol)) | (df["high"] < body_hi * (1 - tol)) | (df["low"] > df["high"])
    )
    reason = _mark(reason, inconsistent, RejectReason.OHLC_INCONSISTENT)
    aligned = _aligned(df["open_time"], step)
    reason = _mark(reason, ~aligned & df["open_time"].notna(), RejectReason.MISALIGNED_TIME)
    return _mark(reason, df["symbol"].fillna("").isin(["", " "]), RejectReason.UNKNOWN_SYMBOL)


def _apply_symbol_reuse(
    df: pd.DataFrame, reason: pd.Series, config: ValidationConfig, rep: ImportReport
) -> pd.Series:
    """Rename (in place) or reject the rows of a ticker reused by a different asset."""
    for rule in SYMBOL_REUSES:
        hit = (df["symbol"] == rule.symbol) & (df["open_time"] >= rule.since) & reason.isna()
        if not hit.any():
            continue
        if config.symbol_reuse == "reject":
            reason = _mark(reason, hit, RejectReason.SYMBOL_REUSED)
        else:
            df.loc[hit, "symbol"] = rule.new_symbol
            rep.symbols_remapped[f"{rule.symbol}->{rule.new_symbol}"] += int(hit.sum())
    return reason


def _count_out_of_order(good: pd.DataFrame, rep: ImportReport) -> None:
    """Count rows that come earlier than a previous row of their series, in file order."""
    series = [good["_file"], good["symbol"]]
    prev_max = good.groupby(series, sort=False)["open_time"].cummax().groupby(series, sort=False).shift(1)
    rep.out_of_order_rows += int((good["open_time"] < prev_max).sum())


def _resolve_duplicates(
    df: pd.DataFrame, reason: pd.Series, rep: ImportReport
) -> tuple[pd.Series, pd.Series]:
    """Reject all but the preferred row of each (file, symbol, open_time); returns the new
    reasons and, per rejected duplicate, whether it was "identical" or a "conflict"."""
    key = ["_file", "symbol", "open_time"]
    # sorted so that the preferred row is last, which is the one kept
    good = df[reason.isna()].sort_values([*key, "_priority", "_order"], kind="stable")
    dup = good.duplicated(key, keep="last")
    if not dup.any():
        return reason, pd.Series(dtype=object)
    values = ["open", "high", "low", "close", "volume"]
    winners = good[~dup].set_index(key)[values]
    losers = good[dup]
    lw = winners.reindex(pd.MultiIndex.from_frame(losers[key]))
    same = np.isclose(losers[values].to_numpy(float), lw.to_numpy(float), rtol=1e-9, atol=0).all(axis=1)
    rep.duplicates_resolved += int(dup.sum())
    rep.duplicate_conflicts += int((~same).sum())
    dup_detail = pd.Series(np.where(same, "identical", "conflict"), index=losers.index)
    reason = reason.copy()
    reason.loc[losers.index] = str(RejectReason.DUPLICATE)
    return reason, dup_detail


def _capture_cutoff(df: pd.DataFrame, as_of: object) -> pd.Series:
    """Per row, the time its data was captured: a candle still open then is incomplete."""
    explicit = to_utc_timestamp(as_of)
    if explicit is not None:
        return pd.Series(explicit, index=df.index)
    # capture time unknown: the latest candle of each file (even a rejected one) was open
    cutoff = df.groupby("_file", sort=False)["open_time"].transform("max")
    if "_as_of" in df.columns:
        given = pd.to_datetime(df["_as_of"], utc=True)
        cutoff = given.where(given.notna(), cutoff)
    return cutoff


def _flag_accepted(clean: pd.DataFrame, config: ValidationConfig, rep: ImportReport) -> pd.DataFrame:
    """Quality flags on the accepted rows (sorted by file, symbol, time), counted in ``rep``."""
    _flag(clean, clean["volume"] == 0, CandleFlag.ZERO_VOLUME)
    mcap0 = clean["market_cap"] == 0
    clean.loc[mcap0, "market_cap"] = np.nan
    _flag(clean, mcap0, CandleFlag.MARKET_CAP_MISSING)
    clean = clean.sort_values(["_file", "symbol", "open_time"], kind="stable")
    _flag(clean, extreme_wick_mask(clean, config, by=["_file", "symbol"]), CandleFlag.EXTREME_WICK)
    for flag_str, count in clean["quality_flags"].value_counts().items():
        for flag in str(flag_str).split("|"):
            if flag:
                rep.flags[flag] += int(count)
    return clean


def _with_defaults(df: pd.DataFrame, interval: str) -> pd.DataFrame:
    df = with_optional_columns(df, interval=interval)
    df["quality_flags"] = df["quality_flags"].fillna("").astype(object)
    for c in ("open", "high", "low", "close", "volume", "quote_volume", "market_cap"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    return df


def _aligned(times: pd.Series, step: pd.Timedelta) -> pd.Series:
    out = pd.Series(True, index=times.index)
    t = times.dropna()
    if not t.empty:
        out[t.index] = ((t - pd.Timestamp(0, tz="UTC")) % step) == pd.Timedelta(0)
    return out


def _flag(df: pd.DataFrame, mask: pd.Series, flag: CandleFlag) -> None:
    """Add ``flag`` to ``quality_flags`` on the rows in ``mask`` (in place, no duplicates)."""
    if not mask.any():
        return
    f = str(flag)
    cur = df.loc[mask, "quality_flags"]
    df.loc[mask, "quality_flags"] = cur.map(lambda s: _join_flag(s, f))


def _join_flag(existing: str, flag: str) -> str:
    if not existing:
        return flag
    return existing if flag in existing.split("|") else f"{existing}|{flag}"


def _record_rejections(
    df: pd.DataFrame, reason: pd.Series, dup_detail: pd.Series, rep: ImportReport, file: str
) -> None:
    bad = reason.notna()
    if not bad.any():
        return
    sub = df.loc[bad, ["_file", "_line", "symbol", "open_time"]]
    for idx, f, line, sym, t, code in zip(
        sub.index, sub["_file"], sub["_line"], sub["symbol"], sub["open_time"], reason[bad], strict=True
    ):
        detail = str(dup_detail.get(idx, "")) if code == RejectReason.DUPLICATE else ""
        rep.reject(
            str(f or file),
            int(line),
            RejectReason(code),
            symbol="" if pd.isna(sym) else str(sym),
            open_time="" if pd.isna(t) else t.isoformat(),
            detail=detail,
        )


def extreme_wick_mask(
    df: pd.DataFrame, config: ValidationConfig = DEFAULT_CONFIG, *, by: list[str] | None = None
) -> pd.Series:
    """Boolean mask of candles with an extreme wick (see module docstring).

    ``df`` must be sorted by (``by``..., open_time); ``by`` defaults to ["symbol"].
    """
    by = by or ["symbol"]
    if df.empty:
        return pd.Series(False, index=df.index)
    body_hi = df[["open", "close"]].max(axis=1)
    body_lo = df[["open", "close"]].min(axis=1)
    upper = df["high"] - body_hi
    lower = body_lo - df["low"]
    groups = [df[c] for c in by]
    prev_close = df.groupby(groups, sort=False)["close"].shift(1)
    tr = pd.concat(
        [df["high"] - df["low"], (df["high"] - prev_close).abs(), (df["low"] - prev_close).abs()], axis=1
    ).max(axis=1)
    tr_prev = tr.groupby(groups, sort=False).shift(1)
    atr_prev = (
        tr_prev.groupby(groups, sort=False)
        .rolling(config.wick_atr_window, min_periods=3)
        .mean()
        .reset_index(level=list(range(len(by))), drop=True)
        .reindex(df.index)
    )
    upper_frac = upper / body_hi
    lower_frac = lower / body_lo
    by_atr = ((upper > config.wick_atr_k * atr_prev) & (upper_frac > config.wick_min_fraction)) | (
        (lower > config.wick_atr_k * atr_prev) & (lower_frac > config.wick_min_fraction)
    )
    by_size = (upper_frac > config.wick_max_fraction) | (lower_frac > config.wick_max_fraction)
    return (by_atr.fillna(False) | by_size.fillna(False)).astype(bool)


def find_gaps(
    df: pd.DataFrame, interval: str, *, by_source: bool = True, by: list[str] | None = None
) -> list[Gap]:
    """Holes in each series of a candle frame (a series = one value of the ``by`` columns).

    ``by`` defaults to (symbol, source), or (symbol) with ``by_source=False`` (a merged
    series; the gap's source is then "merged"). A ``_file`` column in ``by`` fills
    ``Gap.file``.
    """
    if df.empty:
        return []
    step = interval_delta(interval)
    keys = by or (["symbol", "source"] if by_source else ["symbol"])
    d = df.sort_values([*keys, "open_time"], kind="stable")
    prev = d.groupby(keys, sort=False)["open_time"].shift(1)
    delta = d["open_time"] - prev
    hole = delta > step
    if not hole.any():
        return []
    h = d[hole]
    sources = h["source"] if "source" in keys else pd.Series("merged", index=h.index)
    files = h["_file"] if "_file" in keys else pd.Series("", index=h.index)
    return [
        Gap(str(sym), interval, str(src), after, before, int(dt / step) - 1, str(f))
        for sym, src, f, after, before, dt in zip(
            h["symbol"], sources, files, prev[hole], h["open_time"], delta[hole], strict=True
        )
    ]


def check_candle(
    candle: Candle, *, as_of: object, config: ValidationConfig = DEFAULT_CONFIG
) -> tuple[Candle | None, RejectReason | None]:
    """Validate ONE candle of a live stream with the row rules of :func:`validate_candles`.

    Returns ``(candle, None)`` when accepted (renamed on symbol reuse, flagged like the batch
    path) or ``(None, reason)``. The rules run in the same order and give the same reason as
    ``validate_candles`` on a one-row frame with the same ``as_of`` (a test holds them
    together). Rules that need neighbours are left to the caller: duplicates (a store's
    unique key resolves them) and the ATR part of the extreme-wick flag (only the
    size rule, a wick over ``wick_max_fraction`` of the price, applies to a lone candle).
    Microseconds instead of the tens of milliseconds a one-row frame costs.
    """
    step = INTERVALS[candle.interval]
    opened = pd.Timestamp(candle.open_time)
    broken = _row_rule_reason(candle, opened, step, config)
    if broken is not None:
        return None, broken
    symbol = candle.symbol
    for rule in SYMBOL_REUSES:
        if symbol == rule.symbol and opened >= rule.since:
            if config.symbol_reuse == "reject":
                return None, RejectReason.SYMBOL_REUSED
            symbol = rule.new_symbol
    cutoff = to_utc_timestamp(as_of)
    if cutoff is None:
        raise ValueError("check_candle needs as_of (the capture time)")
    flags = list(candle.quality_flags)
    is_closed = candle.is_closed
    if opened + step > cutoff:
        if not config.include_incomplete:
            return None, RejectReason.INCOMPLETE_CANDLE
        is_closed = False
        flags.append(str(CandleFlag.INCOMPLETE))
    flags.extend(_lone_candle_flags(candle, config))
    accepted = replace(
        candle,
        symbol=symbol,
        market_cap=math.nan if candle.market_cap == 0 else candle.market_cap,
        is_closed=is_closed,
        quality_flags=tuple(dict.fromkeys(flags)),
    )
    return accepted, None


def _row_rule_reason(
    candle: Candle, opened: pd.Timestamp, step: pd.Timedelta, config: ValidationConfig
) -> RejectReason | None:
    """The first row rule ``candle`` breaks, in the order of :func:`_row_rule_reasons`."""
    prices = (candle.open, candle.high, candle.low, candle.close)
    if any(math.isnan(p) for p in prices) or math.isnan(candle.volume):
        return RejectReason.MISSING_VALUE
    if any(p <= 0 for p in prices):
        return RejectReason.NON_POSITIVE_PRICE
    if candle.volume < 0:
        return RejectReason.NEGATIVE_VOLUME
    tol = config.ohlc_rel_tolerance
    body_lo, body_hi = min(candle.open, candle.close), max(candle.open, candle.close)
    if candle.low > body_lo * (1 + tol) or candle.high < body_hi * (1 - tol) or candle.low > candle.high:
        return RejectReason.OHLC_INCONSISTENT
    if (opened - pd.Timestamp(0, tz="UTC")) % step != pd.Timedelta(0):
        return RejectReason.MISALIGNED_TIME
    if not candle.symbol.strip():
        return RejectReason.UNKNOWN_SYMBOL
    return None


def _lone_candle_flags(candle: Candle, config: ValidationConfig) -> list[str]:
    """The flags of :func:`_flag_accepted` that one candle decides alone (no ATR wick rule)."""
    flags = []
    if candle.volume == 0:
        flags.append(str(CandleFlag.ZERO_VOLUME))
    if candle.market_cap == 0:
        flags.append(str(CandleFlag.MARKET_CAP_MISSING))
    body_lo, body_hi = min(candle.open, candle.close), max(candle.open, candle.close)
    upper, lower = (candle.high - body_hi) / body_hi, (body_lo - candle.low) / body_lo
    if upper > config.wick_max_fraction or lower > config.wick_max_fraction:
        flags.append(str(CandleFlag.EXTREME_WICK))
    return flags
