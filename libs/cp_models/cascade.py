"""Run the trained cascade over a block of days (batch, for evaluation) and turn the
layer outputs into tradeable signals exactly as the services do for a single day.

Per day ``t`` (all inputs known at the close of ``t``):
L1 gives the regime and the recommended exposure; L2 scores sectors (leading 3 / declining
2); L3 scores assets, and the tier-1 set is the ``n_active`` best-scored assets outside the
declining sectors; L4 decides long / short / nothing for each of them.
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
    probs = models.l4.proba(ds.store, assets)
    l4 = models.l4.decide(probs, assets)
    return BlockPredictions(l1, l2, rot, raw, l4, dict(models.l4.meta.get("base_rates", {})))


def _signal_rows(
    decisions: pd.DataFrame, ds: CascadeDatasets, exposure: pd.Series, config: CascadeConfig
) -> pd.DataFrame:
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


def active_assets(preds: BlockPredictions, config: CascadeConfig, sector_of: dict[str, str]) -> pd.Series:
    """Boolean over (date, symbol): in the tier-1 set of that day."""
    n_decl = config.l2.n_declining
    declining: dict[pd.Timestamp, set[str]] = {}
    for t, s in preds.l2.groupby(level=0):
        s = s.droplevel(0).sort_values()
        declining[t] = set(s.index[:n_decl]) if len(s) > config.l2.n_leading else set()
    l3 = preds.l3
    syms = l3.index.get_level_values(1)
    dates = l3.index.get_level_values(0)
    blocked = np.array(
        [sector_of.get(s, "other") in declining.get(t, set()) for t, s in zip(dates, syms, strict=True)]
    )
    score = l3["score"].where(~blocked)
    rank = score.groupby(level=0).rank(ascending=False, method="first")
    return (rank <= config.portfolio.n_active).fillna(False)


def cascade_signals(preds: BlockPredictions, ds: CascadeDatasets, config: CascadeConfig) -> pd.DataFrame:
    """Signals for the tier-1 assets of each day (what the portfolio follows)."""
    active = active_assets(preds, config, dict(ds.data.sectors))
    decisions = preds.l4[active.reindex(preds.l4.index).fillna(False).to_numpy()]
    return _signal_rows(decisions, ds, preds.l1["recommended_exposure"], config)


def all_signals(preds: BlockPredictions, ds: CascadeDatasets, config: CascadeConfig) -> pd.DataFrame:
    """Signals L4 would emit on every asset (L4 scored on its own, full exposure)."""
    ones = pd.Series(1.0, index=preds.l1.index)
    return _signal_rows(preds.l4, ds, ones, config)


def allocation_weights(
    preds: BlockPredictions,
    ds: CascadeDatasets,
    config: CascadeConfig,
    every_days: int = 7,
    per_sector: int = 2,
) -> pd.DataFrame:
    """Target weights of the allocation variant: L2's recommended allocation (cash = 1 - L1
    exposure, a BTC core, the leading sectors) with each sector's share split equally over its
    ``per_sector`` best L3-scored assets; decided every ``every_days`` days."""
    bench = "BTC" if "BTC" in ds.data.close.columns else ds.data.tradable[0]
    sector_of = dict(ds.data.sectors)
    days = preds.l1.index[::every_days]
    rows = {}
    for t in days:
        l1 = preds.l1.loc[t]
        try:
            sec_scores = preds.l2.xs(t, level=0)
            l3 = preds.l3["score"].xs(t, level=0)
        except KeyError:
            continue
        order = sec_scores.sort_values(ascending=False)
        leading = list(order.index[: config.l2.n_leading])
        regime = str(l1["regime"])
        exposure = float(l1["recommended_exposure"])
        btc_share = config.l2.btc_core_by_regime.get(regime, 0.5)
        w: dict[str, float] = {bench: exposure * btc_share}
        strength = {s: max(float(order[s]) - 0.5, 0.0) + 0.01 for s in leading}
        total = sum(strength.values())
        for s in leading:
            share = exposure * (1.0 - btc_share) * strength[s] / total
            members = l3[[sym for sym in l3.index if sector_of.get(sym) == s and sym != bench]]
            picks = list(members.sort_values(ascending=False).index[:per_sector])
            if not picks:
                w[bench] += share
                continue
            for sym in picks:
                w[sym] = w.get(sym, 0.0) + share / len(picks)
        rows[t] = w
    frame = pd.DataFrame.from_dict(rows, orient="index").fillna(0.0)
    return frame.reindex(columns=sorted(frame.columns))
