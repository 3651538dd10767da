"""Performance, trade, calibration and information-coefficient metrics."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

PERIODS_PER_YEAR = 365.0
EULER_GAMMA = 0.5772156649015329


def _clean(x: pd.Series | np.ndarray) -> np.ndarray:
    a = np.asarray(x, dtype="float64")
    return a[np.isfinite(a)]


def sharpe(returns: pd.Series, periods: float = PERIODS_PER_YEAR) -> float:
    r = _clean(returns)
    if len(r) < 2 or r.std(ddof=1) == 0:
        return float("nan")
    return float(r.mean() / r.std(ddof=1) * math.sqrt(periods))


def sortino(returns: pd.Series, periods: float = PERIODS_PER_YEAR) -> float:
    r = _clean(returns)
    if len(r) < 2:
        return float("nan")
    downside = np.sqrt(np.mean(np.minimum(r, 0.0) ** 2))
    return float(r.mean() / downside * math.sqrt(periods)) if downside > 0 else float("nan")


def max_drawdown(equity: pd.Series) -> float:
    """Largest peak-to-trough loss as a positive fraction."""
    e = equity.dropna()
    if e.empty:
        return float("nan")
    return float(-(e / e.cummax() - 1.0).min())


def cagr(equity: pd.Series, periods: float = PERIODS_PER_YEAR) -> float:
    e = equity.dropna()
    if len(e) < 2 or e.iloc[0] <= 0:
        return float("nan")
    years = (len(e) - 1) / periods
    total = e.iloc[-1] / e.iloc[0]
    return float(total ** (1.0 / years) - 1.0) if total > 0 and years > 0 else float("nan")


def calmar(equity: pd.Series) -> float:
    dd = max_drawdown(equity)
    c = cagr(equity)
    return float(c / dd) if dd and dd > 0 and np.isfinite(c) else float("nan")


def probabilistic_sharpe(returns: pd.Series, sr_benchmark: float = 0.0) -> float:
    """P(true per-period Sharpe > ``sr_benchmark``) (Bailey & López de Prado 2012)."""
    r = _clean(returns)
    n = len(r)
    if n < 3 or r.std(ddof=1) == 0:
        return float("nan")
    sr = r.mean() / r.std(ddof=1)
    skew = stats.skew(r)
    kurt = stats.kurtosis(r, fisher=False)
    denom = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr**2
    if denom <= 0:
        return float("nan")
    return float(stats.norm.cdf((sr - sr_benchmark) * math.sqrt(n - 1) / math.sqrt(denom)))


def expected_max_sharpe(trial_sharpes: list[float]) -> float:
    """Expected maximum per-period Sharpe of N unskilled trials (the DSR benchmark)."""
    s = _clean(np.asarray(trial_sharpes))
    n = len(s)
    if n < 2:
        return 0.0
    sd = s.std(ddof=1)
    return float(
        sd
        * (
            (1.0 - EULER_GAMMA) * stats.norm.ppf(1.0 - 1.0 / n)
            + EULER_GAMMA * stats.norm.ppf(1.0 - 1.0 / (n * math.e))
        )
    )


def deflated_sharpe(returns: pd.Series, trial_sharpes: list[float]) -> float:
    """PSR against the expected maximum Sharpe of all logged trials (Bailey & López de Prado 2014).

    ``trial_sharpes`` are per-period (not annualized) Sharpe ratios of every configuration tried.
    """
    return probabilistic_sharpe(returns, expected_max_sharpe(trial_sharpes))


def per_period_sharpe(returns: pd.Series) -> float:
    r = _clean(returns)
    return float(r.mean() / r.std(ddof=1)) if len(r) > 1 and r.std(ddof=1) > 0 else float("nan")


def performance_summary(returns: pd.Series, exposure: pd.Series | None = None, trades: int = 0) -> dict:
    """Headline statistics of a daily return series (equity starts at 1)."""
    r = returns.fillna(0.0)
    equity = (1.0 + r).cumprod()
    equity = pd.concat([pd.Series([1.0], index=[r.index[0] - pd.Timedelta(days=1)]), equity])
    return {
        "total_return": float(equity.iloc[-1] - 1.0),
        "cagr": cagr(equity),
        "sharpe": sharpe(r),
        "sortino": sortino(r),
        "calmar": calmar(equity),
        "max_drawdown": max_drawdown(equity),
        "volatility": float(r.std(ddof=1) * math.sqrt(PERIODS_PER_YEAR)),
        "time_in_market": float((exposure.fillna(0.0) > 1e-9).mean()) if exposure is not None else 1.0,
        "trades": int(trades),
        "psr": probabilistic_sharpe(r),
        "days": len(r),
    }


# --- trades ---------------------------------------------------------------------------


def profit_factor(trade_returns: np.ndarray) -> float:
    r = _clean(trade_returns)
    gains = r[r > 0].sum()
    losses = -r[r < 0].sum()
    if losses == 0:
        return float("inf") if gains > 0 else float("nan")
    return float(gains / losses)


def sqn(r_multiples: np.ndarray) -> float:
    """System Quality Number: sqrt(N) * mean(R) / std(R) (Van Tharp), N capped at 100."""
    r = _clean(r_multiples)
    if len(r) < 2 or r.std(ddof=1) == 0:
        return float("nan")
    return float(math.sqrt(min(len(r), 100)) * r.mean() / r.std(ddof=1))


def trade_summary(trades: pd.DataFrame) -> dict:
    """Trades frame with columns net_return, r_multiple, exit_reason."""
    if trades.empty:
        return {
            "trades": 0,
            "hit_rate": float("nan"),
            "expectancy": float("nan"),
            "profit_factor": float("nan"),
            "sqn": float("nan"),
            "target_before_stop_share": float("nan"),
            "avg_bars_held": float("nan"),
        }
    r = trades["net_return"].to_numpy(dtype="float64")
    hits = trades["exit_reason"].eq("target").sum()
    stops = trades["exit_reason"].eq("stop").sum()
    return {
        "trades": len(trades),
        "hit_rate": float((r > 0).mean()),
        "expectancy": float(r.mean()),
        "expectancy_r": float(trades["r_multiple"].mean()),
        "profit_factor": profit_factor(r),
        "sqn": sqn(trades["r_multiple"].to_numpy()),
        "target_before_stop_share": float(hits / (hits + stops)) if hits + stops else float("nan"),
        "exit_reasons": {str(k): int(v) for k, v in trades["exit_reason"].value_counts().items()},
        "avg_bars_held": float(trades["bars_held"].mean()),
        "long_trades": int(trades["side"].eq("long").sum()),
        "short_trades": int(trades["side"].eq("short").sum()),
    }


# --- calibration ----------------------------------------------------------------------


def brier_multiclass(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean over samples of sum_k (p_k - 1[y = k])^2."""
    p = np.asarray(probs, dtype="float64")
    y = np.asarray(labels, dtype="int64")
    onehot = np.zeros_like(p)
    onehot[np.arange(len(y)), y] = 1.0
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


