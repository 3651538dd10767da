"""Honest walk-forward evaluation of the whole cascade.

1. Load the data up to ``TO`` only (history before ``FROM`` is used for training only).
2. Build point-in-time features and labels once.
3. Split [FROM, TO] into consecutive test blocks; for each block train all four layers on
   everything before it (expanding window), purging samples whose label window reaches the
   block and embargoing ``embargo_days`` more; predict the block out of sample.
4. Score every layer on the concatenated out-of-sample predictions, run the portfolio that
   follows the cascade's signals and the baselines over the same days, at 1x, 2x and 3x
   costs, log the trial and write ``report.json``, ``report.md`` and plots.

No hyper-parameter is chosen here: they all come from ``CascadeConfig``.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cp_models.cascade import BlockPredictions, predict_block
from cp_models.config import CascadeConfig
from cp_models.data import MarketData, load_market_data, to_utc_timestamp
from cp_models.datasets import CascadeDatasets, build_datasets
from cp_models.training import train_cascade
from cp_models.validation import Fold, walk_forward_folds

_WORKER_DS: CascadeDatasets | None = None
_WORKER_CFG: CascadeConfig | None = None


@dataclass
class FoldOutcome:
    fold: Fold
    predictions: BlockPredictions
    train_seconds: dict[str, float]
    cutoffs: dict[str, str]
    model_meta: dict = field(default_factory=dict)


def _init_worker(ds: CascadeDatasets, cfg: CascadeConfig) -> None:
    global _WORKER_DS, _WORKER_CFG
    _WORKER_DS, _WORKER_CFG = ds, cfg


def run_fold(fold: Fold, ds: CascadeDatasets | None = None, cfg: CascadeConfig | None = None) -> FoldOutcome:
    ds = ds or _WORKER_DS
    cfg = cfg or _WORKER_CFG
    assert ds is not None and cfg is not None
    models = train_cascade(ds, fold.train_start, fold.test_start, cfg)
    preds = predict_block(models, ds, fold.test_start, fold.test_end)
    meta = {
        "l1": models.l1.meta,
        "l2": models.l2.meta,
        "l3": models.l3.meta,
        "l4": {k: v for k, v in models.l4.meta.items() if k != "valid_loss_history"},
        "l4_voter_weights": models.l4.voter_weights,
    }
    return FoldOutcome(fold, preds, models.seconds, models.cutoffs, meta)


def run_folds(ds: CascadeDatasets, folds: list[Fold], cfg: CascadeConfig, workers: int) -> list[FoldOutcome]:
    if workers <= 1 or len(folds) == 1:
        return [run_fold(f, ds, cfg) for f in folds]
    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(ds, cfg)
    ) as pool:
        # largest training windows first for better packing
        order = sorted(folds, key=lambda f: -f.number)
        results = list(pool.map(run_fold, order))
    return sorted(results, key=lambda r: r.fold.number)


@dataclass
class WalkForwardResult:
    data: MarketData
    datasets: CascadeDatasets
    folds: list[FoldOutcome]
    predictions: BlockPredictions
    start: pd.Timestamp
    end: pd.Timestamp
    seconds: dict[str, float]


def walk_forward(
    data: MarketData,
    start: object,
    end: object,
    config: CascadeConfig | None = None,
    workers: int | None = None,
) -> WalkForwardResult:
    cfg = config or CascadeConfig()
    s, e = to_utc_timestamp(start), to_utc_timestamp(end)
    data = data.truncate(e)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    ds = build_datasets(data, cfg)
    timings["features_and_labels"] = time.perf_counter() - t0
    ev = cfg.evaluation
    last = min(e, data.index[-1])
    folds = walk_forward_folds(s, last, ev.test_days, data.index[0], ev.train_window_days)
    t0 = time.perf_counter()
    outcomes = run_folds(ds, folds, cfg, workers if workers is not None else ev.workers)
    timings["train_and_predict_folds"] = time.perf_counter() - t0
    preds = BlockPredictions.concat([o.predictions for o in outcomes])
    return WalkForwardResult(data, ds, outcomes, preds, s, last, timings)


def load_for_evaluation(data_dir: str | Path, end: object) -> MarketData:
    """Daily candles, market snapshots and sentiment up to ``end`` (never read past it)."""
    return load_market_data(data_dir, end=end)
