"""Statistics of the report beyond the headline: per-year and per-fold Sharpe and drawdown,
PSR against a benchmark's Sharpe, and a paired stationary block bootstrap of Sharpe
differences."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cp_models.backtest import metrics as m

BOOTSTRAP_REPS = 1000
MEAN_BLOCK_DAYS = 20


def _equity(r: pd.Series) -> pd.Series:
    return (1.0 + r.fillna(0.0)).cumprod()


def period_stats(
    returns: pd.Series, periods: list[tuple[str, pd.Timestamp, pd.Timestamp]]
) -> dict[str, dict]:
    out = {}
    for name, s, e in periods:
        r = returns.loc[s:e]
        out[name] = {
            "sharpe": m.sharpe(r),
            "max_drawdown": m.max_drawdown(_equity(r)),
            "return": float(_equity(r).iloc[-1] - 1) if len(r) else float("nan"),
        }
    return out


def year_periods(index: pd.DatetimeIndex) -> list[tuple[str, pd.Timestamp, pd.Timestamp]]:
    years = sorted(set(index.year))
    return [(str(y), index[index.year == y][0], index[index.year == y][-1]) for y in years]


def stationary_indices(n: int, reps: int, mean_block: int, rng: np.random.Generator) -> np.ndarray:
    """Politis-Romano stationary bootstrap: (reps, n) resampled day indices."""
    starts = rng.integers(0, n, size=(reps, n))
    new_block = rng.random((reps, n)) < 1.0 / mean_block
    new_block[:, 0] = True
    idx = np.empty((reps, n), dtype=np.int64)
    for r in range(reps):
        pos = 0
        for j in range(n):
            pos = starts[r, j] if new_block[r, j] else (pos + 1) % n
            idx[r, j] = pos
    return idx


def _sharpe_rows(x: np.ndarray) -> np.ndarray:
    sd = x.std(axis=1, ddof=1)
    return np.where(sd > 0, x.mean(axis=1) / np.where(sd > 0, sd, 1.0), np.nan) * np.sqrt(m.PERIODS_PER_YEAR)


def sharpe_difference_ci(
    a: pd.Series, b: pd.Series, idx: np.ndarray, level: float = 0.95
) -> dict[str, float]:
    """Paired bootstrap of Sharpe(a) - Sharpe(b) on the same resampled days."""
    joined = pd.concat([a, b], axis=1).fillna(0.0).to_numpy()
    diff = _sharpe_rows(joined[idx, 0]) - _sharpe_rows(joined[idx, 1])
    diff = diff[np.isfinite(diff)]
    lo, hi = np.quantile(diff, [(1 - level) / 2, 1 - (1 - level) / 2]) if len(diff) else (np.nan, np.nan)
    point = m.sharpe(a.fillna(0.0)) - m.sharpe(b.fillna(0.0))
    return {
        "difference": float(point),
        "ci_low": float(lo),
        "ci_high": float(hi),
        "p_below_zero": float((diff <= 0).mean()) if len(diff) else float("nan"),
    }


def psr_against(returns: pd.Series, benchmark: pd.Series) -> dict[str, float]:
    """PSR against 0 and against the benchmark's own (per-period) Sharpe."""
    return {
        "psr_vs_0": m.probabilistic_sharpe(returns.fillna(0.0), 0.0),
        "psr_vs_benchmark_sharpe": m.probabilistic_sharpe(
            returns.fillna(0.0), m.per_period_sharpe(benchmark.fillna(0.0))
        ),
    }
