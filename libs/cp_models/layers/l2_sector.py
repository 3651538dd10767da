"""L2 sector rotation: momentum / relative-strength scores per sector, rotation probability,
leading 3 / declining 2 and an allocation conditioned on the L1 regime.

Method: a gradient-boosted regressor (scikit-learn ``HistGradientBoostingRegressor``) learns
the cross-sectional rank of each sector's next-30-day return relative to the all-asset
index from today's sector features plus a few market features; its prediction is the
sector's momentum score (0..1, higher = expected to lead). A logistic regression gives the
probability that leadership rotates: that at most one of today's top-3 sectors by 30-day
momentum is still in the top 3 by return over the next 30 days.
Allocation: ``stablecoin = 1 - L1 exposure``; of the risky part a BTC core share that grows
as the regime turns risk-off, the rest to the leading sectors in proportion to their score.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from cp_models.config import L2Config
from cp_models.features.sector import SECTOR_FEATURES
from cp_models.layers.base import fill_unobserved, from_bytes, to_bytes

L2_MARKET_CONTEXT = ["btc_mom_30d", "btc_vol_pct", "btc_dom_chg_30d", "xs_dispersion_30d", "ew_mom_30d"]
L2_FEATURES = [f for f in SECTOR_FEATURES if f != "sec_n_assets"] + L2_MARKET_CONTEXT
ROTATION_FEATURES = [
    "sector_dispersion_30d",
    "leader_turnover_7d",
    "btc_dom_chg_7d",
    "btc_dom_chg_30d",
    "btc_vol_pct",
    "ew_mom_30d",
    "xs_dispersion_30d",
]


def rotation_context(sector_mom_30d: pd.DataFrame, market: pd.DataFrame, n_leading: int = 3) -> pd.DataFrame:
    """Date-level inputs of the rotation classifier (point in time)."""
    top = sector_mom_30d.rank(axis=1, ascending=False) <= n_leading
    changed = (top != top.shift(7)) & top
    out = pd.DataFrame(index=sector_mom_30d.index)
    out["sector_dispersion_30d"] = sector_mom_30d.std(axis=1)
    out["leader_turnover_7d"] = changed.sum(axis=1) / n_leading
    for c in ROTATION_FEATURES:
        if c not in out:
            out[c] = market[c].reindex(out.index)
    return out[ROTATION_FEATURES]


def rotation_labels(sector_mom_30d: pd.DataFrame, forward_rel: pd.DataFrame, n_leading: int = 3) -> pd.Series:
    """1 if at most one of today's top sectors by momentum stays in the forward top set."""
    now_top = sector_mom_30d.rank(axis=1, ascending=False) <= n_leading
    fwd_top = forward_rel.rank(axis=1, ascending=False) <= n_leading
    overlap = (now_top & fwd_top).sum(axis=1)
    valid = forward_rel.notna().sum(axis=1) >= n_leading + 1
    return (overlap <= 1).astype("float64").where(valid)


@dataclass(frozen=True)
class SectorRotationResult:
    momentum_scores: dict[str, float]
    relative_strength: dict[str, float]
    leading_sectors: list[str]
    declining_sectors: list[str]
    rotation_probability: float
    recommended_allocation: dict[str, float]
    flow_directions: dict[str, str]
    as_of: str | None = None
    macro_regime: str = "neutral"
    extras: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


