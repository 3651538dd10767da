"""Training labels. Every label at ``t`` looks at the future ``(t, t + horizon]`` and is only
used for training and scoring, never as a feature. ``label_horizon`` values drive purging.

* L1: the descriptive regime of the next window (see ``regimes``).
* L2: next-period log return of each sector index minus the all-asset index.
* L3: next-period risk-adjusted return (entered at the next open) and its cross-sectional rank.
* L4: triple-barrier outcome of a trade entered at the next open, with the same
  ATR-based target, stop and time limit that the emitted signal carries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cp_models.features import indicators as ind

L4_CLASSES: tuple[str, ...] = ("long", "short", "no_trade")
LONG, SHORT, NO_TRADE = 0, 1, 2


@dataclass(frozen=True)
class BarrierPolicy:
    """ATR multiples for the target and the stop, time limit in days, and regime scaling.

    The target is ``k_target * ATR14 * scale`` away from the entry in the signal's direction,
    the stop ``k_stop * ATR14 * scale`` against it; ``scale`` depends on the current regime.
    """

    k_target: float = 1.0
    k_stop: float = 1.0
    horizon_days: int = 20
    regime_scale: dict[str, float] = field(
        default_factory=lambda: {"bull": 1.0, "bear": 1.0, "sideways": 0.8, "volatile": 1.25}
    )

    def scale_for(self, regime: str | None) -> float:
        return float(self.regime_scale.get(regime or "", 1.0))


def forward_log_return_open(open_: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """ln(open[t+1+h] / open[t+1]): return of a position opened at the next open, held h days."""
    return np.log(open_.shift(-(1 + horizon)) / open_.shift(-1))


def risk_adjusted_forward(open_: pd.DataFrame, close: pd.DataFrame, horizon: int) -> pd.DataFrame:
    """Forward return (next open to open h days later) / (30-day daily vol * sqrt(h))."""
    vol = ind.log_returns(close).rolling(30, min_periods=30).std()
    return forward_log_return_open(open_, horizon) / (vol.where(vol > 1e-9) * np.sqrt(horizon))


def sector_forward_relative(levels: pd.DataFrame, market: pd.Series, horizon: int) -> pd.DataFrame:
    """ln(I[t+h]/I[t]) of each sector minus that of the all-asset index."""
    lv = np.log(levels)
    lm = np.log(market)
    return (lv.shift(-horizon) - lv).sub(lm.shift(-horizon) - lm, axis=0)


@dataclass(frozen=True)
class BarrierLabels:
    label: pd.DataFrame  # LONG / SHORT / NO_TRADE codes, NaN when unknown
    bars_to_exit: pd.DataFrame  # bars after entry until the deciding bar (horizon when timed out)
    long_win: pd.DataFrame  # 1 if the long trade reaches its target before its stop, else 0
    short_win: pd.DataFrame  # 1 if the short trade reaches its target before its stop, else 0


def triple_barrier(
    open_: pd.DataFrame,
    high: pd.DataFrame,
    low: pd.DataFrame,
    atr: pd.DataFrame,
    scale: pd.Series | float,
    policy: BarrierPolicy,
) -> BarrierLabels:
    """Label each (day, asset) by which trade wins when entered at the next open.

    ``long`` if the long trade's target is touched before its stop within the time limit,
    ``short`` if the short trade's target is touched first, otherwise ``no_trade``. A bar
    touching both barriers counts as the stop (we cannot know the order inside a bar).
    """
    entry = open_.shift(-1).to_numpy()
    a = atr.to_numpy()
    s = scale.reindex(open_.index).to_numpy()[:, None] if isinstance(scale, pd.Series) else float(scale)
    dist_t = policy.k_target * a * s
    dist_s = policy.k_stop * a * s
    long_tp, long_sl = entry + dist_t, entry - dist_s
    short_tp, short_sl = entry - dist_t, entry + dist_s
    n, m = entry.shape
    long_res = np.full((n, m), np.nan)  # 1 win, 0 loss
    short_res = np.full((n, m), np.nan)
    long_bar = np.full((n, m), np.nan)
    short_bar = np.full((n, m), np.nan)
    hi = high.to_numpy()
    lo = low.to_numpy()
    complete = np.ones((n, m), dtype=bool)
    for k in range(1, policy.horizon_days + 1):
        h_k = np.full((n, m), np.nan)
        l_k = np.full((n, m), np.nan)
        if k < n:
            h_k[:-k] = hi[k:]
            l_k[:-k] = lo[k:]
        complete &= ~np.isnan(h_k) & ~np.isnan(l_k)
        for res, bar, tp_hit, sl_hit in (
            (long_res, long_bar, h_k >= long_tp, l_k <= long_sl),
            (short_res, short_bar, l_k <= short_tp, h_k >= short_sl),
        ):
            open_slot = np.isnan(res)
            res[open_slot & sl_hit] = 0.0
            res[open_slot & tp_hit & ~sl_hit] = 1.0
            bar[open_slot & (sl_hit | tp_hit)] = k
    label = np.full((n, m), float(NO_TRADE))
    label[long_res == 1.0] = LONG
    label[short_res == 1.0] = SHORT
    valid = complete & np.isfinite(entry) & np.isfinite(dist_t) & (dist_t > 0)
    label[~valid] = np.nan
    decided = np.where(label == LONG, long_bar, np.where(label == SHORT, short_bar, policy.horizon_days))
    decided = np.where(valid, decided, np.nan)
    lw = np.where(valid, (long_res == 1.0).astype("float64"), np.nan)
    sw = np.where(valid, (short_res == 1.0).astype("float64"), np.nan)
    idx, cols = open_.index, open_.columns
    return BarrierLabels(
        pd.DataFrame(label, idx, cols),
        pd.DataFrame(decided, idx, cols),
        pd.DataFrame(lw, idx, cols),
        pd.DataFrame(sw, idx, cols),
    )
