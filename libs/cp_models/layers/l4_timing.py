"""L4 timing: long / short / no-trade from a small sequence model plus technical voters.

Method: a dilated 1-D CNN (PyTorch) reads the last 32 days of eight candle channels of an
asset (``features.sequence``) and a static context vector, and predicts the triple-barrier
class of a trade entered at the next open (``labels.triple_barrier``: target and stop at
``k * ATR14 * regime scale``, time limit 20 days). The softmax is calibrated by temperature
scaling on the last 15 % of the training window (purged). A signal is emitted when the
calibrated probability of ``long`` or ``short`` is >= 0.7 *and* the accuracy-weighted
agreement of the voters (five technical voters + the model) for that direction is >= 2/3.

Every signal carries the barriers it was trained on: entry (current close; the backtest
fills at the next open), target and stop from ATR multiples scaled by the current regime,
risk/reward, position size (volatility targeting capped by half-Kelly, times the L1
recommended exposure), time horizon and expiry.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from cp_models.config import L4Config
from cp_models.features.indicators import ANNUALIZATION_DAYS
from cp_models.features.sequence import SEQUENCE_CHANNELS
from cp_models.labels import L4_CLASSES, LONG, NO_TRADE, SHORT
from cp_models.layers import voters as vt
from cp_models.layers.base import from_bytes, to_bytes
from cp_models.layers.l4_meta import MetaLabelModel
from cp_models.layers.l4_net import (
    NetSpec,
    TimingNet,
    fit_temperature,
    logits_of,
    net_from_bytes,
    softmax,
    state_to_bytes,
    train_net,
)
from cp_models.regimes import REGIMES

L4_STATIC = [
    "atr_14_pct",
    "vol_30d",
    "mom_7d",
    "mom_30d",
    "mom_90d",
    "ma_dist_50",
    "ma_dist_200",
    "drawdown_90d",
    "rsi_14",
    "macd_hist_pct",
    "bb_pctb_20",
    "xs_rank_mom_30d",
    "xs_rank_mom_90d",
    "corr_btc_60d",
    "volume_trend_7_30",
    "btc_mom_30d",
    "btc_vol_pct",
    "breadth_50",
    "fear_greed",
    *[f"regime_now_{r}" for r in REGIMES],
]
CHANNELS = list(SEQUENCE_CHANNELS)


class SequenceStore:
    """All sequence channels as one float32 array (days x assets x channels) for fast windows."""

    def __init__(self, channels: dict[str, pd.DataFrame]):
        first = channels[CHANNELS[0]]
        self.dates = first.index
        self.symbols = list(first.columns)
        self.array = np.stack(
            [channels[c].reindex(columns=self.symbols).to_numpy("float32") for c in CHANNELS], axis=2
        )
        np.nan_to_num(self.array, copy=False, nan=0.0)
        self._date_pos = pd.Series(np.arange(len(self.dates)), index=self.dates)
        self._sym_pos = {s: i for i, s in enumerate(self.symbols)}

    def windows(self, index: pd.MultiIndex, length: int) -> np.ndarray:
        """(samples, length, channels) windows ending at each (date, symbol) of ``index``."""
        t = self._date_pos.reindex(index.get_level_values(0)).to_numpy()
        a = np.array([self._sym_pos[s] for s in index.get_level_values(1)])
        steps = t[:, None] + np.arange(-length + 1, 1)[None, :]
        valid = steps >= 0
        out = self.array[np.clip(steps, 0, None), a[:, None], :]
        out[~valid] = 0.0
        return out


def sequence_window(channels: pd.DataFrame, length: int) -> np.ndarray:
    """One window from a (days x channels) frame of a single asset, for the service API."""
    arr = channels.reindex(columns=CHANNELS).to_numpy("float32")[-length:]
    arr = np.nan_to_num(arr, nan=0.0)
    if len(arr) < length:
        arr = np.vstack([np.zeros((length - len(arr), len(CHANNELS)), dtype="float32"), arr])
    return arr[None, :, :]


@dataclass(frozen=True)
class TimingSignal:
    symbol: str
    signal_type: str  # long | short
    probability: float  # calibrated class probability
    confidence_score: float
    agreement: float  # accuracy-weighted share of voters for this direction
    entry_price: float
    target_price: float
    stop_loss: float
    risk_reward_ratio: float
    position_size: float  # fraction of equity
    time_horizon_hours: int
    generated_at: str
    expires_at: str
    risk_level: str
    votes: dict[str, dict[str, float | str]]
    market_context: dict[str, float | str | None]
    ai_analysis: str


@dataclass(frozen=True)
class TimingAssessment:
    symbol: str
    probabilities: dict[str, float]
    agreement: dict[str, float]
    votes: dict[str, dict[str, float | str]]
    signal: TimingSignal | None
    reason: str
    extras: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


MIN_OBSERVED_SHARE = 0.5


def static_scaler(fit_values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mean, std, used) of the static inputs over the fit rows. A column observed on fewer
    than half of them (e.g. Fear & Greed before 2018) is not used: its standardized value is
    0 at fit and at prediction time, instead of the raw index fed unscaled."""
    finite = np.isfinite(fit_values)
    used = (
        finite.mean(axis=0) >= MIN_OBSERVED_SHARE if len(fit_values) else np.zeros(fit_values.shape[1], bool)
    )
    safe = np.where(finite, fit_values, 0.0)
    n = np.maximum(finite.sum(axis=0), 1)
    mean = safe.sum(axis=0) / n
    var = (np.where(finite, fit_values - mean, 0.0) ** 2).sum(axis=0) / n
    std = np.sqrt(var)
    mean = np.where(used, mean, 0.0)
    std = np.where(used & (std > 1e-9), std, 1.0)
    return mean, std, used


