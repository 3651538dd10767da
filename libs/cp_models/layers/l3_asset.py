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

import math
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
from cp_models.layers.base import fill_unobserved, from_bytes, to_bytes

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
    #: Every asset row's score: the percentile of its deep prediction among all the rows (the
    #: order the book ranks, ``raw_scores(rows)["deep"]``; ``score`` above leaves out rows
    #: without a 30-day return).
    day_scores: dict[str, float] = field(default_factory=dict)

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
        deep.fit(fill_unobserved(X.loc[ok, L3_FEATURES].to_numpy(dtype="float64")), y_rank[ok].to_numpy())
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
    def predict(
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
        watchlist = watchlist or {}
        tier1 = [s for s in watchlist.get("tier1", []) if s in asset_rows.index]
        tier2 = [s for s in watchlist.get("tier2", []) if s in asset_rows.index]
        raw_all = self.raw_scores(asset_rows)
        rows = asset_rows.dropna(subset=["mom_30d"])
        raw = raw_all.loc[rows.index]
        ex = _Explainer(rows, raw["deep"].rank(pct=True), raw["light"].rank(pct=True))
        universe = (available_assets or list(rows.index))[: self.config.universe_size]
        suggestions = [
            *self._tier2_suggestions(ex, tier2),
            *self._tier1_suggestions(ex, tier1, previous_scores or {}),
            *self._universe_suggestions(ex, universe, set(tier1) | set(tier2)),
        ]
        score = ex.score
        analysed = tier1 or list(score.sort_values(ascending=False).index[:n_selected])
        tier1_analysis = sorted((ex.asset_score(s) for s in analysed if s in score), key=lambda a: -a.score)
        tier2_scan = sorted((ex.asset_score(s) for s in tier2 if s in score), key=lambda a: -a.light_score)
        selected = [a.symbol for a in tier1_analysis if a.recommendation in ("strong_buy", "buy", "hold")]
        day_scores = {str(k): float(v) for k, v in raw_all["deep"].rank(pct=True).items()}
        return AssetSelectionResult(
            tier1_analysis, tier2_scan, suggestions, selected[:n_selected], as_of, day_scores=day_scores
        )

    def _tier2_suggestions(self, ex: _Explainer, tier2: list[str]) -> list[Suggestion]:
        out = []
        for sym in (s for s in tier2 if s in ex.score):
            s = float(ex.score[sym])
            if s > self.config.promote_threshold:
                out.append(ex.suggestion(sym, "promote_to_tier1", s, "Promote to tier 1"))
            elif s < self.config.remove_threshold:
                out.append(ex.suggestion(sym, "remove_from_tier2", 1 - s, "Remove from tier 2"))
        return out

    def _tier1_suggestions(
        self, ex: _Explainer, tier1: list[str], prev: dict[str, float]
    ) -> list[Suggestion]:
        out = []
        for sym in (s for s in tier1 if s in ex.score):
            s = float(ex.score[sym])
            dropped = sym in prev and prev[sym] - s >= self.config.decay_drop
            if s < self.config.demote_threshold or dropped:
                why = "Demote to tier 2" + (f" (score fell from {prev[sym]:.2f})" if dropped else "")
                out.append(ex.suggestion(sym, "demote_to_tier2", 1 - s, why))
        return out

    def _universe_suggestions(
        self, ex: _Explainer, universe: list[str], watched: set[str]
    ) -> list[Suggestion]:
        out = []
        for sym in (s for s in universe if s not in watched and s in ex.score):
            s = float(ex.score[sym])
            if s > self.config.add_threshold:
                out.append(ex.suggestion(sym, "add_tier2", s, "Add to tier 2"))
        return out

    def to_bytes(self) -> bytes:
        return to_bytes(self)

    @classmethod
    def load(cls, blob: bytes) -> AssetSelectionModel:
        return from_bytes(blob, cls)


class _Explainer:
    """Readable reasons and supporting features for one scan's scores.

    Every per-asset figure is looked up once per scan into plain Python containers (the ranks
    computed by pandas as before): the reasons are built for every suggestion and scored asset
    of a call, and per-cell ``DataFrame.at`` lookups were most of a prediction's time."""

    def __init__(self, rows: pd.DataFrame, score: pd.Series, light: pd.Series):
        self.rows, self.score, self.light = rows, score, light
        self.features = [f for f in EXPLAIN_FEATURES if f in rows]
        pct = rows[self.features].rank(pct=True)
        order = {f: rows[f].rank(ascending=False, method="min") for f in self.features}
        self.n = len(rows)
        symbols = list(rows.index)
        self._values = dict(zip(symbols, rows[self.features].to_numpy(dtype=float).tolist(), strict=True))
        self._pct = dict(zip(symbols, pct.to_numpy(dtype=float).tolist(), strict=True))
        self._order = dict(
            zip(symbols, pd.DataFrame(order, index=rows.index).to_numpy(dtype=float).tolist(), strict=True)
        )
        self._score = {k: float(v) for k, v in score.items()}
        self._score_rank = {k: float(v) for k, v in score.rank(ascending=False, method="min").items()}
        self._light = {k: float(v) for k, v in light.items()}
        self._vol_rank = {k: float(v) for k, v in rows["vol_30d"].rank(pct=True).items()}

    def support(self, sym: str) -> dict[str, float]:
        return {f: v for f, v in zip(self.features, self._values[sym], strict=True) if math.isfinite(v)}

    def reason(self, sym: str, verb: str) -> str:
        pct, values, order = self._pct[sym], self._values[sym], self._order[sym]
        extremes = sorted(
            range(len(self.features)),
            key=lambda j: -abs(pct[j] - 0.5) if math.isfinite(pct[j]) else 0.0,
        )[:3]
        parts = [
            f"{EXPLAIN_FEATURES[self.features[j]]} {values[j]:+.3g} (#{int(order[j])} of {self.n})"
            for j in extremes
            if math.isfinite(pct[j])
        ]
        return (
            f"{verb}: score {self._score[sym]:.2f}, #{int(self._score_rank[sym])} of {self.n} assets by "
            "predicted risk-adjusted return; " + "; ".join(parts)
        )

    def suggestion(self, sym: str, action: str, confidence: float, verb: str) -> Suggestion:
        return Suggestion(sym, action, confidence, self.reason(sym, verb), self.support(sym))

    def asset_score(self, sym: str) -> AssetScore:
        s = self._score[sym]
        level = _risk_level(self._vol_rank[sym])
        return AssetScore(sym, s, self._light[sym], level, _recommendation(s), self.support(sym))
