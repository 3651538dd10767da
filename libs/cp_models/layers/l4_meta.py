"""L4 as meta-labelling: given a long candidate chosen by L1/L3, is it worth taking?

The side is fixed (spot, long). The label is 1 when the candidate's return from the open of
``t + 1`` to the open of ``t + 1 + horizon`` beats the round-trip cost. The model is an
L2-regularised logistic regression on a few candidate features (the technical rules are
features here, not voters). Probabilities are calibrated (Platt) on out-of-fold predictions
of a purged K-fold inside the training window, and the trading gate ``tau`` is chosen on
those same out-of-fold predictions: the smallest threshold with at least ``min_passes``
passes whose mean net return has a positive one-sided 95 % lower bound (the sample size is
divided by the horizon because the weekly returns of consecutive days overlap). When no
threshold qualifies L4 is switched off for that window (everything passes) and says so:
L4 can only remove candidates where it demonstrably helped in training.

Training candidates are the rows that pass the same non-learned filters as the book
(market budget > 0, own trend >= the book's minimum, momentum composite in the day's
top-K), so the training rows do not depend on an in-sample L3 fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from cp_models.config import BookConfig, MetaConfig
from cp_models.layers.base import from_bytes, to_bytes

META_FEATURES = [
    "mom_composite",
    "trend_score",
    "ma_dist_50",
    "rsi_14",
    "vol_ratio_14_90",
    "drawdown_90d",
    "market_budget",
    "breadth_50",
    "btc_vol_pct",
]


def training_candidates(rows: pd.DataFrame, book: BookConfig) -> pd.Series:
    """Boolean over (date, symbol): the rows the book could have proposed on that day."""
    rank = rows["mom_composite"].groupby(level=0).rank(ascending=False, method="first")
    return (
        (rows["market_budget"] > 0)
        & (rows["trend_score"] >= book.min_asset_trend)
        & (rank <= book.top_k)
        & rows[META_FEATURES].notna().all(axis=1)
    )


def _fit_lr(X: np.ndarray, y: np.ndarray, c: float, seed: int) -> Pipeline:
    pipe = Pipeline([("scale", StandardScaler()), ("lr", LogisticRegression(C=c, max_iter=500))])
    pipe.set_params(lr__random_state=seed)
    pipe.fit(X, y)
    return pipe


def _oof_logits(
    dates: pd.Index, X: np.ndarray, y: np.ndarray, cfg: MetaConfig, purge: int, seed: int
) -> np.ndarray:
    """Out-of-fold decision values from contiguous date blocks, purged on both sides."""
    uniq = np.array(sorted(dates.unique()))
    edges = np.linspace(0, len(uniq), cfg.oof_folds + 1).astype(int)
    out = np.full(len(y), np.nan)
    gap = pd.Timedelta(days=purge)
    for k in range(cfg.oof_folds):
        lo, hi = uniq[edges[k]], uniq[edges[k + 1] - 1]
        test = (dates >= lo) & (dates <= hi)
        train = (dates < lo - gap) | (dates > hi + gap)
        if train.sum() < 50 or len(np.unique(y[train])) < 2:
            continue
        out[test] = _fit_lr(X[train], y[train], cfg.c, seed).decision_function(X[test])
    return out


def choose_gate(p: np.ndarray, net: np.ndarray, cfg: MetaConfig) -> tuple[float | None, list[dict]]:
    """(tau or None, the table of every threshold tried) from out-of-fold probabilities."""
    table = []
    chosen: float | None = None
    for tau in cfg.thresholds:
        passed = net[p >= tau]
        n = len(passed)
        mean = float(passed.mean()) if n else float("nan")
        sd = float(passed.std(ddof=1)) if n > 1 else float("nan")
        lcb = (
            mean - cfg.confidence_z * sd / np.sqrt(max(n / cfg.horizon_days, 1.0)) if n > 1 else float("nan")
        )
        table.append({"tau": tau, "passes": n, "mean_net": mean, "lower_bound": lcb})
        if chosen is None and n >= cfg.min_passes and np.isfinite(lcb) and lcb > 0:
            chosen = tau
    return chosen, table


@dataclass
class MetaLabelModel:
    pipeline: Pipeline | None
    platt: LogisticRegression | None
    tau: float | None  # None: L4 is off for this window (every candidate passes)
    pass_rate: float  # out-of-fold share of candidates at or above tau (1.0 when off)
    meta: dict = field(default_factory=dict)

    @classmethod
    def fit(
        cls,
        rows: pd.DataFrame,
        forward: pd.Series,
        cost: float,
        book: BookConfig,
        cfg: MetaConfig,
        purge: int,
        seed: int = 0,
    ) -> MetaLabelModel:
        """``rows``: (date, symbol) training rows with ``META_FEATURES`` and the book filters;
        ``forward``: the candidate's simple return over the next ``horizon`` days (next-open
        entry); ``cost``: the round-trip cost a trade must beat."""
        cand = training_candidates(rows, book) & forward.reindex(rows.index).notna()
        sub = rows[cand]
        net = forward.reindex(sub.index).to_numpy("float64") - cost
        y = (net > 0).astype(int)
        X = sub[META_FEATURES].to_numpy("float64")
        info: dict = {"candidates": len(y), "base_rate": float(y.mean()) if len(y) else float("nan")}
        if len(y) < cfg.min_passes or len(np.unique(y)) < 2:
            return cls(None, None, None, 1.0, {**info, "status": "off: too few training candidates"})
        dates = sub.index.get_level_values(0)
        oof = _oof_logits(dates, X, y, cfg, purge, seed)
        ok = np.isfinite(oof)
        platt = LogisticRegression(C=1e6, max_iter=500).fit(oof[ok].reshape(-1, 1), y[ok])
        p_oof = platt.predict_proba(oof[ok].reshape(-1, 1))[:, 1]
        tau, table = choose_gate(p_oof, net[ok], cfg)
        pipe = _fit_lr(X, y, cfg.c, seed)
        rate = float((p_oof >= tau).mean()) if tau is not None else 1.0
        info.update(
            status="on" if tau is not None else "off: no threshold has a positive lower bound",
            tau=tau,
            oof_pass_rate=rate,
            oof_mean_net_all=float(net[ok].mean()),
            gate_table=table,
            coefficients=dict(zip(META_FEATURES, pipe.named_steps["lr"].coef_[0].tolist(), strict=True)),
        )
        return cls(pipe, platt, tau, rate, info)

    def probability(self, rows: pd.DataFrame) -> np.ndarray:
        """Calibrated P(next-week return beats the cost); NaN where an input is missing."""
        out = np.full(len(rows), np.nan)
        if self.pipeline is None or self.platt is None:
            return out
        X = rows[META_FEATURES].to_numpy("float64")
        ok = np.isfinite(X).all(axis=1)
        if ok.any():
            z = self.pipeline.decision_function(X[ok]).reshape(-1, 1)
            out[ok] = self.platt.predict_proba(z)[:, 1]
        return out

    def passes(self, p: np.ndarray) -> np.ndarray:
        if self.tau is None:
            return np.ones(len(p), dtype=bool)
        return np.nan_to_num(p, nan=-1.0) >= self.tau

    def to_bytes(self) -> bytes:
        return to_bytes(self)

    @classmethod
    def load(cls, blob: bytes) -> MetaLabelModel:
        return from_bytes(blob, cls)
