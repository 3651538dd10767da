"""Run the trained layer models over a block of days (batch, for the layer metrics of the
evaluation). The trade signals themselves come from ``cp_models.signals.day_signals``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cp_models.datasets import CascadeDatasets, rows_between
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
