"""Run the trained layer models over a block of days (batch, for the layer metrics of the
evaluation). The trade signals themselves come from ``cp_models.signals.day_signals``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cp_models.config import CascadeConfig
from cp_models.datasets import CascadeDatasets, rows_between
from cp_models.layers.l4_timing import position_weight
from cp_models.training import TrainedCascade

L1_WARMUP_DAYS = 60


@dataclass
class BlockPredictions:
    l1: pd.DataFrame  # date rows: p_*, regime, confidence, risk, exposure
    l2: pd.Series  # (date, sector): score
    l2_rotation: pd.Series  # date: rotation probability
    l3: pd.DataFrame  # (date, symbol): deep, light, score, light_score
    l4: pd.DataFrame  # (date, symbol): probabilities, agreement, side, votes
    l4_base_rates: dict[str, float]

    @staticmethod
    def concat(blocks: list[BlockPredictions]) -> BlockPredictions:
        n = sum(1 for _ in blocks)
        base = (
            {k: float(np.mean([b.l4_base_rates[k] for b in blocks])) for k in blocks[0].l4_base_rates}
            if n
            else {}
        )
        return BlockPredictions(
            pd.concat([b.l1 for b in blocks]).sort_index(),
            pd.concat([b.l2 for b in blocks]).sort_index(),
            pd.concat([b.l2_rotation for b in blocks]).sort_index(),
            pd.concat([b.l3 for b in blocks]).sort_index(),
            pd.concat([b.l4 for b in blocks]).sort_index(),
            base,
        )


def predict_block(
    models: TrainedCascade, ds: CascadeDatasets, start: pd.Timestamp, end: pd.Timestamp
) -> BlockPredictions:
    warm = rows_between(ds.market, start - pd.Timedelta(days=L1_WARMUP_DAYS), end)
    l1 = rows_between(models.l1.results_frame(warm), start, end)
    sectors = rows_between(ds.sectors, start, end)
    l2 = models.l2.score(sectors)
    rot = models.l2.rotation_probability(rows_between(ds.rotation, start, end))
    assets = rows_between(ds.assets, start, end)
    raw = models.l3.raw_scores(assets)
    raw["score"] = models.l3.percentile_by_date(raw["deep"])
    raw["light_score"] = models.l3.percentile_by_date(raw["light"])
    if models.l4 is None:
        return BlockPredictions(l1, l2, rot, raw, pd.DataFrame(), {})
    probs = models.l4.proba(ds.store, assets)
    l4 = models.l4.decide(probs, assets)
    return BlockPredictions(l1, l2, rot, raw, l4, dict(models.l4.meta.get("base_rates", {})))


def _signal_rows(
    decisions: pd.DataFrame, ds: CascadeDatasets, exposure: pd.Series, config: CascadeConfig
) -> pd.DataFrame:
    """Legacy: the barrier signals of the sequence model's decisions (kept for the L4 service
    until it calls ``cp_models.signals.day_signals``; the evaluation no longer trades them)."""
    live = decisions[decisions["side"] != ""]
    cols = [
        "date",
        "symbol",
        "side",
        "probability",
        "agreement",
        "target_dist",
        "stop_dist",
        "horizon_days",
        "weight",
        "exposure",
    ]
    if live.empty:
        return pd.DataFrame(columns=cols)
    rows = ds.assets.loc[live.index]
    dates = live.index.get_level_values(0)
    regime = ds.barrier_regime.reindex(dates).to_numpy()
    scale = np.array([config.l4.barriers.scale_for(r if isinstance(r, str) else None) for r in regime])
    atr_abs = rows["atr_14_pct"].to_numpy() * rows["close"].to_numpy()
    expo = exposure.reindex(dates).fillna(0.0).to_numpy()
    weights = [
        position_weight(p, v, e, config.l4)
        for p, v, e in zip(live["probability"].to_numpy(), rows["vol_30d"].to_numpy(), expo, strict=True)
    ]
    out = pd.DataFrame(
        {
            "date": dates,
            "symbol": live.index.get_level_values(1),
            "side": live["side"].to_numpy(),
            "probability": live["probability"].to_numpy(),
            "agreement": live["agreement"].to_numpy(),
            "target_dist": config.l4.barriers.k_target * atr_abs * scale,
            "stop_dist": config.l4.barriers.k_stop * atr_abs * scale,
            "horizon_days": config.l4.barriers.horizon_days,
            "weight": weights,
            "exposure": expo,
        }
    )
    return out[np.isfinite(out["target_dist"]) & (out["target_dist"] > 0)].reset_index(drop=True)
