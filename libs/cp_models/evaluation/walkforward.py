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
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
from threadpoolctl import threadpool_limits

from cp_models.book import BookVariant
from cp_models.cascade import BlockPredictions, predict_block
from cp_models.config import CascadeConfig
from cp_models.data import MarketData, load_market_data, to_utc_timestamp
from cp_models.datasets import CascadeDatasets, build_datasets, day_inputs
from cp_models.evaluation.ablations import FULL
from cp_models.signals import SignalModels, TradeSignal, day_book, day_signals, is_rebalance_day
from cp_models.training import train_cascade
from cp_models.validation import Fold, walk_forward_folds

_WORKER_DS: CascadeDatasets | None = None
_WORKER_CFG: CascadeConfig | None = None
_WORKER_VARIANTS: tuple[BookVariant, ...] = (FULL,)


@dataclass
class FoldOutcome:
    fold: Fold
    predictions: BlockPredictions
    train_seconds: dict[str, float]
    cutoffs: dict[str, str]
    model_meta: dict = field(default_factory=dict)
    signals: dict[str, list[TradeSignal]] = field(default_factory=dict)  # variant name -> signals
    candidates: list[dict] = field(default_factory=list)  # the full book's candidates (L4 metrics)


def _init_worker(ds: CascadeDatasets, cfg: CascadeConfig, variants: tuple[BookVariant, ...]) -> None:
    global _WORKER_DS, _WORKER_CFG, _WORKER_VARIANTS
    # one thread per worker process: the workers already fill the cores, and oversubscribed
    # OpenMP threads in the tree models slow every fold down on a shared machine
    threadpool_limits(1)
    _WORKER_DS, _WORKER_CFG, _WORKER_VARIANTS = ds, cfg, variants


def block_signals(
    models: SignalModels,
    ds: CascadeDatasets,
    fold: Fold,
    cfg: CascadeConfig,
    variants: tuple[BookVariant, ...],
) -> tuple[dict[str, list[TradeSignal]], list[dict]]:
    """Every variant's signals on the block's decision days, through ``day_signals``."""
    out: dict[str, list[TradeSignal]] = {v.name: [] for v in variants}
    candidates: list[dict] = []
    latest: dict[str, list[TradeSignal]] = {}
    days = ds.data.index[(ds.data.index >= fold.test_start) & (ds.data.index <= fold.test_end)]
    for t in days:
        if not is_rebalance_day(t, cfg.book):
            continue
        inputs = day_inputs(ds, t)
        for v in variants:
            out[v.name].extend(day_signals(models, inputs, cfg, v, previous=latest.get(v.name, [])))
            latest[v.name] = [s for s in out[v.name] if s.decided_at == t]
        book = day_book(models, inputs, cfg, FULL)
        candidates.extend({"date": t, **asdict(c)} for c in book.candidates if c.rank > 0)
    return out, candidates


def run_fold(
    fold: Fold,
    ds: CascadeDatasets | None = None,
    cfg: CascadeConfig | None = None,
    variants: tuple[BookVariant, ...] | None = None,
) -> FoldOutcome:
    ds = ds or _WORKER_DS
    cfg = cfg or _WORKER_CFG
    variants = variants or _WORKER_VARIANTS
    assert ds is not None and cfg is not None
    models = train_cascade(ds, fold.train_start, fold.test_start, cfg, sequence_model=False)
    preds = predict_block(models, ds, fold.test_start, fold.test_end)
    version = f"{cfg.fingerprint()}@{fold.test_start.date()}"
    signals, candidates = block_signals(
        SignalModels(models.l3, models.meta, version), ds, fold, cfg, variants
    )
    meta = {
        "l1": models.l1.meta,
        "l2": models.l2.meta,
        "l3": models.l3.meta,
        "l4_meta_label": {k: v for k, v in (models.meta.meta if models.meta else {}).items()},
    }
    return FoldOutcome(fold, preds, models.seconds, models.cutoffs, meta, signals, candidates)


def run_folds(
    ds: CascadeDatasets,
    folds: list[Fold],
    cfg: CascadeConfig,
    workers: int,
    variants: tuple[BookVariant, ...] = (FULL,),
) -> list[FoldOutcome]:
    if workers <= 1 or len(folds) == 1:
        return [run_fold(f, ds, cfg, variants) for f in folds]
    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=ctx, initializer=_init_worker, initargs=(ds, cfg, variants)
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

    def signals(self, variant: str) -> list[TradeSignal]:
        return [s for o in self.folds for s in o.signals.get(variant, [])]

    def candidates(self) -> pd.DataFrame:
        return pd.DataFrame([c for o in self.folds for c in o.candidates])


def walk_forward(
    data: MarketData,
    start: object,
    end: object,
    config: CascadeConfig | None = None,
    workers: int | None = None,
    variants: tuple[BookVariant, ...] = (FULL,),
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
    outcomes = run_folds(ds, folds, cfg, workers if workers is not None else ev.workers, variants)
    timings["train_and_predict_folds"] = time.perf_counter() - t0
    preds = BlockPredictions.concat([o.predictions for o in outcomes])
    return WalkForwardResult(data, ds, outcomes, preds, s, last, timings)


def load_for_evaluation(data_dir: str | Path, end: object) -> MarketData:
    """Daily candles, market snapshots and sentiment up to ``end`` (never read past it)."""
    return load_market_data(data_dir, end=end)