def position_weight(prob: float, vol_30d: float, exposure: float, cfg: L4Config) -> float:
    """Volatility targeting capped by fractional Kelly, scaled by the L1 exposure."""
    daily_vol = vol_30d / np.sqrt(ANNUALIZATION_DAYS) if np.isfinite(vol_30d) and vol_30d > 0 else np.nan
    vol_w = cfg.daily_risk_target / daily_vol if np.isfinite(daily_vol) else 0.0
    b = cfg.barriers.k_target / cfg.barriers.k_stop
    kelly = max(prob - (1.0 - prob) / b, 0.0)
    w = min(vol_w, cfg.max_weight, cfg.kelly_fraction * kelly) * float(np.clip(exposure, 0.0, 1.0))
    return float(max(w, 0.0))


class TimingModel:
    """Trained L4 model (network weights as bytes, temperature, voter weights)."""

    def __init__(
        self,
        spec: NetSpec,
        state: bytes,
        static_mean: np.ndarray,
        static_std: np.ndarray,
        temperature: float,
        voter_weights: dict[str, float],
        config: L4Config,
        meta: dict,
    ):
        self.spec = spec
        self.state = state
        self.static_mean = static_mean
        self.static_std = static_std
        self.temperature = temperature
        self.voter_weights = voter_weights
        self.config = config
        self.meta = meta
        self._net: TimingNet | None = None
        # the trading book's meta-label gate (``layers.l4_meta``), trained alongside
        self.meta_label: MetaLabelModel | None = None
        self.static_used: np.ndarray | None = None

    def __getstate__(self) -> dict:
        d = dict(self.__dict__)
        d["_net"] = None
        return d

    @property
    def net(self) -> TimingNet:
        if self._net is None:
            self._net = net_from_bytes(self.spec, self.state)
        return self._net

    def _static(self, rows: pd.DataFrame) -> np.ndarray:
        z = (rows[L4_STATIC].to_numpy("float64") - self.static_mean) / self.static_std
        used = getattr(self, "static_used", None)
        if used is not None:
            z[:, ~used] = 0.0  # a column the fit window barely saw never reaches the network
        return np.nan_to_num(z, nan=0.0).astype("float32")

    # --- training -------------------------------------------------------------------
    @classmethod
    def fit(
        cls, store: SequenceStore, rows: pd.DataFrame, labels: pd.Series, config: L4Config, seed: int = 0
    ) -> TimingModel:
        """``rows``: (date, symbol) rows with ``L4_STATIC`` and ``voters.VOTER_INPUTS``;
        ``labels``: triple-barrier classes for the same index (NaN rows are skipped)."""
        ok = labels.notna()
        rows, labels = rows[ok], labels[ok].astype(int)
        dates = rows.index.get_level_values(0)
        uniq = dates.unique().sort_values()
        split = uniq[int(len(uniq) * (1.0 - config.validation_share))]
        fit_mask = dates < split - pd.Timedelta(days=config.label_horizon)
        val_mask = dates >= split
        mean, std, used = static_scaler(rows[L4_STATIC].to_numpy("float64")[fit_mask])
        spec = NetSpec(len(CHANNELS), len(L4_STATIC), config.hidden)
        proto = cls(spec, b"", mean, std, 1.0, {}, config, {})
        proto.static_used = used
        seq = store.windows(rows.index, config.sequence_length)
        static = proto._static(rows)
        y = labels.to_numpy().astype("int64")
        net, hist = train_net(
            spec,
            (seq[fit_mask], static[fit_mask], y[fit_mask]),
            (seq[val_mask], static[val_mask], y[val_mask]),
            epochs=config.epochs,
            patience=config.patience,
            batch_size=config.batch_size,
            learning_rate=config.learning_rate,
            weight_decay=config.weight_decay,
            seed=seed,
        )
        val_logits = logits_of(net, seq[val_mask], static[val_mask])
        temperature = fit_temperature(val_logits, y[val_mask])
        acc = {}
        tech = vt.technical_votes(rows)
        for name in vt.TECHNICAL_VOTERS:
            acc[name] = vt.voter_accuracy(tech[name].to_numpy()[fit_mask], y[fit_mask])[0]
        model_v = vt.model_votes(softmax(val_logits, temperature))
        acc["model"] = vt.voter_accuracy(model_v, y[val_mask])[0]
        counts = np.bincount(y[fit_mask], minlength=3) / max(fit_mask.sum(), 1)
        meta = {
            "train_rows": int(fit_mask.sum()),
            "validation_rows": int(val_mask.sum()),
            "train_start": str(dates.min().date()),
            "validation_start": str(split.date()),
            "train_end": str(dates.max().date()),
            "temperature": temperature,
            "voter_accuracy": acc,
            "base_rates": {c: float(counts[i]) for i, c in enumerate(L4_CLASSES)},
            **hist,
        }
        return cls(
            spec, state_to_bytes(net), mean, std, temperature, vt.weights_from_accuracy(acc), config, meta
        )

    # --- batch ----------------------------------------------------------------------
    def proba(self, store: SequenceStore, rows: pd.DataFrame) -> np.ndarray:
        """Calibrated (long, short, no_trade) probabilities for (date, symbol) rows."""
        seq = store.windows(rows.index, self.config.sequence_length)
        return softmax(logits_of(self.net, seq, self._static(rows)), self.temperature)

    def proba_from_window(self, window: np.ndarray, row: pd.DataFrame) -> np.ndarray:
        return softmax(logits_of(self.net, window.astype("float32"), self._static(row)), self.temperature)

    def decide(self, probs: np.ndarray, rows: pd.DataFrame) -> pd.DataFrame:
        """Vectorized signal decision per row: direction, probability, agreement, votes."""
        tech = vt.technical_votes(rows)
        votes = tech.copy()
        votes["model"] = vt.model_votes(probs)
        long_ag, short_ag = vt.agreement(votes, self.voter_weights)
        out = pd.DataFrame(index=rows.index)
        out["p_long"], out["p_short"], out["p_no_trade"] = probs[:, LONG], probs[:, SHORT], probs[:, NO_TRADE]
        out["agree_long"], out["agree_short"] = long_ag.to_numpy(), short_ag.to_numpy()
        cfg = self.config
        is_long = (out["p_long"] >= cfg.min_probability) & (out["agree_long"] >= cfg.min_agreement - 1e-12)
        is_short = (out["p_short"] >= cfg.min_probability) & (out["agree_short"] >= cfg.min_agreement - 1e-12)
        out["side"] = np.where(is_long, "long", np.where(is_short, "short", ""))
        out["probability"] = np.where(is_long, out["p_long"], np.where(is_short, out["p_short"], np.nan))
        out["agreement"] = np.where(
            is_long, out["agree_long"], np.where(is_short, out["agree_short"], np.nan)
        )
        for c in votes.columns:
            out[f"vote_{c}"] = votes[c].to_numpy()
        return out

    def barrier_distances(self, close: float, atr_pct: float, regime: str | None) -> tuple[float, float]:
        scale = self.config.barriers.scale_for(regime)
        atr = atr_pct * close
        return self.config.barriers.k_target * atr * scale, self.config.barriers.k_stop * atr * scale

    # --- single prediction (services) -----------------------------------------------
    def predict(
        self,
        symbol: str,
        window: np.ndarray,
        row: pd.DataFrame,
        close: float,
        macro: dict | None = None,
        generated_at: datetime | None = None,
    ) -> TimingAssessment:
        """``window``: ``sequence_window(channels, L)``; ``row``: one-row frame with ``L4_STATIC``,
        ``voters.VOTER_INPUTS`` and ``regime_now_*``; ``macro``: the L1 result dict."""
        macro = macro or {}
        probs = self.proba_from_window(window, row)
        d = self.decide(probs, row).iloc[0]
        votes: dict[str, dict[str, float | str]] = {
            v: {
                "vote": {1: "long", -1: "short", 0: "hold"}[int(d[f"vote_{v}"])],
                "weight": float(self.voter_weights.get(v, vt.MIN_WEIGHT)),
            }
            for v in vt.ALL_VOTERS
        }
        pr = {c: float(probs[0, i]) for i, c in enumerate(L4_CLASSES)}
        ag = {"long": float(d["agree_long"]), "short": float(d["agree_short"])}
        side = str(d["side"])
        if not side:
            best = "long" if pr["long"] >= pr["short"] else "short"
            why = (
                f"no signal: P({best}) = {pr[best]:.2f} (needs >= {self.config.min_probability:.2f}), "
                f"agreement {ag[best]:.2f} (needs >= {self.config.min_agreement:.2f})"
            )
            return TimingAssessment(symbol, pr, ag, votes, None, why)
        r = row.iloc[0]
        state = next((g for g in REGIMES if r.get(f"regime_now_{g}", 0.0) == 1.0), None)
        tgt, stp = self.barrier_distances(close, float(r["atr_14_pct"]), state)
        sign = 1.0 if side == "long" else -1.0
        prob = float(d["probability"])
        size = position_weight(
            prob, float(r["vol_30d"]), float(macro.get("recommended_exposure", 1.0)), self.config
        )
        now = generated_at or datetime.now().astimezone()
        hours = int(self.config.barriers.horizon_days * 24)
        signal = TimingSignal(
            symbol=symbol,
            signal_type=side,
            probability=prob,
            confidence_score=prob,
            agreement=float(d["agreement"]),
            entry_price=float(close),
            target_price=float(close + sign * tgt),
            stop_loss=float(close - sign * stp),
            risk_reward_ratio=float(tgt / stp) if stp > 0 else float("nan"),
            position_size=size,
            time_horizon_hours=hours,
            generated_at=now.isoformat(),
            expires_at=(now + timedelta(hours=hours)).isoformat(),
            risk_level=str(macro.get("risk_level", "medium")),
            votes=votes,
            market_context={
                "regime": macro.get("regime"),
                "barrier_regime": state,
                "recommended_exposure": macro.get("recommended_exposure"),
            },
            ai_analysis=(
                f"{side} {symbol}: calibrated P({side}) {prob:.2f}, "
                f"voter agreement {float(d['agreement']):.2f}; "
                f"target {self.config.barriers.k_target:g}xATR, stop {self.config.barriers.k_stop:g}xATR "
                f"(x{self.config.barriers.scale_for(state):g} for a {state or 'unknown'} market), "
                f"expires in {hours} h"
            ),
        )
        return TimingAssessment(symbol, pr, ag, votes, signal, "signal emitted")

    def to_bytes(self) -> bytes:
        return to_bytes(self)

    @classmethod
    def load(cls, blob: bytes) -> TimingModel:
        return from_bytes(blob, cls)
