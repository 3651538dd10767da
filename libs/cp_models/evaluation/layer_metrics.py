"""Out-of-sample metrics of each layer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
import pandas as pd

from cp_models.backtest import metrics as m
from cp_models.cascade import BlockPredictions
from cp_models.datasets import CascadeDatasets
from cp_models.features.common import benchmark_symbol
from cp_models.labels import L4_CLASSES
from cp_models.regimes import REGIMES


class FoldLike(Protocol):
    @property
    def fold(self) -> Any: ...

    @property
    def model_meta(self) -> dict: ...


def _run_lengths(labels: pd.Series) -> list[int]:
    s = labels.dropna()
    if s.empty:
        return []
    change = s.ne(s.shift()).cumsum()
    return s.groupby(change).size().tolist()


def _accuracy(pred: pd.Series, truth: pd.Series) -> float:
    ok = pred.notna() & truth.notna()
    return float((pred[ok] == truth[ok]).mean()) if ok.any() else float("nan")


def _balanced_accuracy(pred: pd.Series, truth: pd.Series) -> float:
    """Mean recall over the regimes that occurred (chance level = 1 / number of regimes)."""
    ok = pred.notna() & truth.notna()
    if not ok.any():
        return float("nan")
    p, t = pred[ok], truth[ok]
    return float(np.mean([(p[t == r] == r).mean() for r in t.unique()]))


def l1_metrics(preds: BlockPredictions, ds: CascadeDatasets, window: int = 30) -> tuple[dict, pd.DataFrame]:
    l1 = preds.l1
    days = l1.index
    btc = ds.data.close[benchmark_symbol(ds.data)]
    lb = np.log(btc)
    fwd_ret = (lb.shift(-window) - lb).reindex(days)
    fwd_vol = (lb.diff().rolling(window).std().shift(-window) * np.sqrt(365)).reindex(days)
    truth = ds.l1_y.reindex(days).map(lambda c: REGIMES[int(c)] if pd.notna(c) else np.nan)
    pred = l1["regime"]
    mkt = ds.market.reindex(days)
    ma200 = pd.Series(np.where(mkt["btc_ma_dist_200"] > 0, "bull", "bear"), index=days).where(
        mkt["btc_ma_dist_200"].notna()
    )
    volb = pd.Series(
        np.where(mkt["btc_vol_pct"] >= 0.8, "volatile", np.where(mkt["btc_mom_30d"] > 0, "bull", "bear")),
        index=days,
    ).where(mkt["btc_vol_pct"].notna())
    now = ds.barrier_regime.reindex(days)
    by_regime = {}
    for r in REGIMES:
        sel = pred == r
        by_regime[r] = {
            "days": int(sel.sum()),
            "mean_forward_30d_log_return": float(fwd_ret[sel].mean()) if sel.any() else float("nan"),
            "mean_forward_30d_volatility": float(fwd_vol[sel].mean()) if sel.any() else float("nan"),
        }
    bull, bear = by_regime["bull"], by_regime["bear"]
    vol_sel = pred == "volatile"
    runs = _run_lengths(pred)
    confusion = pd.crosstab(truth.rename("realized"), pred.rename("predicted")).reindex(
        index=list(REGIMES), columns=list(REGIMES), fill_value=0
    )
    out = {
        "days": len(days),
        "accuracy": _accuracy(pred, truth),
        "baseline_accuracy": {
            "ma200": _accuracy(ma200, truth),
            "volatility_percentile": _accuracy(volb, truth),
            "persistence": _accuracy(now, truth),
            "always_bull": _accuracy(pd.Series("bull", index=days), truth),
        },
        "balanced_accuracy": _balanced_accuracy(pred, truth),
        "baseline_balanced_accuracy": {
            "ma200": _balanced_accuracy(ma200, truth),
            "volatility_percentile": _balanced_accuracy(volb, truth),
            "persistence": _balanced_accuracy(now, truth),
            "always_bull": _balanced_accuracy(pd.Series("bull", index=days), truth),
        },
        "by_predicted_regime": by_regime,
        "forward_return_spread_bull_minus_bear": bull["mean_forward_30d_log_return"]
        - bear["mean_forward_30d_log_return"],
        "forward_vol_spread_volatile_minus_rest": float(fwd_vol[vol_sel].mean() - fwd_vol[~vol_sel].mean())
        if vol_sel.any()
        else float("nan"),
        "regime_durations": {
            "mean_days": float(np.mean(runs)) if runs else float("nan"),
            "median_days": float(np.median(runs)) if runs else float("nan"),
            "switches": max(len(runs) - 1, 0),
        },
        "confusion_matrix": {r: confusion.loc[r].to_dict() for r in REGIMES},
        "mean_recommended_exposure": float(l1["recommended_exposure"].mean()),
        "risk_level_days": {str(k): int(v) for k, v in l1["risk_level"].value_counts().items()},
    }
    timeline = pd.DataFrame({"btc": btc.reindex(days), "regime": pred, "realized": truth})
    return out, timeline


def _wide(series: pd.Series) -> pd.DataFrame:
    return series.unstack(level=1)


def l2_metrics(
    preds: BlockPredictions,
    ds: CascadeDatasets,
    n_leading: int,
    n_declining: int,
    horizon: int,
    folds: Sequence[FoldLike] | None = None,
) -> dict:
    scores = _wide(preds.l2)
    fwd = _wide(ds.l2_forward.reindex(preds.l2.index))
    ic = m.daily_ic(scores, fwd, "spearman", min_assets=4)
    spreads, turnover, prev = [], [], None
    for t in scores.index:
        s = scores.loc[t].dropna()
        f = fwd.loc[t].reindex(s.index)
        if len(s) <= n_leading + n_declining - 1:
            continue
        lead = list(s.nlargest(n_leading).index)
        decl = list(s.nsmallest(n_declining).index)
        if f[lead].notna().all() and f[decl].notna().all():
            spreads.append(float(f[lead].mean() - f[decl].mean()))
        if prev is not None:
            turnover.append(len(set(lead) - prev) / n_leading)
        prev = set(lead)
    mom = ds.features.sector["sec_mom_30d"].reindex(scores.index)
    ic_mom = m.daily_ic(mom, fwd, "spearman", min_assets=4)
    rot = preds.l2_rotation
    rot_y = ds.rotation_y.reindex(rot.index)
    ok = rot_y.notna()
    # the baseline knows only the training windows' base rate (never the test period's)
    base = training_base_rate_series(rot.index, folds or []).to_numpy()[ok.to_numpy()]
    return {
        "rank_ic": m.ic_summary(ic, horizon),
        "rank_ic_of_raw_30d_momentum": m.ic_summary(ic_mom, horizon),
        "top_minus_bottom_forward_relative_return": {
            "mean": float(np.mean(spreads)) if spreads else float("nan"),
            "positive_share": float(np.mean(np.array(spreads) > 0)) if spreads else float("nan"),
            "days": len(spreads),
        },
        "leading_set_daily_turnover": float(np.mean(turnover)) if turnover else float("nan"),
        "rotation_probability_brier": float(np.mean((rot[ok] - rot_y[ok]) ** 2))
        if ok.any()
        else float("nan"),
        "rotation_base_rate_brier": float(np.mean((base - rot_y[ok]) ** 2)) if ok.any() else float("nan"),
    }


def l3_metrics(preds: BlockPredictions, ds: CascadeDatasets, horizon: int, k: int = 5) -> dict:
    scores = _wide(preds.l3["score"])
    light = _wide(preds.l3["light_score"])
    fwd = _wide(ds.l3_forward.reindex(preds.l3.index))
    ic = m.daily_ic(scores, fwd, "pearson")
    ric = m.daily_ic(scores, fwd, "spearman")
    ric_light = m.daily_ic(light, fwd, "spearman")
    mom = _wide(ds.assets["mom_30d"].reindex(preds.l3.index))
    ric_mom = m.daily_ic(mom, fwd, "spearman")
    prec, base = m.precision_at_k(scores, fwd, k)
    top_q = []
    for t in scores.index:
        s, f = scores.loc[t], fwd.loc[t]
        ok = s.notna() & f.notna()
        if ok.sum() >= 10:
            q = s[ok].rank(pct=True)
            top_q.append(float(f[ok][q > 0.8].mean() - f[ok][q <= 0.2].mean()))
    return {
        "ic": m.ic_summary(ic, horizon),
        "rank_ic": m.ic_summary(ric, horizon),
        "light_model_rank_ic": m.ic_summary(ric_light, horizon),
        "raw_30d_momentum_rank_ic": m.ic_summary(ric_mom, horizon),
        f"precision_at_{k}": prec,
        f"precision_at_{k}_random": base,
        "top_minus_bottom_quintile_forward_risk_adjusted_return": float(np.mean(top_q))
        if top_q
        else float("nan"),
        "mean_universe_size": float(scores.notna().sum(axis=1).mean()),
    }


def training_base_rate_series(index: pd.Index, folds: Sequence[FoldLike]) -> pd.Series:
    """Each fold's training base rate of the rotation label, on that fold's test days."""
    out = pd.Series(np.nan, index=index, dtype="float64")
    for f in folds:
        rate = f.model_meta.get("l2", {}).get("rotation_base_rate")
        if rate is not None:
            out[(index >= f.fold.test_start) & (index <= f.fold.test_end)] = float(rate)
    return out


def _passed_stats(net: np.ndarray) -> dict:
    return {
        "count": len(net),
        "precision": float((net > 0).mean()) if len(net) else float("nan"),
        "mean_net_return": float(net.mean()) if len(net) else float("nan"),
    }


def l4_meta_metrics(candidates: pd.DataFrame, forward: pd.Series, cost: float, fold_meta: list[dict]) -> dict:
    """Realized next-week outcome of the full book's candidates: passed vs rejected by L4,
    Brier of the calibrated confidence vs the training base rate, and each fold's gate."""
    folds = [
        {k: f.get(k) for k in ("status", "tau", "oof_pass_rate", "base_rate", "candidates")}
        for f in fold_meta
    ]
    if candidates.empty:
        return {"candidates": 0, "folds": folds}
    keys = pd.MultiIndex.from_arrays([pd.DatetimeIndex(candidates["date"]), candidates["symbol"]])
    net = forward.reindex(keys).to_numpy("float64") - cost
    ok = np.isfinite(net)
    passed = candidates["l4_pass"].to_numpy(bool)
    p = candidates["confidence"].to_numpy("float64")
    y = (net > 0).astype(float)
    scored = ok & np.isfinite(p)
    base = np.nanmean([f.get("base_rate", np.nan) for f in fold_meta]) if fold_meta else np.nan
    return {
        "candidates": int(ok.sum()),
        "passed": _passed_stats(net[ok & passed]),
        "rejected": _passed_stats(net[ok & ~passed]),
        "brier": float(np.mean((p[scored] - y[scored]) ** 2)) if scored.any() else float("nan"),
        "brier_training_base_rate": float(np.mean((base - y[scored]) ** 2)) if scored.any() else float("nan"),
        "reliability_table": m.reliability_table(p[scored], y[scored]) if scored.any() else [],
        "folds": folds,
    }


