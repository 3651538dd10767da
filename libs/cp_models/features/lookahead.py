"""Lookahead harness: a feature is point in time iff computing it on the history truncated
at ``t`` gives exactly the value computed on the full history, for every checked ``t``.

Inspired by freqtrade's lookahead-analysis: recompute on a cut-off history and compare.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cp_models.data import MarketData

FeatureFn = Callable[[MarketData], Mapping[str, pd.DataFrame]]


@dataclass(frozen=True)
class Violation:
    feature: str
    time: pd.Timestamp
    max_abs_diff: float
    columns: tuple[str, ...]


@dataclass
class LookaheadReport:
    checked_features: list[str] = field(default_factory=list)
    checked_times: list[pd.Timestamp] = field(default_factory=list)
    compared_values: int = 0
    violations: list[Violation] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations

    def leaking_features(self) -> set[str]:
        return {v.feature for v in self.violations}


def sample_times(data: MarketData, n: int = 10, seed: int = 0, warmup: int = 220) -> list[pd.Timestamp]:
    """``n`` check dates: spread at random after ``warmup`` days, plus the day before the end."""
    idx = data.index
    if len(idx) <= warmup + 2:
        warmup = len(idx) // 3
    rng = np.random.default_rng(seed)
    picks = sorted(
        set(
            rng.choice(np.arange(warmup, len(idx) - 1), size=min(n - 1, len(idx) - warmup - 1), replace=False)
        )
    )
    return [idx[i] for i in picks] + [idx[-2]]


def _row(frame: pd.DataFrame, t: pd.Timestamp) -> pd.Series:
    if t not in frame.index:
        return pd.Series(np.nan, index=frame.columns, dtype="float64")
    return frame.loc[t].astype("float64")


def compare_rows(full: pd.Series, cut: pd.Series) -> tuple[float, tuple[str, ...]]:
    """(max |difference|, differing columns); NaN equals NaN, a NaN/value mismatch counts as inf."""
    cols = full.index.union(cut.index)
    a = full.reindex(cols).to_numpy(dtype="float64")
    b = cut.reindex(cols).to_numpy(dtype="float64")
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    mismatch = nan_a != nan_b
    both = ~nan_a & ~nan_b
    diff = np.zeros_like(a)
    diff[both] = np.abs(a[both] - b[both])
    diff[mismatch] = np.inf
    bad = diff > 0
    worst = float(diff.max()) if diff.size else 0.0
    return worst, tuple(str(c) for c in cols[bad])


def check_point_in_time(
    compute: FeatureFn,
    data: MarketData,
    times: Iterable[pd.Timestamp] | None = None,
    prefix: str = "",
) -> LookaheadReport:
    """Exact comparison of every feature of ``compute`` at every ``t`` (full vs truncated)."""
    times = list(times) if times is not None else sample_times(data)
    full = compute(data)
    report = LookaheadReport(checked_features=[prefix + k for k in full], checked_times=times)
    for t in times:
        cut = compute(data.truncate(t))
        for name, frame in full.items():
            worst, cols = compare_rows(_row(frame, t), _row(cut[name], t))
            report.compared_values += len(frame.columns)
            if cols:
                report.violations.append(Violation(prefix + name, t, worst, cols))
    return report
