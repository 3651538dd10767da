"""Seeded, deterministic synthetic crypto market (the default data source of the fleet).

Model (all parameters per day, scaled to the step length ``dt`` in days):

* **Regimes**: a Markov chain over ``bull / bear / sideways / volatile`` with daily
  stay probabilities 0.985 / 0.985 / 0.98 / 0.95 (mean durations ~67 / 67 / 50 / 20 days);
  for a step of ``dt`` days the stay probability is ``p ** dt``. The true path is recorded.
* **Market factor**: ``r_m = mu[regime] dt + sigma[regime] sqrt(dt) t_4`` with a unit-
  variance Student-t (4 d.o.f.) for fat tails; drift/vol per regime in ``REGIMES``.
* **Crashes**: per-day probability ``crash_rate[regime]`` (0.08 % .. 0.6 %) of a market
  shock of -8 % .. -25 % (log), after which the chain jumps to ``volatile``.
* **Sectors**: each sector has its own t-distributed factor plus a slowly mean-reverting
  drift (AR(1), daily persistence 0.98) so that sectors rotate in and out of favour.
* **Assets**: ``r_i = beta_i r_m + gamma_i r_sector + idio_i sqrt(dt) t_4 - idio_i^2 dt / 2``
  (the idiosyncratic part is Ito-compensated so it adds risk without draining prices); stablecoins
  follow a tight mean-reverting peg (always within +-2 % of 1.0), WBTC tracks BTC, PAXG
  (gold) has no market beta.
* **OHLC**: open = previous close; high/low extend the body by half-normal multiples of the
  step volatility, so ``low <= open, close <= high`` always holds.
* **Volume**: USD volume = base level x exp(0.6 |r| / sigma + 0.3 N) x regime multiplier,
  i.e. correlated with absolute returns; base volume = USD volume / close.
* **Market caps / ranks**: fixed circulating supply x price; ranks by market cap.
* **Snapshots** (daily): total market cap (tracked assets / ``tracked_share``), BTC
  dominance, USDT cap, stablecoin dominance, and a Fear & Greed-like index from the
  30-day market momentum and the short/long volatility ratio.

``MarketSimulator.simulate(interval, periods)`` returns a ``SimulatedMarket`` with frames
shaped like the loaders' (candle frame, snapshot frame, assets frame) plus the regime path;
``MarketSimulator.stream(interval)`` yields the same steps one at a time (closed candles
only), so a stream and a batch run with the same seed produce identical candles.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import numpy as np
import pandas as pd

from cp_market.candles import CANDLE_COLUMNS, Candle, interval_delta, to_candle_frame, to_utc_timestamp
from cp_market.dataset import SNAPSHOT_COLUMNS
from cp_market.importers.fear_greed import label_for
from cp_market.importers.metadata import ASSET_COLUMNS

REGIME_NAMES: tuple[str, ...] = ("bull", "bear", "sideways", "volatile")


@dataclass(frozen=True, slots=True)
class RegimeParams:
    drift: float  # daily log drift of the market factor
    vol: float  # daily vol of the market factor
    stay: float  # daily probability of staying in the regime
    crash_rate: float  # daily probability of a crash shock
    volume_mult: float  # volume multiplier


REGIMES: dict[str, RegimeParams] = {
    "bull": RegimeParams(drift=0.0040, vol=0.030, stay=0.985, crash_rate=0.0008, volume_mult=1.2),
    "bear": RegimeParams(drift=-0.0030, vol=0.035, stay=0.985, crash_rate=0.003, volume_mult=1.05),
    "sideways": RegimeParams(drift=0.0003, vol=0.018, stay=0.98, crash_rate=0.001, volume_mult=0.8),
    "volatile": RegimeParams(drift=0.0, vol=0.048, stay=0.95, crash_rate=0.006, volume_mult=1.7),
}

# where a regime goes when it ends (rows sum to 1; diagonal unused)
EXIT_PROBS: dict[str, dict[str, float]] = {
    "bull": {"sideways": 0.5, "volatile": 0.3, "bear": 0.2},
    "bear": {"sideways": 0.5, "volatile": 0.3, "bull": 0.2},
    "sideways": {"bull": 0.4, "bear": 0.3, "volatile": 0.3},
    "volatile": {"bear": 0.4, "bull": 0.3, "sideways": 0.3},
}


@dataclass(frozen=True, slots=True)
class SimAsset:
    symbol: str
    name: str
    sector: str
    price: float  # initial price (USD)
    supply: float  # circulating supply
    beta: float = 1.0  # loading on the market factor
    sector_beta: float = 1.0  # loading on its sector factor
    idio_vol: float = 0.03  # daily idiosyncratic vol
    usd_volume: float = 0.0  # typical daily USD volume (0: 4 % of market cap)
    kind: str = "crypto"  # crypto | stablecoin | wrapped | commodity


DEFAULT_UNIVERSE: tuple[SimAsset, ...] = (
    SimAsset("BTC", "Bitcoin", "layer1", 30000.0, 19.0e6, 1.0, 0.2, 0.008),
    SimAsset("ETH", "Ethereum", "layer1", 2000.0, 120.0e6, 1.15, 0.5, 0.015),
    SimAsset("USDT", "Tether", "stablecoin", 1.0, 80.0e9, kind="stablecoin", usd_volume=40e9),
    SimAsset("USDC", "USD Coin", "stablecoin", 1.0, 30.0e9, kind="stablecoin", usd_volume=5e9),
    SimAsset("BNB", "BNB", "exchange_token", 300.0, 155.0e6, 1.0, 0.8, 0.02),
    SimAsset("XRP", "XRP", "payments", 0.5, 50.0e9, 1.1, 0.8, 0.03),
    SimAsset("SOL", "Solana", "layer1", 40.0, 400.0e6, 1.5, 0.8, 0.035),
    SimAsset("ADA", "Cardano", "layer1", 0.4, 35.0e9, 1.3, 0.8, 0.025),
    SimAsset("DOGE", "Dogecoin", "meme", 0.08, 140.0e9, 1.4, 1.0, 0.045),
    SimAsset("TRX", "TRON", "layer1", 0.08, 90.0e9, 0.8, 0.6, 0.02),
    SimAsset("AVAX", "Avalanche", "layer1", 20.0, 350.0e6, 1.5, 0.8, 0.035),
    SimAsset("SHIB", "Shiba Inu", "meme", 1.0e-5, 589.0e12, 1.5, 1.0, 0.05),
    SimAsset("DOT", "Polkadot", "layer0_interop", 6.0, 1.2e9, 1.3, 0.9, 0.03),
    SimAsset("LINK", "Chainlink", "oracle", 7.0, 500.0e6, 1.3, 1.0, 0.03),
    SimAsset("MATIC", "Polygon", "layer2", 0.8, 9.0e9, 1.4, 1.0, 0.035),
    SimAsset("WBTC", "Wrapped Bitcoin", "wrapped_asset", 30000.0, 0.15e6, kind="wrapped"),
    SimAsset("LTC", "Litecoin", "payments", 80.0, 73.0e6, 1.0, 0.8, 0.025),
    SimAsset("BCH", "Bitcoin Cash", "layer1", 200.0, 19.5e6, 1.1, 0.6, 0.03),
    SimAsset("UNI", "Uniswap", "defi", 5.0, 750.0e6, 1.4, 1.0, 0.035),
    SimAsset("ATOM", "Cosmos", "layer0_interop", 9.0, 350.0e6, 1.3, 0.9, 0.03),
    SimAsset("XLM", "Stellar", "payments", 0.1, 27.0e9, 1.0, 0.8, 0.025),
    SimAsset("ETC", "Ethereum Classic", "layer1", 18.0, 140.0e6, 1.1, 0.6, 0.03),
    SimAsset("XMR", "Monero", "privacy", 150.0, 18.0e6, 0.9, 1.0, 0.025),
    SimAsset("CRO", "Cronos", "exchange_token", 0.07, 25.0e9, 1.2, 0.8, 0.03),
    SimAsset("MKR", "Maker", "defi", 1200.0, 0.9e6, 1.2, 1.0, 0.03),
    SimAsset("AAVE", "Aave", "defi", 70.0, 14.0e6, 1.4, 1.0, 0.035),
    SimAsset("PAXG", "PAX Gold", "commodity_backed", 1900.0, 0.25e6, kind="commodity"),
    SimAsset("LRC", "Loopring", "layer2", 0.25, 1.3e9, 1.5, 1.0, 0.04),
    SimAsset("SAND", "The Sandbox", "gaming_nft_metaverse", 0.5, 2.0e9, 1.6, 1.2, 0.045),
    SimAsset("MANA", "Decentraland", "gaming_nft_metaverse", 0.45, 1.9e9, 1.6, 1.2, 0.045),
    SimAsset("AXS", "Axie Infinity", "gaming_nft_metaverse", 7.0, 120.0e6, 1.6, 1.2, 0.05),
    SimAsset("ENJ", "Enjin Coin", "gaming_nft_metaverse", 0.3, 1.0e9, 1.5, 1.2, 0.045),
    SimAsset("FTM", "Fantom", "layer1", 0.3, 2.8e9, 1.7, 0.8, 0.045),
    SimAsset("YFI", "yearn.finance", "defi", 7000.0, 33.0e3, 1.4, 1.0, 0.04),
    SimAsset("RUNE", "THORChain", "defi", 1.5, 300.0e6, 1.6, 1.0, 0.045),
    SimAsset("MIOTA", "IOTA", "iot", 0.2, 2.8e9, 1.3, 1.0, 0.035),
    SimAsset("HNT", "Helium", "storage_depin", 2.0, 140.0e6, 1.4, 1.0, 0.045),
    SimAsset("STORJ", "Storj", "storage_depin", 0.4, 400.0e6, 1.4, 1.0, 0.04),
    SimAsset("OCEAN", "Ocean Protocol", "data_ai", 0.35, 600.0e6, 1.5, 1.0, 0.045),
    SimAsset("BAT", "Basic Attention Token", "web_advertising", 0.2, 1.5e9, 1.2, 1.0, 0.035),
    SimAsset("ANT", "Aragon", "dao_governance", 4.0, 40.0e6, 1.2, 1.0, 0.04),
    SimAsset("ARPA", "ARPA", "infrastructure", 0.04, 1.2e9, 1.5, 1.0, 0.045),
)
"""42 assets across the 19 sectors of the project's sector map."""


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    seed: int = 11
    start: str = "2020-01-01"
    assets: tuple[SimAsset, ...] = DEFAULT_UNIVERSE
    regimes: tuple[tuple[str, RegimeParams], ...] = tuple(REGIMES.items())
    initial_regime: str = "sideways"
    t_dof: float = 4.0
    sector_vol: float = 0.015  # daily vol of each sector factor
    sector_drift_persistence: float = 0.98  # daily AR(1) coefficient of sector drifts
    sector_drift_sd: float = 0.0004  # daily innovation sd of sector drifts
    crash_range: tuple[float, float] = (0.08, 0.25)  # log-return size of a market crash
    stable_band: float = 0.018  # stablecoin deviation cap from 1.0
    tracked_share: float = 0.85  # share of the total market cap the universe represents
    fear_greed_window_days: int = 30