def l4_calibration(preds: BlockPredictions, ds: CascadeDatasets) -> tuple[dict, list[dict]]:
    l4 = preds.l4
    y = ds.l4_y.reindex(l4.index)
    ok = y.notna().to_numpy()
    probs = l4[["p_long", "p_short", "p_no_trade"]].to_numpy()[ok]
    labels = y.to_numpy()[ok].astype(int)
    base = np.array([preds.l4_base_rates.get(c, np.nan) for c in L4_CLASSES])
    base_probs = np.tile(base, (len(labels), 1))
    # one-vs-rest for the two tradeable classes, pooled
    pooled_p = np.concatenate([probs[:, 0], probs[:, 1]])
    pooled_y = np.concatenate([(labels == 0).astype(float), (labels == 1).astype(float)])
    table = m.reliability_table(pooled_p, pooled_y)
    out = {
        "samples": int(ok.sum()),
        "brier": m.brier_multiclass(probs, labels),
        "brier_base_rate": m.brier_multiclass(base_probs, labels),
        "realized_class_shares": {c: float((labels == i).mean()) for i, c in enumerate(L4_CLASSES)},
        "training_base_rates": {c: float(b) for c, b in zip(L4_CLASSES, base, strict=True)},
        "ece_long_short_pooled": m.expected_calibration_error(pooled_p, pooled_y),
        "max_probability": {"long": float(probs[:, 0].max()), "short": float(probs[:, 1].max())}
        if len(probs)
        else {},
        "rows_with_probability_at_least_0_7": int((probs[:, :2] >= 0.7).any(axis=1).sum()),
    }
    return out, table
