"""L1 macro regime: bull | bear | sideways | volatile for the next 30 days.

Method: a multinomial logistic regression (median imputation + standardization) learns the
*next* window's descriptive regime (``regimes.next_period_regimes`` on BTC) from today's
market-wide features. Daily probabilities are smoothed with a causal EMA, so no future or
two-sided smoothing enters a prediction. Drivers are the features whose standardized value
times coefficient pushes the chosen regime's logit most (relative to the mean logit).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from cp_market.importers.fear_greed import label_for as fear_greed_label
from cp_models.config import L1Config
from cp_models.features.market import MARKET_FEATURES
from cp_models.layers.base import from_bytes, to_bytes, top_contributions
from cp_models.regimes import REGIMES

# Levels that trend over the years (BTC and stablecoin dominance) are left out: a linear
# model would extrapolate their drift; their changes stay in.
NON_STATIONARY_LEVELS = ("btc_dominance", "stable_dominance")
L1_FEATURES: list[str] = [f for f in MARKET_FEATURES if f not in NON_STATIONARY_LEVELS]


@dataclass(frozen=True)
class Driver:
    feature: str
    value: float
    contribution: float  # logit contribution to the chosen regime vs the mean regime
    effect: str  # "supports" | "opposes"


@dataclass(frozen=True)
class MacroRegimeResult:
    regime: str
    confidence: float
    probabilities: dict[str, float]
    risk_level: str
    risk_score: float
    trend_strength: float
    recommended_exposure: float
    current_state: str | None  # trailing 30-day descriptive regime
    sentiment_breakdown: dict[str, float | str | None]
    drivers: list[Driver] = field(default_factory=list)
    as_of: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def risk_level_of(score: float) -> str:
    if score < 0.25:
        return "low"
    if score < 0.45:
        return "medium"
    if score < 0.65:
        return "high"
    return "extreme"


def _fg_label(v: float) -> str | None:
    """alternative.me's band for a Fear & Greed value (the one definition, in cp_market)."""
    return fear_greed_label(float(v)) if np.isfinite(v) else None


MIN_OBSERVED_SHARE = 0.5


def usable_features(X: pd.DataFrame, features: list[str]) -> list[str]:
    """Features observed on at least half of the fit rows: median-imputing and then scaling
    a mostly missing column shrinks its training spread and inflates its test z-scores."""
    return [c for c in features if X[c].notna().mean() >= MIN_OBSERVED_SHARE]


