"""Out-of-sample metrics of a training run on its most recent block (for the model registry).

``train_all`` first fits on everything before the last ``holdout_days`` (purged like a
walk-forward fold) and scores that block; the shipped models are then refit on all data.
The registry promotes a new version only if its holdout metric is not worse.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cp_models.backtest import metrics as m
from cp_models.cascade import predict_block
from cp_models.config import CascadeConfig
from cp_models.datasets import CascadeDatasets
from cp_models.evaluation.layer_metrics import l1_metrics, l2_metrics, l3_metrics, l4_calibration
from cp_models.training import train_cascade


@dataclass
class _Holdout:
    """The holdout block as a fold (the L2 baseline uses its training base rate)."""

    test_start: pd.Timestamp
    test_end: pd.Timestamp
    l2_meta: dict

    @property
    def fold(self) -> _Holdout:
        return self

    @property
    def model_meta(self) -> dict:
        return {"l2": self.l2_meta}


def holdout_metrics(ds: CascadeDatasets, config: CascadeConfig, holdout_days: int = 182) -> dict[str, dict]:
    last = ds.data.index[-1]
    start = last - pd.Timedelta(days=holdout_days - 1)
    models = train_cascade(ds, None, start, config)
    preds = predict_block(models, ds, start, last)
    l1, _ = l1_metrics(preds, ds, config.l1.regime_rule.window)
    ok = ds.l1_y.reindex(preds.l1.index).notna()
    l2 = l2_metrics(
        preds,
        ds,
        config.l2.n_leading,
        config.l2.n_declining,
        config.l2.horizon_days,
        [_Holdout(start, last, models.l2.meta)],
    )
    l3 = l3_metrics(preds, ds, config.l3.horizon_days)
    cal, _ = l4_calibration(preds, ds)
    base = cal["brier_base_rate"]
    window = {
        "holdout_start": str(start.date()),
        "holdout_end": str(last.date()),
        "labelled_days": int(ok.sum()),
    }
    return {
        "l1": {
            **window,
            "balanced_accuracy": l1["balanced_accuracy"],
            "accuracy": l1["accuracy"],
            "ma200_accuracy": l1["baseline_accuracy"]["ma200"],
        },
        "l2": {
            **window,
            "rank_ic": l2["rank_ic"]["mean"],
            "top_minus_bottom": l2["top_minus_bottom_forward_relative_return"]["mean"],
        },
        "l3": {
            **window,
            "rank_ic": l3["rank_ic"]["mean"],
            "ic": l3["ic"]["mean"],
            "precision_at_5": l3["precision_at_5"],
        },
        "l4": {
            **window,
            "brier": cal["brier"],
            "brier_base_rate": base,
            "brier_skill": float(1.0 - cal["brier"] / base) if base and np.isfinite(base) else float("nan"),
            "signals_at_threshold": cal["rows_with_probability_at_least_0_7"],
            "ece": cal["ece_long_short_pooled"],
        },
    }


def clean(d: dict) -> dict:
    """Replace non-finite floats by None (JSON and registry friendly)."""
    out: dict[str, object] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out[k] = clean(v)
        elif isinstance(v, float) and not np.isfinite(v):
            out[k] = None
        else:
            out[k] = v
    return out


__all__ = ["clean", "holdout_metrics", "m"]