class SectorRotationModel:
    """Trained L2 model. ``predict(sector_rows, rotation_row, macro)`` -> ``SectorRotationResult``."""

    def __init__(
        self,
        scorer: HistGradientBoostingRegressor,
        rotation: Pipeline | None,
        config: L2Config,
        meta: dict,
        rotation_base_rate: float,
    ):
        self.scorer = scorer
        self.rotation = rotation
        self.config = config
        self.meta = meta
        self.rotation_base_rate = rotation_base_rate

    @classmethod
    def fit(
        cls,
        X: pd.DataFrame,
        y_rank: pd.Series,
        R: pd.DataFrame,
        y_rot: pd.Series,
        config: L2Config,
        seed: int = 0,
    ) -> SectorRotationModel:
        """``X``: (date, sector) rows of ``L2_FEATURES``; ``y_rank``: forward relative-return rank;
        ``R``: date rows of ``ROTATION_FEATURES``; ``y_rot``: rotation labels."""
        ok = y_rank.notna()
        scorer = HistGradientBoostingRegressor(
            max_iter=config.max_iter,
            learning_rate=config.learning_rate,
            max_depth=config.max_depth,
            min_samples_leaf=config.min_samples_leaf,
            l2_regularization=1.0,
            random_state=seed,
        )
        scorer.fit(fill_unobserved(X.loc[ok, L2_FEATURES].to_numpy(dtype="float64")), y_rank[ok].to_numpy())
        okr = y_rot.notna()
        rotation = None
        base = float(y_rot[okr].mean()) if okr.any() else 0.5
        if okr.sum() > 50 and y_rot[okr].nunique() == 2:
            rotation = Pipeline(
                [
                    ("impute", SimpleImputer(strategy="median")),
                    ("scale", StandardScaler()),
                    ("clf", LogisticRegression(C=0.3, max_iter=1000, random_state=seed)),
                ]
            )
            rotation.fit(R.loc[okr, ROTATION_FEATURES], y_rot[okr].astype(int))
        meta = {
            "train_rows": int(ok.sum()),
            "rotation_rows": int(okr.sum()),
            "rotation_base_rate": base,
            "train_end": str(X.index.get_level_values(0)[ok].max().date()) if ok.any() else None,
        }
        return cls(scorer, rotation, config, meta, base)

    # --- batch ----------------------------------------------------------------------
    def score(self, X: pd.DataFrame) -> pd.Series:
        """Predicted forward rank per (date, sector) row (higher = expected to lead)."""
        pred = self.scorer.predict(X[L2_FEATURES].to_numpy(dtype="float64"))
        return pd.Series(pred, index=X.index, name="sector_score")

    def rotation_probability(self, R: pd.DataFrame) -> pd.Series:
        if self.rotation is None:
            return pd.Series(self.rotation_base_rate, index=R.index)
        return pd.Series(self.rotation.predict_proba(R[ROTATION_FEATURES])[:, 1], index=R.index)

    # --- allocation -----------------------------------------------------------------
    def allocation(
        self, scores: dict[str, float], leading: list[str], regime: str, exposure: float
    ) -> dict[str, float]:
        exposure = float(np.clip(exposure, 0.0, 1.0))
        btc_share = self.config.btc_core_by_regime.get(regime, 0.5)
        alloc = {"stablecoin": 1.0 - exposure, "BTC": exposure * btc_share}
        rest = exposure * (1.0 - btc_share)
        strength = {s: max(scores[s] - 0.5, 0.0) + 0.01 for s in leading}
        total = sum(strength.values())
        for s in leading:
            alloc[s] = rest * strength[s] / total if total > 0 else rest / max(len(leading), 1)
        if not leading:
            alloc["BTC"] += rest
        return {k: round(v, 6) for k, v in alloc.items()}

    # --- single prediction (services) -----------------------------------------------
    def predict(
        self,
        sector_rows: pd.DataFrame,
        rotation_row: pd.DataFrame,
        macro: dict | None = None,
        as_of: str | None = None,
    ) -> SectorRotationResult:
        """``sector_rows``: one row per sector (index = sector) with ``L2_FEATURES``;
        ``rotation_row``: one row with ``ROTATION_FEATURES``; ``macro``: L1 result dict
        with ``regime`` and ``recommended_exposure`` (defaults: neutral, 0.5)."""
        macro = macro or {}
        regime = str(macro.get("regime") or "neutral")
        exposure = float(macro.get("recommended_exposure", 0.5))
        live = sector_rows.dropna(subset=["sec_mom_30d"])
        s = self.score(live)
        scores = {str(k): float(v) for k, v in s.sort_values(ascending=False).items()}
        order = list(scores)
        leading = order[: self.config.n_leading]
        declining = order[-self.config.n_declining :] if len(order) > self.config.n_leading else []
        flows = {}
        for sec, r in live.iterrows():
            vt, rs = r.get("sec_volume_trend_7_30", np.nan), r.get("sec_rs_30d", np.nan)
            flows[str(sec)] = "inflow" if vt > 0 and rs > 0 else "outflow" if vt < 0 and rs < 0 else "neutral"
        rot = float(self.rotation_probability(rotation_row).iloc[-1])
        return SectorRotationResult(
            momentum_scores=scores,
            relative_strength={str(k): float(v) for k, v in live["sec_rs_30d"].items()},
            leading_sectors=leading,
            declining_sectors=declining,
            rotation_probability=rot,
            recommended_allocation=self.allocation(scores, leading, regime, exposure),
            flow_directions=flows,
            as_of=as_of,
            macro_regime=regime,
        )

    def to_bytes(self) -> bytes:
        return to_bytes(self)

    @classmethod
    def load(cls, blob: bytes) -> SectorRotationModel:
        return from_bytes(blob, cls)
