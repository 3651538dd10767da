"""Every hyper-parameter of the cascade, fixed before evaluation (nothing is tuned on test data).

``CascadeConfig.fingerprint()`` identifies a configuration in the trial log that the
deflated Sharpe ratio counts.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from cp_models.labels import BarrierPolicy
from cp_models.regimes import RegimeRule

# Bumped whenever evaluation code changes results for the same configuration, so the trial
# log never mixes two protocols under one fingerprint. 1: first run; 2: a remainder shorter
# than a quarter block joins the last fold; 3: the trading book (point-in-time universe,
# weekly signals with their own exit rule) replaces the per-signal barrier portfolio.
PROTOCOL_REVISION = 3


@dataclass(frozen=True)
class L1Config:
    regime_rule: RegimeRule = field(default_factory=RegimeRule)
    c: float = 0.3  # inverse L2 strength of the multinomial logistic regression
    smoothing_span: int = 5  # causal EMA over daily probabilities
    exposure_by_regime: dict[str, float] = field(
        default_factory=lambda: {"bull": 1.0, "sideways": 0.6, "volatile": 0.3, "bear": 0.15}
    )

    @property
    def label_horizon(self) -> int:
        return self.regime_rule.window


@dataclass(frozen=True)
class L2Config:
    horizon_days: int = 30
    max_iter: int = 150
    learning_rate: float = 0.05
    max_depth: int = 3
    min_samples_leaf: int = 100
    n_leading: int = 3
    n_declining: int = 2
    btc_core_by_regime: dict[str, float] = field(
        default_factory=lambda: {"bull": 0.35, "sideways": 0.5, "volatile": 0.65, "bear": 0.75}
    )


@dataclass(frozen=True)
class L3Config:
    horizon_days: int = 14
    max_iter: int = 200
    learning_rate: float = 0.05
    max_depth: int = 3
    min_samples_leaf: int = 200
    promote_threshold: float = 0.8  # seed: promote tier 2 -> tier 1
    add_threshold: float = 0.75  # seed: add to tier 2 (top-100 universe)
    universe_size: int = 100
    demote_threshold: float = 0.35  # decayed tier-1 asset -> tier 2
    remove_threshold: float = 0.2  # decayed tier-2 asset -> removed
    decay_drop: float = 0.25  # or: score fell this much since the previous scan

    @property
    def label_horizon(self) -> int:
        return self.horizon_days + 1


@dataclass(frozen=True)
class L4Config:
    barriers: BarrierPolicy = field(default_factory=BarrierPolicy)
    sequence_length: int = 32
    hidden: int = 16
    epochs: int = 10
    patience: int = 2
    batch_size: int = 512
    learning_rate: float = 2e-3
    weight_decay: float = 1e-4
    validation_share: float = 0.15
    min_probability: float = 0.7  # seed: emit at class probability >= 0.7
    min_agreement: float = 2.0 / 3.0  # 004: 2/3 accuracy-weighted agreement
    daily_risk_target: float = 0.01  # volatility targeting: 1 % of equity per position per day
    max_weight: float = 0.25
    kelly_fraction: float = 0.5  # weight also capped at half-Kelly

    @property
    def label_horizon(self) -> int:
        return self.barriers.horizon_days + 1


@dataclass(frozen=True)
class PortfolioConfig:
    n_active: int = 10  # tier-1 size: top L3 scores outside L2's declining sectors
    allow_short: bool = False  # spot portfolio: short signals are scored but not traded
    max_gross: float = 1.0


@dataclass(frozen=True)
class BookConfig:
    """The trading book built from the layers (``cp_models.book``); standard, untuned values."""

    universe_size: int = 20  # point-in-time universe: top coins by trailing liquidity
    min_history_days: int = 180
    top_k: int = 8  # L3 candidates per decision
    min_asset_trend: float = 0.5  # own trend score needed to be a candidate
    vol_target: float = 0.35  # annualized portfolio volatility target (from the drawdown budget)
    covariance_days: int = 90
    max_weight: float = 0.30
    group_cap: float = 0.40  # L2: share of equity per group
    names_per_group: int = 2  # L2: at most this many names of one group among the candidates
    min_group_size: int = 3  # L2: smaller groups merge into "other"
    min_weight: float = 0.02  # no dust positions
    no_trade_band: float = 0.025  # a held coin keeps its previous size unless the target moves more
    rebalance_weekday: int = 6  # decide at Sunday's close, fill at Monday's open
    horizon_days: int = 7  # a signal lives until the next rebalance open
    target_atr: float = 3.0  # take-profit at close + 3 x ATR14
    display_confidence: float = 0.7  # seed: shown as a strong signal at confidence >= 0.7
    display_agreement: float = 2.0 / 3.0  # seed: and >= 2/3 of the evidence in favour


@dataclass(frozen=True)
class MetaConfig:
    """L4 meta-label: does a candidate's next-week return beat the round-trip cost?"""

    horizon_days: int = 7
    c: float = 1.0  # inverse L2 strength of the logistic regression
    oof_folds: int = 5
    min_passes: int = 300
    confidence_z: float = 1.645  # one-sided 95 % lower bound on the mean net return
    thresholds: tuple[float, ...] = tuple(round(0.40 + 0.01 * i, 2) for i in range(31))

    @property
    def label_horizon(self) -> int:
        return self.horizon_days + 1


@dataclass(frozen=True)
class EvaluationConfig:
    test_days: int = 182  # retrain every ~6 months (expanding window)
    embargo_days: int = 7
    train_window_days: int | None = None  # None = expanding
    fee: float = 0.001  # per side
    slippage: float = 0.0005  # per side
    cost_multiples: tuple[float, ...] = (1.0, 2.0, 3.0)
    workers: int = 2


@dataclass(frozen=True)
class CascadeConfig:
    seed: int = 42
    l1: L1Config = field(default_factory=L1Config)
    l2: L2Config = field(default_factory=L2Config)
    l3: L3Config = field(default_factory=L3Config)
    l4: L4Config = field(default_factory=L4Config)
    portfolio: PortfolioConfig = field(default_factory=PortfolioConfig)
    book: BookConfig = field(default_factory=BookConfig)
    meta: MetaConfig = field(default_factory=MetaConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)

    def as_dict(self) -> dict:
        return asdict(self)

    def label_horizons(self) -> dict[str, int]:
        """Days each layer's label looks ahead (its purge before a test block)."""
        return {
            "l1": self.l1.label_horizon,
            "l2": self.l2.horizon_days,
            "l3": self.l3.label_horizon,
            "l4": self.l4.label_horizon,
            "meta": self.meta.label_horizon,
        }

    def fingerprint(self) -> str:
        """Hash of everything that can change results (seed included, worker count excluded)."""
        d = self.as_dict()
        d["evaluation"].pop("workers", None)
        d["protocol_revision"] = PROTOCOL_REVISION
        blob = json.dumps(d, sort_keys=True, default=str).encode()
        return hashlib.sha256(blob).hexdigest()[:16]