class MacroRegimeModel:
    """Trained L1 model. ``predict(recent_market_features)`` -> ``MacroRegimeResult``."""

    def __init__(self, pipeline: Pipeline, features: list[str], config: L1Config, meta: dict):
        self.pipeline = pipeline
        self.features = features
        self.config = config
        self.meta = meta

    # --- training -------------------------------------------------------------------
    @classmethod
    def fit(cls, X: pd.DataFrame, y: pd.Series, config: L1Config, seed: int = 0) -> MacroRegimeModel:
        ok = y.notna()
        Xf, yf = X.loc[ok, L1_FEATURES], y[ok].astype(int)
        usable = usable_features(Xf, L1_FEATURES)
        pipe = Pipeline(
            [
                ("impute", SimpleImputer(strategy="median")),
                ("scale", StandardScaler()),
                (
                    "clf",
                    LogisticRegression(C=config.c, max_iter=2000, class_weight="balanced", random_state=seed),
                ),
            ]
        )
        pipe.fit(Xf[usable], yf)
        counts = yf.value_counts().reindex(range(len(REGIMES)), fill_value=0)
        meta = {
            "train_rows": len(yf),
            "train_start": str(Xf.index.min().date()),
            "train_end": str(Xf.index.max().date()),
            "class_counts": {REGIMES[i]: int(n) for i, n in counts.items()},
            "train_accuracy": float((pipe.predict(Xf[usable]) == yf).mean()),
        }
        return cls(pipe, usable, config, meta)

    # --- batch prediction (evaluation) ----------------------------------------------
    def raw_proba(self, X: pd.DataFrame) -> pd.DataFrame:
        p = self.pipeline.predict_proba(X[self.features])
        out = pd.DataFrame(0.0, index=X.index, columns=list(REGIMES))
        for j, code in enumerate(self.pipeline.classes_):
            out[REGIMES[int(code)]] = p[:, j]
        return out

    def proba(self, X: pd.DataFrame) -> pd.DataFrame:
        """Causally smoothed probabilities per row (rows must be consecutive days)."""
        raw = self.raw_proba(X)
        sm = raw.ewm(span=self.config.smoothing_span, adjust=False).mean()
        return sm.div(sm.sum(axis=1), axis=0)

    def results_frame(self, X: pd.DataFrame) -> pd.DataFrame:
        """regime, confidence, probabilities, risk and exposure for every row."""
        p = self.proba(X)
        out = p.add_prefix("p_")
        out["regime"] = p.idxmax(axis=1)
        out["confidence"] = p.max(axis=1)
        vol_pct = X["btc_vol_pct"].fillna(0.5) if "btc_vol_pct" in X else 0.5
        score = 0.45 * p["bear"] + 0.35 * p["volatile"] + 0.2 * vol_pct
        out["risk_score"] = score
        out["risk_level"] = score.map(risk_level_of)
        out["recommended_exposure"] = sum(p[r] * w for r, w in self.config.exposure_by_regime.items()).clip(
            0, 1
        )
        z = X["btc_trend_z_30"] if "btc_trend_z_30" in X else pd.Series(0.0, index=X.index)
        out["trend_strength"] = np.tanh(z.abs().fillna(0.0))
        return out

    # --- single prediction (services) -----------------------------------------------
    def predict(self, recent: pd.DataFrame, n_drivers: int = 5) -> MacroRegimeResult:
        """``recent``: market feature rows for consecutive days ending at the decision day
        (at least ``3 * smoothing_span`` rows recommended for the EMA)."""
        frame = self.results_frame(recent)
        last = frame.iloc[-1]
        row = recent.iloc[-1]
        probs = {r: float(last[f"p_{r}"]) for r in REGIMES}
        state = next((r for r in REGIMES if row.get(f"regime_now_{r}", 0.0) == 1.0), None)
        fg = float(row.get("fear_greed", np.nan))
        sentiment = {
            "fear_greed": fg if np.isfinite(fg) else None,
            "fear_greed_label": _fg_label(fg),
            "fear_greed_change_7d": _num(row.get("fear_greed_chg_7d")),
            "btc_dominance": _num(row.get("btc_dominance")),
            "btc_dominance_change_30d": _num(row.get("btc_dom_chg_30d")),
            # no social/news/funding feed in the data sources yet
            "social": None,
            "news": None,
            "funding": None,
        }
        return MacroRegimeResult(
            regime=str(last["regime"]),
            confidence=float(last["confidence"]),
            probabilities=probs,
            risk_level=str(last["risk_level"]),
            risk_score=float(last["risk_score"]),
            trend_strength=float(last["trend_strength"]),
            recommended_exposure=float(last["recommended_exposure"]),
            current_state=state,
            sentiment_breakdown=sentiment,
            drivers=self.drivers(row, str(last["regime"]), n_drivers),
            as_of=str(recent.index[-1]),
        )

    def drivers(self, row: pd.Series, regime: str, k: int = 5) -> list[Driver]:
        x = row[self.features].to_frame().T.astype("float64")
        z = self.pipeline[:-1].transform(x)[0]
        clf = self.pipeline[-1]
        classes = [REGIMES[int(c)] for c in clf.classes_]
        if regime not in classes:
            return []
        coef = clf.coef_
        rel = coef[classes.index(regime)] - coef.mean(axis=0)
        contrib = {f: float(rel[j] * z[j]) for j, f in enumerate(self.features)}
        return [
            Driver(f, _num(row.get(f)) or 0.0, c, "supports" if c > 0 else "opposes")
            for f, c in top_contributions(contrib, k)
        ]

    # --- artifacts ------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        return to_bytes(self)

    @classmethod
    def load(cls, blob: bytes) -> MacroRegimeModel:
        return from_bytes(blob, cls)


def _num(v: object) -> float | None:
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return f if np.isfinite(f) else None
