"""L3 asset selection: a score per asset predicting its forward risk-adjusted return rank,
tier-1 deep analysis, tier-2 light scan and watchlist suggestions.

Method: the deep model (``HistGradientBoostingRegressor``) learns the cross-sectional rank
of the next-14-day return (entered at the next open) divided by 30-day volatility, from
per-asset features, the asset's sector features and a few market features. The light scan
is a ridge regression on six momentum/volatility features. A score is the percentile of an
asset's prediction within the scanned universe that day (0..1; 0.8 = predicted top 20 %).

Suggestions (thresholds from the seed where it has them): ``promote_to_tier1`` when a
tier-2 asset's score > 0.8, ``add_tier2`` when an asset of the top-100 universe outside the
watchlist scores > 0.75, ``demote_to_tier2`` when a tier-1 asset decays (score < 0.35 or a
drop of 0.25 since the previous scan), ``remove_from_tier2`` when a tier-2 asset's score
< 0.2. Every suggestion has a readable reason and its supporting features.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from cp_models.config import L3Config
from cp_models.features.asset import ASSET_FEATURES
from cp_models.layers.base import from_bytes, to_bytes

L3_SECTOR_CONTEXT = ["sec_mom_30d", "sec_rs_30d", "sec_rs_90d", "sec_breadth_50"]
L3_MARKET_CONTEXT = ["btc_mom_30d", "btc_vol_pct", "breadth_50", "fear_greed", "ew_mom_30d"]
L3_FEATURES = list(ASSET_FEATURES) + L3_SECTOR_CONTEXT + L3_MARKET_CONTEXT
L3_LIGHT_FEATURES = ["mom_30d", "mom_90d", "vol_30d", "rsi_14", "volume_trend_7_30", "rel_mom_30d_btc"]
EXPLAIN_FEATURES = {
    "mom_30d": "30-day return",
    "mom_90d": "90-day return",
    "rel_mom_30d_btc": "30-day return vs BTC",
    "vol_30d": "30-day volatility",
    "rsi_14": "RSI(14)",
    "drawdown_90d": "drawdown from 90-day high",
    "volume_trend_7_30": "volume trend (7d vs 30d)",
    "sec_rs_30d": "sector strength vs market (30d)",
}


@dataclass(frozen=True)
class AssetScore:
    symbol: str
    score: float  # deep-model score, percentile in the scanned universe
    light_score: float
    risk_level: str
    recommendation: str
    supporting_features: dict[str, float]


@dataclass(frozen=True)
class Suggestion:
    symbol: str
    action: str  # promote_to_tier1 | add_tier2 | demote_to_tier2 | remove_from_tier2
    confidence: float
    reason: str
    supporting_data: dict[str, float]


@dataclass(frozen=True)
class AssetSelectionResult:
    tier1_analysis: list[AssetScore]
    tier2_opportunities: list[AssetScore]
    suggestions: list[Suggestion]
    selected_assets: list[str]
    as_of: str | None = None
    extras: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def _risk_level(vol_rank: float) -> str:
    if not np.isfinite(vol_rank):
        return "medium"
    return (
        "low" if vol_rank < 0.25 else "medium" if vol_rank < 0.6 else "high" if vol_rank < 0.9 else "extreme"
    )


def _recommendation(score: float) -> str:
    return "strong_buy" if score > 0.8 else "buy" if score > 0.6 else "hold" if score > 0.35 else "avoid"


class AssetSelectionModel:
    """Trained L3 model. ``predict(asset_rows, watchlist, available_assets)`` -> ``AssetSelectionResult``."""

    def __init__(self, deep: HistGradientBoostingRegressor, light: Pipeline, config: L3Config, meta: dict):
        self.deep = deep
        self.light = light
        self.config = config
        self.meta = meta

    @classmethod
    def fit(cls, X: pd.DataFrame, y_rank: pd.Series, config: L3Config, seed: int = 0) -> AssetSelectionModel:
        ok = y_rank.notna()
        deep = HistGradientBoostingRegressor(
            max_iter=config.max_iter,
            learning_rate=config.learning_rate,
            max_depth=config.max_depth,
            min_samples_leaf=config.min_samples_leaf,
            l2_regularization=1.0,
            random_state=seed,
        )
        deep.fit(X.loc[ok, L3_FEATURES].to_numpy(dtype="float64"), y_rank[ok].to_numpy())
        light = Pipeline(
            [
                ("impute", SimpleImputer(strategy="median")),
                ("scale", StandardScaler()),
                ("ridge", Ridge(alpha=10.0)),
            ]
        )
        light.fit(X.loc[ok, L3_LIGHT_FEATURES], y_rank[ok].to_numpy())
        dates = X.index.get_level_values(0)[ok]
        meta = {
            "train_rows": int(ok.sum()),
            "train_start": str(dates.min().date()),
            "train_end": str(dates.max().date()),
        }
        return cls(deep, light, config, meta)

    # --- batch ----------------------------------------------------------------------
    def raw_scores(self, X: pd.DataFrame) -> pd.DataFrame:
        """Raw deep and light predictions per (date, symbol) row."""
        return pd.DataFrame(
            {
                "deep": self.deep.predict(X[L3_FEATURES].to_numpy(dtype="float64")),
                "light": self.light.predict(X[L3_LIGHT_FEATURES]),
            },
            index=X.index,
        )

    @staticmethod
    def percentile_by_date(raw: pd.Series) -> pd.Series:
        return raw.groupby(level=0).rank(pct=True)

    # --- single prediction (services) -----------------------------------------------
    def predict(  # noqa: C901 - split in the signal-quality work
        self,
        asset_rows: pd.DataFrame,
        watchlist: dict[str, list[str]] | None = None,
        available_assets: list[str] | None = None,
        previous_scores: dict[str, float] | None = None,
        n_selected: int = 10,
        as_of: str | None = None,
    ) -> AssetSelectionResult:
        """``asset_rows``: one row per asset of the scanned universe (index = symbol) with
        ``L3_FEATURES``; ``watchlist``: {"tier1": [...], "tier2": [...]}; ``available_assets``:
        symbols ordered by market cap (the top ``universe_size`` are candidates for tier 2)."""
        cfg = self.config
        watchlist = watchlist or {}
        tier1 = [s for s in watchlist.get("tier1", []) if s in asset_rows.index]
        tier2 = [s for s in watchlist.get("tier2", []) if s in asset_rows.index]
        rows = asset_rows.dropna(subset=["mom_30d"])
        raw = self.raw_scores(rows)
        score = raw["deep"].rank(pct=True)
        light = raw["light"].rank(pct=True)
        vol_rank = rows["vol_30d"].rank(pct=True)
        pct = rows[[f for f in EXPLAIN_FEATURES if f in rows]].rank(pct=True)

        def support(sym: str) -> dict[str, float]:
            return {
                f: float(rows.at[sym, f])
                for f in EXPLAIN_FEATURES
                if f in rows and np.isfinite(rows.at[sym, f])
            }

        n = len(rows)
        order = {f: rows[f].rank(ascending=False, method="min") for f in pct.columns}
        score_rank = score.rank(ascending=False, method="min")

        def reason(sym: str, verb: str) -> str:
            extremes = sorted(
                pct.columns,
                key=lambda f: -abs(float(pct.at[sym, f]) - 0.5) if np.isfinite(pct.at[sym, f]) else 0.0,
            )[:3]
            parts = [
                f"{EXPLAIN_FEATURES[f]} {rows.at[sym, f]:+.3g} (#{int(order[f][sym])} of {n})"
                for f in extremes
                if np.isfinite(pct.at[sym, f])
            ]
            return (
                f"{verb}: score {float(score[sym]):.2f}, #{int(score_rank[sym])} of {n} assets by predicted "
                "risk-adjusted return; " + "; ".join(parts)
            )

        def asset_score(sym: str) -> AssetScore:
            s = float(score[sym])
            return AssetScore(
                sym, s, float(light[sym]), _risk_level(float(vol_rank[sym])), _recommendation(s), support(sym)
            )

        suggestions: list[Suggestion] = []
        prev = previous_scores or {}
        for sym in tier2:
            if sym not in score:
                continue
            s = float(score[sym])
            if s > cfg.promote_threshold:
                suggestions.append(
                    Suggestion(sym, "promote_to_tier1", s, reason(sym, "Promote to tier 1"), support(sym))
                )
            elif s < cfg.remove_threshold:
                suggestions.append(
                    Suggestion(
                        sym, "remove_from_tier2", 1 - s, reason(sym, "Remove from tier 2"), support(sym)
                    )
                )
        for sym in tier1:
            if sym not in score:
                continue
            s = float(score[sym])
            dropped = sym in prev and prev[sym] - s >= cfg.decay_drop
            if s < cfg.demote_threshold or dropped:
                why = "Demote to tier 2" + (f" (score fell from {prev[sym]:.2f})" if dropped else "")
                suggestions.append(Suggestion(sym, "demote_to_tier2", 1 - s, reason(sym, why), support(sym)))
        universe = (available_assets or list(rows.index))[: cfg.universe_size]
        watched = set(tier1) | set(tier2)
        for sym in universe:
            if sym in watched or sym not in score:
                continue
            s = float(score[sym])
            if s > cfg.add_threshold:
                suggestions.append(
                    Suggestion(sym, "add_tier2", s, reason(sym, "Add to tier 2"), support(sym))
                )
        analysed = tier1 or list(score.sort_values(ascending=False).index[:n_selected])
        tier1_analysis = sorted((asset_score(s) for s in analysed if s in score), key=lambda a: -a.score)
        tier2_scan = sorted((asset_score(s) for s in tier2 if s in score), key=lambda a: -a.light_score)
        selected = [a.symbol for a in tier1_analysis if a.recommendation in ("strong_buy", "buy", "hold")]
        return AssetSelectionResult(tier1_analysis, tier2_scan, suggestions, selected[:n_selected], as_of)

    def to_bytes(self) -> bytes:
        return to_bytes(self)

    @classmethod
    def load(cls, blob: bytes) -> AssetSelectionModel:
        return from_bytes(blob, cls)
