"""Train all four layers on one window of the shared data (or the simulator's history).

``train_cascade(datasets, train_start, test_start, config)`` fits every layer on the days
before ``test_start`` minus that layer's label horizon and the embargo (purging), so the
same function serves the walk-forward evaluation and production training
(``test_start`` = the day after the last day of data).

``train_all(data_dir)`` trains on everything and returns ``TrainingArtifacts``: one bytes
blob per layer plus a metadata dict (training window, feature list, hyper-parameters,
in-sample metrics) for the model registry.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cp_models import __version__
from cp_models.config import CascadeConfig
from cp_models.data import MarketData, load_market_data
from cp_models.datasets import CascadeDatasets, build_datasets, rows_between
from cp_models.layers.l1_macro import L1_FEATURES, MacroRegimeModel
from cp_models.layers.l2_sector import L2_FEATURES, ROTATION_FEATURES, SectorRotationModel
from cp_models.layers.l3_asset import L3_FEATURES, L3_LIGHT_FEATURES, AssetSelectionModel
from cp_models.layers.l4_meta import META_FEATURES, MetaLabelModel
from cp_models.layers.l4_timing import CHANNELS, L4_STATIC, TimingModel
from cp_models.layers.voters import VOTER_INPUTS
from cp_models.validation import purged_cutoff

REGISTRY_NAMES = {
    "l1": "macro_regime_v3",
    "l2": "sector_rotation_v2",
    "l3": "asset_tier1_v4",
    "l4": "timing_signals_v5",
}


@dataclass
class TrainedCascade:
    l1: MacroRegimeModel
    l2: SectorRotationModel
    l3: AssetSelectionModel
    l4: TimingModel | None  # the sequence model (services' TimingModel API); None in the walk-forward
    meta: MetaLabelModel | None = None  # L4 meta-label gate of the trading book
    cutoffs: dict[str, str] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


def layer_cutoffs(test_start: pd.Timestamp, config: CascadeConfig) -> dict[str, pd.Timestamp]:
    """Last usable training day per layer: label window ends before ``test_start``, minus the embargo."""
    e = config.evaluation.embargo_days
    return {k: purged_cutoff(test_start, h, e) for k, h in config.label_horizons().items()}


def train_meta(
    ds: CascadeDatasets, train_start: pd.Timestamp | None, cutoff: pd.Timestamp, config: CascadeConfig
) -> MetaLabelModel:
    cost = 2.0 * (config.evaluation.fee + config.evaluation.slippage)
    purge = config.meta.label_horizon + config.evaluation.embargo_days
    return MetaLabelModel.fit(
        rows_between(ds.assets, train_start, cutoff),
        rows_between(ds.meta_forward, train_start, cutoff),
        cost,
        config.book,
        config.meta,
        purge,
        config.seed,
    )


def train_cascade(
    ds: CascadeDatasets,
    train_start: pd.Timestamp | None,
    test_start: pd.Timestamp,
    config: CascadeConfig,
    sequence_model: bool = True,
) -> TrainedCascade:
    cut = layer_cutoffs(test_start, config)
    seed = config.seed
    secs: dict[str, float] = {}
    t0 = time.perf_counter()
    l1 = MacroRegimeModel.fit(
        rows_between(ds.market, train_start, cut["l1"]),
        rows_between(ds.l1_y, train_start, cut["l1"]),
        config.l1,
        seed,
    )
    secs["l1"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    l2 = SectorRotationModel.fit(
        rows_between(ds.sectors, train_start, cut["l2"]),
        rows_between(ds.l2_y, train_start, cut["l2"]),
        rows_between(ds.rotation, train_start, cut["l2"]),
        rows_between(ds.rotation_y, train_start, cut["l2"]),
        config.l2,
        seed,
    )
    secs["l2"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    l3 = AssetSelectionModel.fit(
        rows_between(ds.assets, train_start, cut["l3"]),
        rows_between(ds.l3_y, train_start, cut["l3"]),
        config.l3,
        seed,
    )
    secs["l3"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    meta = train_meta(ds, train_start, cut["meta"], config)
    secs["meta"] = time.perf_counter() - t0
    l4 = None
    if sequence_model:
        t0 = time.perf_counter()
        l4 = TimingModel.fit(
            ds.store,
            rows_between(ds.assets, train_start, cut["l4"]),
            rows_between(ds.l4_y, train_start, cut["l4"]),
            config.l4,
            seed,
        )
        l4.meta_label = meta
        secs["l4"] = time.perf_counter() - t0
    return TrainedCascade(l1, l2, l3, l4, meta, {k: str(v.date()) for k, v in cut.items()}, secs)


@dataclass
class TrainingArtifacts:
    blobs: dict[str, bytes]  # registry name -> artifact bytes
    metadata: dict

    def write(self, out_dir: str | Path) -> list[Path]:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, blob in self.blobs.items():
            p = out / f"{name}.bin"
            p.write_bytes(blob)
            paths.append(p)
        meta = out / "metadata.json"
        meta.write_text(json.dumps(self.metadata, indent=2, default=str))
        paths.append(meta)
        return paths


def artifacts_of(
    models: TrainedCascade,
    data: MarketData,
    config: CascadeConfig,
    source: str,
    holdout: dict[str, dict] | None = None,
) -> TrainingArtifacts:
    assert models.l4 is not None, "the registry artifacts need the sequence model"
    blobs = {
        REGISTRY_NAMES["l1"]: models.l1.to_bytes(),
        REGISTRY_NAMES["l2"]: models.l2.to_bytes(),
        REGISTRY_NAMES["l3"]: models.l3.to_bytes(),
        REGISTRY_NAMES["l4"]: models.l4.to_bytes(),
    }
    meta: dict[str, Any] = {
        "cp_models_version": __version__,
        "data_source": source,
        "data_window": {"start": str(data.index[0].date()), "end": str(data.index[-1].date())},
        "symbols": data.tradable,
        "config_fingerprint": config.fingerprint(),
        "hyper_parameters": config.as_dict(),
        "seed": config.seed,
        "train_cutoffs": models.cutoffs,
        "train_seconds": models.seconds,
        "layers": {
            REGISTRY_NAMES["l1"]: {
                "class": "MacroRegimeModel",
                "features": models.l1.features,
                **models.l1.meta,
            },
            REGISTRY_NAMES["l2"]: {
                "class": "SectorRotationModel",
                "features": L2_FEATURES,
                "rotation_features": ROTATION_FEATURES,
                **models.l2.meta,
            },
            REGISTRY_NAMES["l3"]: {
                "class": "AssetSelectionModel",
                "features": L3_FEATURES,
                "light_features": L3_LIGHT_FEATURES,
                **models.l3.meta,
            },
            REGISTRY_NAMES["l4"]: {
                "class": "TimingModel",
                "channels": CHANNELS,
                "static_features": L4_STATIC,
                "voter_inputs": VOTER_INPUTS,
                "voter_weights": models.l4.voter_weights,
                "meta_label": {"features": META_FEATURES, **(models.meta.meta if models.meta else {})},
                **models.l4.meta,
            },
        },
        "all_l1_features": L1_FEATURES,
    }
    for layer, name in REGISTRY_NAMES.items():
        meta["layers"][name]["holdout_metrics"] = (holdout or {}).get(layer, {})
    return TrainingArtifacts(blobs, meta)


def train_all(
    data_dir: str | Path | None = None,
    config: CascadeConfig | None = None,
    end: object | None = None,
    sim_seed: int = 7,
    holdout_days: int = 182,
    sim_days: int = 6 * 365,
) -> TrainingArtifacts:
    """Train every layer on all the data in ``data_dir`` (or on the simulator's history).

    Each layer's ``holdout_metrics`` come from a first fit that leaves out the last
    ``holdout_days`` (0 to skip); the returned models are fit on everything."""
    cfg = config or CascadeConfig()
    if data_dir is not None:
        data = load_market_data(data_dir, end=end)
        source = "shared data directory"
    else:
        from cp_models.data import simulated_market_data

        data = simulated_market_data(sim_seed, days=sim_days)
        source = f"cp_market simulator (seed {sim_seed})"
    ds = build_datasets(data, cfg)
    holdout = None
    if holdout_days > 0:
        from cp_models.holdout import clean, holdout_metrics

        holdout = clean(holdout_metrics(ds, cfg, holdout_days))
    test_start = data.index[-1] + pd.Timedelta(days=1)
    models = train_cascade(ds, None, test_start, cfg)
    return artifacts_of(models, data, cfg, source, holdout)