@dataclass
class SimStep:
    """One closed step of the simulated market."""

    open_time: pd.Timestamp
    regime: str
    candles: list[Candle]
    snapshot: dict[str, float | str]


@dataclass
class SimulatedMarket:
    """Batch output, shaped like the loaders' frames, plus the true regime path."""

    candles: pd.DataFrame
    snapshots: pd.DataFrame
    assets: pd.DataFrame
    regimes: pd.Series  # regime label per step open_time
    daily_regimes: pd.Series = field(default_factory=lambda: pd.Series(dtype=str))


class _Engine:
    """Vectorised step-by-step state of the simulated market."""

    def __init__(self, config: SimulatorConfig, interval: str, start: pd.Timestamp) -> None:
        self.cfg = config
        self.interval = interval
        self.step_delta = interval_delta(interval)
        self.dt = self.step_delta / pd.Timedelta(days=1)
        self.rng = np.random.default_rng(np.random.SeedSequence([config.seed, int(self.dt * 1440)]))
        self.time = start
        self.assets = list(config.assets)
        self.symbols = [a.symbol for a in self.assets]
        self.sectors = sorted({a.sector for a in self.assets})
        self.sector_idx = np.array([self.sectors.index(a.sector) for a in self.assets])
        self.kind = np.array([a.kind for a in self.assets])
        self.beta = np.array([a.beta for a in self.assets])
        self.sector_beta = np.array([a.sector_beta for a in self.assets])
        self.idio = np.array([a.idio_vol for a in self.assets])
        self.supply = np.array([a.supply for a in self.assets])
        self.price = np.array([a.price for a in self.assets], dtype=float)
        mcap0 = self.price * self.supply
        self.base_usd_volume = np.array(
            [a.usd_volume or 0.04 * m for a, m in zip(self.assets, mcap0, strict=True)]
        )
        self.regime_names = [name for name, _ in config.regimes]
        self.params = [p for _, p in config.regimes]
        self.regime = self.regime_names.index(config.initial_regime)
        self.transition = self._step_transition()
        self.sector_drift = np.zeros(len(self.sectors))
        self.stable_dev = np.zeros(len(self.assets))
        self.btc = self.symbols.index("BTC") if "BTC" in self.symbols else None
        self.market_level = 0.0
        steps_per_day = max(1, round(1 / self.dt))
        window = config.fear_greed_window_days * steps_per_day
        self.market_returns: deque[float] = deque(maxlen=window)
        self.t_scale = math.sqrt((config.t_dof - 2) / config.t_dof)

    def _step_transition(self) -> np.ndarray:
        n = len(self.params)
        mat = np.zeros((n, n))
        for i, (name, p) in enumerate(zip(self.regime_names, self.params, strict=True)):
            stay = p.stay**self.dt
            mat[i, i] = stay
            exits = EXIT_PROBS.get(name, {})
            total = sum(exits.get(o, 0.0) for o in self.regime_names if o != name) or 1.0
            for j, other in enumerate(self.regime_names):
                if other != name:
                    mat[i, j] = (1 - stay) * exits.get(other, 1.0 / (n - 1)) / total
        return mat

    def _t(self, size: int | tuple[int, ...]) -> np.ndarray:
        return self.rng.standard_t(self.cfg.t_dof, size) * self.t_scale

    def step(self) -> tuple[pd.Timestamp, str, dict[str, np.ndarray], dict[str, float | str]]:
        cfg, dt, rng = self.cfg, self.dt, self.rng
        # regime transition at the start of the step
        self.regime = int(rng.choice(len(self.params), p=self.transition[self.regime]))
        p = self.params[self.regime]
        sq = math.sqrt(dt)
        r_m = p.drift * dt + p.vol * sq * self._t(1)[0]
        crashed = rng.random() < p.crash_rate * dt
        if crashed:
            r_m -= rng.uniform(*cfg.crash_range)
            self.regime = (
                self.regime_names.index("volatile") if "volatile" in self.regime_names else self.regime
            )
        phi = cfg.sector_drift_persistence**dt
        self.sector_drift = phi * self.sector_drift + cfg.sector_drift_sd * sq * rng.standard_normal(
            len(self.sectors)
        )
        r_s = self.sector_drift * dt + cfg.sector_vol * sq * self._t(len(self.sectors))
        z = self._t(len(self.assets))
        r = self.beta * r_m + self.sector_beta * r_s[self.sector_idx] + self.idio * sq * z
        step_vol = (
            np.sqrt((self.beta * p.vol) ** 2 + (self.sector_beta * cfg.sector_vol) ** 2 + self.idio**2) * sq
        )

        open_ = self.price.copy()
        close = open_ * np.exp(r)
        # special kinds
        stable = self.kind == "stablecoin"
        if stable.any():
            kappa = 1 - 0.5**dt  # half-life one day
            shock = 0.0015 * sq * rng.standard_normal(stable.sum())
            if crashed:
                shock -= rng.uniform(0.003, 0.012, stable.sum())
            dev = self.stable_dev[stable] * (1 - kappa) + shock
            self.stable_dev[stable] = np.clip(dev, -cfg.stable_band, cfg.stable_band)
            close[stable] = 1.0 + self.stable_dev[stable]
            step_vol[stable] = 0.0008 * sq
        wrapped = self.kind == "wrapped"
        if wrapped.any() and self.btc is not None:
            close[wrapped] = close[self.btc] * (1 + 0.0005 * rng.standard_normal(wrapped.sum()))
            step_vol[wrapped] = step_vol[self.btc]
        commodity = self.kind == "commodity"
        if commodity.any():
            close[commodity] = open_[commodity] * np.exp(
                0.0001 * dt + 0.009 * sq * rng.standard_normal(commodity.sum())
            )
            step_vol[commodity] = 0.009 * sq
        body_hi = np.maximum(open_, close)
        body_lo = np.minimum(open_, close)
        high = body_hi * np.exp(0.5 * step_vol * np.abs(rng.standard_normal(len(r))))
        low = body_lo * np.exp(-0.5 * step_vol * np.abs(rng.standard_normal(len(r))))
        if stable.any():
            high[stable] = np.minimum(high[stable], 1 + cfg.stable_band)
            low[stable] = np.maximum(low[stable], 1 - cfg.stable_band)
        ret = np.log(close / open_)
        surprise = np.abs(ret) / np.maximum(step_vol, 1e-9)
        usd_volume = (
            self.base_usd_volume
            * dt
            * p.volume_mult
            * np.exp(0.6 * np.minimum(surprise, 6) - 0.35 + 0.3 * rng.standard_normal(len(r)))
        )
        self.price = close
        mcap = close * self.supply
        self.market_returns.append(r_m)
        self.market_level += r_m
        t = self.time
        self.time = t + self.step_delta
        arrays = {
            "open": open_,
            "high": high,
            "low": low,
            "close": close,
            "volume": usd_volume / close,
            "quote_volume": usd_volume,
            "market_cap": mcap,
        }
        return t, self.regime_names[self.regime], arrays, self._snapshot(mcap, stable)

    def _snapshot(self, mcap: np.ndarray, stable: np.ndarray) -> dict[str, float | str]:
        total = float(mcap.sum() / self.cfg.tracked_share)
        btc = float(mcap[self.btc]) if self.btc is not None else math.nan
        usdt = float(mcap[self.symbols.index("USDT")]) if "USDT" in self.symbols else math.nan
        fg = self._fear_greed()
        return {
            "total_market_cap": total,
            "btc_dominance": btc / total * 100,
            "usdt_market_cap": usdt,
            "stablecoin_dominance": float(mcap[stable].sum()) / total * 100,
            "fear_greed": fg,
            "fear_greed_label": label_for(fg),
            "stale_total_market_cap": False,
        }

    def _fear_greed(self) -> float:
        rets = np.fromiter(self.market_returns, float)
        if len(rets) < 4:
            return 50.0
        momentum = rets.sum()
        vol = rets.std() * math.sqrt(len(rets)) + 1e-9
        recent = rets[-max(2, len(rets) // 4) :]
        vol_ratio = (recent.std() + 1e-9) / (rets.std() + 1e-9)
        score = 50 + 40 * math.tanh(0.9 * momentum / vol) - 12 * (vol_ratio - 1)
        return float(np.clip(round(score), 0, 100))


class MarketSimulator:
    """Deterministic synthetic market: same config (seed) -> identical output."""

    def __init__(self, config: SimulatorConfig | None = None, **overrides: object) -> None:
        base = config or SimulatorConfig()
        if overrides:
            base = SimulatorConfig(**{**{k: getattr(base, k) for k in base.__slots__}, **overrides})
        self.config = base

    def _start(self, interval: str, start: object) -> pd.Timestamp:
        ts = to_utc_timestamp(start if start is not None else self.config.start)
        assert ts is not None
        return ts.floor(interval_delta(interval))

    def run(self, interval: str = "1h", *, start: object = None) -> SimulationRun:
        """A resumable run: advance it in bulk (:meth:`SimulationRun.advance`) or step by step;
        :meth:`SimulationRun.state` saves it, :meth:`SimulationRun.resume` continues it."""
        return SimulationRun(self, interval, self._start(interval, start))

    def stream(
        self, interval: str = "1h", *, start: object = None, steps: int | None = None
    ) -> Iterator[SimStep]:
        """Yield closed steps one at a time (forever when ``steps`` is None)."""
        run = self.run(interval, start=start)
        n = 0
        while steps is None or n < steps:
            yield run.step()
            n += 1

    def simulate(
        self, interval: str = "1d", *, periods: int | None = None, start: object = None, end: object = None
    ) -> SimulatedMarket:
        """Run ``periods`` steps (or up to ``end`` inclusive) and return the frames."""
        t0 = self._start(interval, start)
        step = interval_delta(interval)
        if periods is None:
            if end is None:
                raise ValueError("give periods or end")
            t1 = to_utc_timestamp(end)
            assert t1 is not None
            periods = int((t1 - t0) // step) + 1
        return SimulationRun(self, interval, t0).advance(periods)

    def assets_frame(self, candles: pd.DataFrame | None = None) -> pd.DataFrame:
        """Assets (loader shape); ranks from the last market caps in ``candles`` if given."""
        assets = self.config.assets
        caps = {a.symbol: a.price * a.supply for a in assets}
        if candles is not None and not candles.empty:
            last = candles.sort_values("open_time").groupby("symbol")["market_cap"].last()
            caps.update(last.to_dict())
        order = sorted(caps, key=lambda s: -caps[s])
        rank = {s: i + 1 for i, s in enumerate(order)}
        df = pd.DataFrame(
            {
                "symbol": [a.symbol for a in assets],
                "name": [a.name for a in assets],
                "sector": [a.sector for a in assets],
                "market_cap_rank": pd.array([rank[a.symbol] for a in assets], dtype="Int64"),
                "coingecko_id": [""] * len(assets),
                "sector_tags": [""] * len(assets),
            }
        )
        return df.loc[:, ASSET_COLUMNS].sort_values("symbol").reset_index(drop=True)


class SimulationRun:
    """One simulated market path that can be continued: in bulk or one step at a time.

    ``advance(n)`` returns the next ``n`` steps as frames (like ``simulate``), ``step()`` the
    next step as ``SimStep`` (like ``stream``); both continue the same path, so history can be
    generated in bulk and the market then streamed live without re-running it.
    """

    def __init__(self, simulator: MarketSimulator, interval: str, start: pd.Timestamp) -> None:
        self.simulator = simulator
        self.interval = interval
        self._engine = _Engine(simulator.config, interval, start)

    @property
    def next_open_time(self) -> pd.Timestamp:
        """Open time of the candle the next step produces."""
        return self._engine.time

    @property
    def symbols(self) -> list[str]:
        return list(self._engine.symbols)

    def state(self) -> dict[str, Any]:
        """Everything that moves along the path, JSON-friendly: ``resume`` continues from it."""
        e = self._engine
        return {
            "interval": self.interval,
            "time": e.time.isoformat(),
            "rng": e.rng.bit_generator.state,
            "regime": e.regime,
            "price": e.price.tolist(),
            "sector_drift": e.sector_drift.tolist(),
            "stable_dev": e.stable_dev.tolist(),
            "market_level": e.market_level,
            "market_returns": list(e.market_returns),
        }

    @classmethod
    def resume(cls, simulator: MarketSimulator, state: dict[str, Any]) -> SimulationRun:
        """The run saved by :meth:`state` (same simulator config), continuing bit for bit."""
        run = cls(simulator, str(state["interval"]), pd.Timestamp(state["time"]))
        e = run._engine
        e.rng.bit_generator.state = state["rng"]
        e.regime = int(state["regime"])
        e.price = np.array(state["price"], dtype=float)
        e.sector_drift = np.array(state["sector_drift"], dtype=float)
        e.stable_dev = np.array(state["stable_dev"], dtype=float)
        e.market_level = float(state["market_level"])
        e.market_returns.extend(float(r) for r in state["market_returns"])
        return run

    def step(self) -> SimStep:
        engine, interval = self._engine, self.interval
        t, regime, arrays, snap = engine.step()
        open_time = t.to_pydatetime().astimezone(UTC)
        candles = [
            Candle(
                symbol=sym,
                interval=interval,
                open_time=open_time,
                open=float(arrays["open"][i]),
                high=float(arrays["high"][i]),
                low=float(arrays["low"][i]),
                close=float(arrays["close"][i]),
                volume=float(arrays["volume"][i]),
                quote_volume=float(arrays["quote_volume"][i]),
                source="synthetic",
                quote="USD",
                market_cap=float(arrays["market_cap"][i]),
            )
            for i, sym in enumerate(engine.symbols)
        ]
        return SimStep(t, regime, candles, snap)

    def advance(self, periods: int) -> SimulatedMarket:
        engine, interval = self._engine, self.interval
        times: list[pd.Timestamp] = []
        regimes: list[str] = []
        cols: dict[str, list[np.ndarray]] = {
            k: [] for k in ("open", "high", "low", "close", "volume", "quote_volume", "market_cap")
        }
        snaps: list[dict[str, float | str]] = []
        for _ in range(periods):
            t, regime, arrays, snap = engine.step()
            times.append(t)
            regimes.append(regime)
            snaps.append(snap)
            for k in cols:
                cols[k].append(arrays[k])
        n_assets = len(engine.symbols)
        frame = pd.DataFrame({k: np.concatenate(v) if v else np.array([]) for k, v in cols.items()})
        frame["open_time"] = np.repeat(pd.DatetimeIndex(times), n_assets) if times else pd.DatetimeIndex([])
        frame["symbol"] = np.tile(engine.symbols, len(times))
        frame["interval"] = interval
        frame["quote"] = "USD"
        frame["source"] = "synthetic"
        frame["is_closed"] = True
        frame["quality_flags"] = ""
        candles = to_candle_frame(frame[list(CANDLE_COLUMNS)])
        regime_series = pd.Series(regimes, index=pd.DatetimeIndex(times, name="open_time"), name="regime")
        # no steps (a restart that is already up to date): still the snapshot columns
        columns = None if snaps else list(SNAPSHOT_COLUMNS)
        snap_frame = pd.DataFrame(snaps, index=pd.DatetimeIndex(times, name="date"), columns=columns)
        # daily snapshot = state at the last step of each UTC day; regime = most frequent
        day = snap_frame.index.floor("D")
        snapshots = snap_frame.groupby(day).last()
        snapshots.index.name = "date"
        daily_regimes = regime_series.groupby(regime_series.index.floor("D")).agg(lambda s: s.mode().iloc[0])
        return SimulatedMarket(
            candles=candles,
            snapshots=snapshots.loc[:, list(SNAPSHOT_COLUMNS)],
            assets=self.simulator.assets_frame(candles),
            regimes=regime_series,
            daily_regimes=daily_regimes,
        )


def simulate_market(
    seed: int = 11, interval: str = "1d", periods: int = 3 * 365, start: object = None
) -> SimulatedMarket:
    """Shortcut: ``MarketSimulator(seed=seed).simulate(interval, periods=periods)``."""
    return MarketSimulator(seed=seed).simulate(interval, periods=periods, start=start)