def reliability_table(pred: np.ndarray, outcome: np.ndarray, bins: int = 10) -> list[dict]:
    """Predicted vs observed frequency in equal-width probability bins."""
    p = np.asarray(pred, dtype="float64")
    y = np.asarray(outcome, dtype="float64")
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    rows = []
    for b in range(bins):
        sel = which == b
        rows.append(
            {
                "bin_low": float(edges[b]),
                "bin_high": float(edges[b + 1]),
                "count": int(sel.sum()),
                "mean_predicted": float(p[sel].mean()) if sel.any() else float("nan"),
                "observed_frequency": float(y[sel].mean()) if sel.any() else float("nan"),
            }
        )
    return rows


def expected_calibration_error(pred: np.ndarray, outcome: np.ndarray, bins: int = 10) -> float:
    table = reliability_table(pred, outcome, bins)
    n = sum(r["count"] for r in table)
    if n == 0:
        return float("nan")
    return float(
        sum(r["count"] * abs(r["mean_predicted"] - r["observed_frequency"]) for r in table if r["count"]) / n
    )


# --- information coefficients ----------------------------------------------------------


def daily_ic(
    scores: pd.DataFrame, realized: pd.DataFrame, method: str = "spearman", min_assets: int = 5
) -> pd.Series:
    """Cross-sectional correlation per day between two aligned wide frames."""
    s, r = scores.align(realized, join="inner")
    out = {}
    for t in s.index:
        a = s.loc[t]
        b = r.loc[t]
        ok = a.notna() & b.notna()
        if ok.sum() < min_assets:
            continue
        x, y = a[ok].to_numpy(), b[ok].to_numpy()
        if np.std(x) == 0 or np.std(y) == 0:
            continue
        if method == "spearman":
            out[t] = float(stats.spearmanr(x, y).statistic)
        else:
            out[t] = float(np.corrcoef(x, y)[0, 1])
    return pd.Series(out, dtype="float64")


def ic_summary(ic: pd.Series, horizon: int) -> dict:
    """Mean, std, ICIR, hit share, and a t-statistic on non-overlapping days (every ``horizon``)."""
    ic = ic.dropna()
    if ic.empty:
        return {"mean": float("nan"), "std": float("nan"), "icir": float("nan"), "days": 0}
    sub = ic.iloc[:: max(horizon, 1)]
    t_stat = (
        float(sub.mean() / sub.std(ddof=1) * math.sqrt(len(sub)))
        if len(sub) > 2 and sub.std() > 0
        else float("nan")
    )
    return {
        "mean": float(ic.mean()),
        "std": float(ic.std(ddof=1)),
        "icir": float(ic.mean() / ic.std(ddof=1)) if ic.std(ddof=1) > 0 else float("nan"),
        "positive_share": float((ic > 0).mean()),
        "days": len(ic),
        "non_overlapping_samples": len(sub),
        "t_stat_non_overlapping": t_stat,
    }


def precision_at_k(scores: pd.DataFrame, realized: pd.DataFrame, k: int) -> tuple[float, float]:
    """(mean share of the predicted top-k that is in the realized top-k, random baseline k/N)."""
    s, r = scores.align(realized, join="inner")
    hits, base = [], []
    for t in s.index:
        ok = s.loc[t].notna() & r.loc[t].notna()
        n = int(ok.sum())
        if n <= k:
            continue
        top_pred = set(s.loc[t][ok].nlargest(k).index)
        top_real = set(r.loc[t][ok].nlargest(k).index)
        hits.append(len(top_pred & top_real) / k)
        base.append(k / n)
    if not hits:
        return float("nan"), float("nan")
    return float(np.mean(hits)), float(np.mean(base))
