"""Layer 3's explainer gives the same reasons, supporting features and scores as its reference:
the per-cell pandas implementation it replaced, kept here, on every asset of several scan days
(with missing features among them)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cp_models.datasets import CascadeDatasets
from cp_models.layers.l3_asset import (
    EXPLAIN_FEATURES,
    AssetScore,
    Suggestion,
    _Explainer,
    _recommendation,
    _risk_level,
)


class _Reference:
    """The explainer as it was before it was vectorised (per-cell pandas lookups)."""

    def __init__(self, rows: pd.DataFrame, score: pd.Series, light: pd.Series) -> None:
        self.rows, self.score, self.light = rows, score, light
        self.vol_rank = rows["vol_30d"].rank(pct=True)
        self.pct = rows[[f for f in EXPLAIN_FEATURES if f in rows]].rank(pct=True)
        self.order = {f: rows[f].rank(ascending=False, method="min") for f in self.pct.columns}
        self.score_rank = score.rank(ascending=False, method="min")

    def support(self, sym: str) -> dict[str, float]:
        r = self.rows
        return {f: float(r.at[sym, f]) for f in EXPLAIN_FEATURES if f in r and np.isfinite(r.at[sym, f])}

    def reason(self, sym: str, verb: str) -> str:
        pct, n = self.pct, len(self.rows)
        extremes = sorted(
            pct.columns,
            key=lambda f: -abs(float(pct.at[sym, f]) - 0.5) if np.isfinite(pct.at[sym, f]) else 0.0,
        )[:3]
        parts = [
            f"{EXPLAIN_FEATURES[f]} {self.rows.at[sym, f]:+.3g} (#{int(self.order[f][sym])} of {n})"
            for f in extremes
            if np.isfinite(pct.at[sym, f])
        ]
        return (
            f"{verb}: score {float(self.score[sym]):.2f}, #{int(self.score_rank[sym])} of {n} assets by "
            "predicted risk-adjusted return; " + "; ".join(parts)
        )

    def suggestion(self, sym: str, action: str, confidence: float, verb: str) -> Suggestion:
        return Suggestion(sym, action, confidence, self.reason(sym, verb), self.support(sym))

    def asset_score(self, sym: str) -> AssetScore:
        s = float(self.score[sym])
        level = _risk_level(float(self.vol_rank[sym]))
        return AssetScore(sym, s, float(self.light[sym]), level, _recommendation(s), self.support(sym))


def _scans(sim_datasets: CascadeDatasets) -> list[tuple[pd.DataFrame, pd.Series, pd.Series]]:
    assets = sim_datasets.assets
    days = assets.index.get_level_values(0).unique()
    scans = []
    for k, day in enumerate(days[-3:]):
        rows = assets.xs(day, level=0).dropna(subset=["mom_30d"]).copy()
        if k == 1:  # missing features: not finite in the reasons, left out of the support
            rows.iloc[0, rows.columns.get_loc("rsi_14")] = np.nan
            rows.iloc[1, rows.columns.get_loc("sec_rs_30d")] = np.inf
            rows.iloc[2, rows.columns.get_loc("drawdown_90d")] = np.nan
        score = rows["mom_90d"].rank(pct=True)
        light = rows["rsi_14"].rank(pct=True).fillna(0.5)
        scans.append((rows, score, light))
    return scans


def test_explainer_answers_exactly_as_its_reference(sim_datasets: CascadeDatasets) -> None:
    for rows, score, light in _scans(sim_datasets):
        new, old = _Explainer(rows, score, light), _Reference(rows, score, light)
        assert len(rows) > 5
        for sym in rows.index:
            assert new.reason(sym, "Add to tier 2") == old.reason(sym, "Add to tier 2")
            assert new.support(sym) == old.support(sym)
            assert new.asset_score(sym) == old.asset_score(sym)
            assert new.suggestion(sym, "add_tier2", 0.7, "Add") == old.suggestion(
                sym, "add_tier2", 0.7, "Add"
            )
