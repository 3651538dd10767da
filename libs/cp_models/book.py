"""The trading book of one decision day: which coins to hold and how much.

L1 gives a market risk budget ``B`` (trend ensemble on BTC and a liquidity-ranked index)
and volatility forecasts; L3 ranks the point-in-time universe (half the L3 model's rank,
half a plain momentum composite's rank); L2 keeps the candidates diversified (at most
``names_per_group`` per group, groups of at least ``min_group_size`` coins, ``group_cap`` of
equity per group); L4 removes candidates its meta-label gate rejects. The weights are

    raw_i = trend_i * g(rank_i) / vol_i,   w = raw / sum(raw)
    G     = min(1, B * vol_target / portfolio_vol(w)),   w <- G * w, then caps

spot, long only, gross <= 1. Without candidates and with ``B > 0`` the book holds BTC at
``min(1, B * vol_target / vol_BTC)``. ``BookVariant`` switches parts off for the ablations.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import pandas as pd
from sklearn.covariance import LedoitWolf

from cp_models.config import BookConfig

BENCH = "BTC"


@dataclass(frozen=True)
class BookVariant:
    """Which parts of the cascade a book uses (the full design is the default)."""

    name: str = "cascade"
    market_gate: bool = True  # L1 budget B scales the book (False: B = 1)
    vol_target: bool = True  # scale to the volatility target
    score: str = "blend"  # blend | l3 | momentum
    asset_trend: bool = True  # own-trend filter and trend weighting
    inverse_vol: bool = True  # raw weights / volatility (False: equal weights)
    groups: str = "l2"  # l2 | random | none
    l4: str = "gate"  # gate | random | none
    btc_only: bool = False  # the BTC sleeve alone (L1 ablations)
    symbols: frozenset[str] | None = None  # restrict the universe (sensitivity runs)


@dataclass(frozen=True)
class DayInputs:
    """Everything the book needs at the close of ``as_of``."""

    as_of: pd.Timestamp
    assets: pd.DataFrame  # one row per symbol: L3 + book + meta features, close, atr_14_pct, sector
    market: pd.Series  # market_budget, btc_vol_forecast, ...
    returns: pd.DataFrame  # trailing daily simple returns (rows: days up to as_of)
    cache: dict[object, pd.Series] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Candidate:
    symbol: str
    rank: int
    score: float
    l3_score: float
    momentum_score: float
    trend: float
    vol: float
    group: str
    confidence: float  # calibrated L4 probability (NaN when L4 has no model)
    l4_pass: bool
    weight: float = 0.0


@dataclass(frozen=True)
class Book:
    as_of: pd.Timestamp
    budget: float
    gate: float  # G: the market gate times the volatility scaling
    candidates: list[Candidate] = field(default_factory=list)
    tau: float | None = None

    @property
    def weights(self) -> dict[str, float]:
        return {c.symbol: c.weight for c in self.candidates if c.weight > 0}


def universe(inputs: DayInputs, cfg: BookConfig, variant: BookVariant) -> pd.DataFrame:
    """The point-in-time universe: coins trading at ``as_of`` with enough history, the
    ``universe_size`` most liquid (stablecoins and wrapped tokens are never in the panel)."""
    a = inputs.assets
    ok = (
        (a["history_days"] >= min(cfg.min_history_days, 730))
        & a["close"].notna()
        & a["liquidity_30d"].notna()
    )
    if variant.symbols is not None:
        ok &= a.index.isin(sorted(variant.symbols))
    u = a[ok]
    return u.sort_values("liquidity_30d", ascending=False).head(cfg.universe_size)


def day_rng(as_of: pd.Timestamp, salt: str) -> np.random.Generator:
    """A generator seeded by the day (placebos are reproducible and differ day to day)."""
    return np.random.default_rng(zlib.crc32(f"{as_of.date()}:{salt}".encode()))


def groups_of(u: pd.DataFrame, cfg: BookConfig, variant: BookVariant, as_of: pd.Timestamp) -> pd.Series:
    """L2 groups of the day's universe; groups smaller than ``min_group_size`` join "other".
    The placebo shuffles the group labels over the same coins (same group sizes)."""
    sector = u["sector"].astype(str)
    if variant.groups == "random":
        sector = pd.Series(day_rng(as_of, "groups").permutation(sector.to_numpy()), index=u.index)
    size = sector.map(sector.value_counts())
    return sector.where(size >= cfg.min_group_size, "other")


def selection_scores(u: pd.DataFrame, l3_raw: pd.Series, variant: BookVariant) -> pd.DataFrame:
    l3 = l3_raw.reindex(u.index).rank(pct=True)
    mom = u["mom_composite"].rank(pct=True)
    blend = {"blend": 0.5 * l3 + 0.5 * mom, "l3": l3, "momentum": mom}[variant.score]
    return pd.DataFrame({"score": blend, "l3": l3, "momentum": mom}).dropna(subset=["score"])


def portfolio_vol(weights: pd.Series, returns: pd.DataFrame, days: int) -> float:
    """Annualized volatility of ``weights`` from a Ledoit-Wolf-shrunk covariance."""
    r = returns[list(weights.index)].tail(days).fillna(0.0)
    if len(r) < 20:
        return float("nan")
    cov = LedoitWolf().fit(r.to_numpy()).covariance_
    w = weights.to_numpy()
    return float(np.sqrt(max(w @ cov @ w, 0.0) * 365.0))


def pick_candidates(
    ranked: pd.DataFrame, group: pd.Series, cfg: BookConfig, variant: BookVariant
) -> list[str]:
    """The ``top_k`` best-scored coins, at most ``names_per_group`` per group (L2)."""
    picks: list[str] = []
    per_group: dict[str, int] = {}
    for sym in ranked.index:
        g = str(group.get(sym, "other"))
        if variant.groups != "none" and per_group.get(g, 0) >= cfg.names_per_group:
            continue
        picks.append(str(sym))
        per_group[g] = per_group.get(g, 0) + 1
        if len(picks) >= cfg.top_k:
            break
    return picks


def l4_filter(
    probs: np.ndarray,
    passes: np.ndarray,
    pass_rate: float,
    as_of: pd.Timestamp,
    syms: list[str],
    variant: BookVariant,
) -> np.ndarray:
    if variant.l4 == "none":
        return np.ones(len(syms), dtype=bool)
    if variant.l4 == "random":
        rng = day_rng(as_of, "l4:" + ",".join(syms))
        return rng.random(len(syms)) < pass_rate
    return passes


def cap_weights(w: pd.Series, group: pd.Series, cfg: BookConfig, use_groups: bool) -> pd.Series:
    """Per-name cap, per-group cap (L2) and gross <= 1; capping only ever removes weight."""
    w = w.clip(upper=cfg.max_weight)
    if use_groups:
        for _g, members in w.groupby(group.reindex(w.index).fillna("other")):
            total = float(members.sum())
            if total > cfg.group_cap:
                w[members.index] = members * (cfg.group_cap / total)
    gross = float(w.sum())
    return w * (1.0 / gross) if gross > 1.0 else w


def btc_sleeve(inputs: DayInputs, budget: float, cfg: BookConfig, variant: BookVariant) -> float:
    vol = float(inputs.market.get("btc_vol_forecast", np.nan))
    if not np.isfinite(vol) or vol <= 0 or budget <= 0:
        return 0.0
    scale = min(1.0, cfg.vol_target / vol) if variant.vol_target else 1.0
    return float(min(1.0, budget * scale))


def market_budget(inputs: DayInputs, variant: BookVariant) -> float:
    if not variant.market_gate:
        return 1.0
    b = float(inputs.market.get("market_budget", np.nan))
    return b if np.isfinite(b) else 0.0


def _raw_weights(cands: pd.DataFrame, cfg: BookConfig, variant: BookVariant) -> pd.Series:
    k = max(cfg.top_k - 1, 1)
    g = 1.0 - 0.5 * (cands["rank"] - 1) / k  # 1.0 for the best candidate down to 0.5 for the K-th
    raw = g.clip(lower=0.5)
    if variant.asset_trend:
        raw = raw * cands["trend"]
    if variant.inverse_vol:
        raw = raw / cands["vol"]
    raw = raw[np.isfinite(raw) & (raw > 0)]
    return raw / raw.sum() if raw.sum() > 0 else raw


def _gate(w: pd.Series, inputs: DayInputs, budget: float, cfg: BookConfig, variant: BookVariant) -> float:
    if not variant.vol_target:
        return float(min(1.0, budget))
    pv = portfolio_vol(w, inputs.returns, cfg.covariance_days)
    if not np.isfinite(pv) or pv <= 0:
        return 0.0
    return float(min(1.0, budget * cfg.vol_target / pv))


def _candidate_frame(
    inputs: DayInputs, l3_raw: pd.Series, meta: MetaLike | None, cfg: BookConfig, variant: BookVariant
) -> pd.DataFrame:
    u = universe(inputs, cfg, variant)
    group = groups_of(u, cfg, variant, inputs.as_of)
    scores = selection_scores(u, l3_raw, variant)
    eligible = scores.index
    if variant.asset_trend:
        eligible = eligible[(u.loc[eligible, "trend_score"] >= cfg.min_asset_trend).to_numpy()]
    eligible = eligible[np.isfinite(u.loc[eligible, "vol_forecast"].to_numpy())]
    ranked = scores.loc[eligible].sort_values("score", ascending=False)
    picks = pick_candidates(ranked, group, cfg, variant)
    rows = u.loc[picks]
    probs = meta.probability(rows) if meta is not None else np.full(len(picks), np.nan)
    passes = meta.passes(probs) if meta is not None else np.ones(len(picks), dtype=bool)
    rate = meta.pass_rate if meta is not None else 1.0
    keep = l4_filter(probs, passes, rate, inputs.as_of, picks, variant)
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(picks) + 1),
            "score": scores.loc[picks, "score"].to_numpy(),
            "l3": scores.loc[picks, "l3"].to_numpy(),
            "momentum": scores.loc[picks, "momentum"].to_numpy(),
            "trend": rows["trend_score"].to_numpy(),
            "vol": rows["vol_forecast"].to_numpy(),
            "group": group.reindex(picks).to_numpy(),
            "confidence": probs,
            "l4_pass": keep,
        },
        index=pd.Index(picks, name="symbol"),
    )


class MetaLike(Protocol):
    pass_rate: float
    tau: float | None

    def probability(self, rows: pd.DataFrame) -> np.ndarray: ...

    def passes(self, p: np.ndarray) -> np.ndarray: ...


def build_book(
    inputs: DayInputs,
    l3_raw: pd.Series,
    meta: MetaLike | None,
    cfg: BookConfig,
    variant: BookVariant | None = None,
) -> Book:
    """The book decided at the close of ``inputs.as_of``. ``l3_raw``: the L3 model's raw
    prediction per symbol; ``meta``: the L4 meta-label model (None: no L4)."""
    variant = variant or BookVariant()
    budget = market_budget(inputs, variant)
    tau = meta.tau if meta is not None and variant.l4 == "gate" else None
    if variant.btc_only or budget <= 0:
        return _btc_book(inputs, budget, cfg, variant, tau)
    frame = _candidate_frame(inputs, l3_raw, meta, cfg, variant)
    chosen = frame[frame["l4_pass"]]
    w = _raw_weights(chosen, cfg, variant)
    if w.empty:
        return _btc_book(inputs, budget, cfg, variant, tau, frame)
    gate = _gate(w, inputs, budget, cfg, variant)
    w = cap_weights(w * gate, frame["group"], cfg, variant.groups != "none")
    w = w[w >= cfg.min_weight]
    cands = [_candidate(sym, row, float(w.get(sym, 0.0))) for sym, row in frame.iterrows()]
    return Book(inputs.as_of, budget, gate, cands, tau)


def _candidate(sym: object, row: pd.Series, weight: float) -> Candidate:
    return Candidate(
        str(sym),
        int(row["rank"]),
        float(row["score"]),
        float(row["l3"]),
        float(row["momentum"]),
        float(row["trend"]),
        float(row["vol"]),
        str(row["group"]),
        float(row["confidence"]),
        bool(row["l4_pass"]),
        weight,
    )


def _btc_book(
    inputs: DayInputs,
    budget: float,
    cfg: BookConfig,
    variant: BookVariant,
    tau: float | None,
    frame: pd.DataFrame | None = None,
) -> Book:
    """The beta sleeve: BTC sized by the budget and the volatility target."""
    cands = [_candidate(s, r, 0.0) for s, r in frame.iterrows()] if frame is not None else []
    w = btc_sleeve(inputs, budget, cfg, variant)
    if BENCH not in inputs.assets.index or w < cfg.min_weight:
        return Book(inputs.as_of, budget, w, cands, tau)
    a = inputs.assets.loc[BENCH]
    trend = float(a.get("trend_score", np.nan))
    vol = float(a.get("vol_forecast", np.nan))
    btc = Candidate(
        BENCH, 0, float("nan"), float("nan"), float("nan"), trend, vol, "btc_sleeve", float("nan"), True, w
    )
    return Book(inputs.as_of, budget, w, [c for c in cands if c.symbol != BENCH] + [btc], tau)
