"""The cascade's trade signals for one day and the exit rule every signal follows.

How a service calls it: load the L3 and L4 artifacts from the registry into
``SignalModels.from_blobs(l3_blob, l4_blob)``, build the day's inputs from recent history
with ``latest_inputs(MarketData, config)`` (at least 400 days so every window is warm; the
last day is the decision day), then ``day_signals(models, inputs, config)`` returns the
``TradeSignal`` list for that close (empty on a day that is not a rebalance day). Each
signal is filled at the next day's open; its lifecycle is decided by ``resolve_exit(signal,
candles, costs)`` on the candles from the entry day on (``open`` while unresolved). The
walk-forward backtest calls exactly these two functions (``evaluation.book_backtest``), so
the signals a service emits for a day are the backtest's entries for that day.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd

from cp_models.backtest.costs import CostModel
from cp_models.backtest.trades import net_trade_return
from cp_models.book import Book, BookVariant, Candidate, DayInputs, build_book
from cp_models.config import BookConfig, CascadeConfig
from cp_models.layers.l3_asset import AssetSelectionModel
from cp_models.layers.l4_meta import MetaLabelModel

STATUSES = ("open", "target_hit", "stopped_out", "expired", "end_of_data")


@dataclass(frozen=True)
class Evidence:
    """One independent piece of evidence behind a signal (the 2/3 display agreement counts these)."""

    name: str
    value: float
    weight: float
    in_favour: bool
    detail: str = ""


@dataclass(frozen=True)
class TradeSignal:
    symbol: str
    side: str  # always "long": the book is spot, long only
    decided_at: pd.Timestamp  # the close the decision was taken at
    entry_date: pd.Timestamp  # filled at this day's open
    reference_price: float  # the close at ``decided_at`` (the entry fills at the next open)
    target_price: float  # take-profit: a touch fills at the target (or the open if gapped above)
    stop_price: float  # stop on close: a close at or below it exits at the next open
    size: float  # fraction of equity at the decision close
    horizon_days: int  # expires at the open ``horizon_days`` after the entry (the next rebalance)
    expires_at: pd.Timestamp
    confidence: float  # calibrated L4 P(next-week return beats costs); NaN without an L4 model
    agreement: float  # weighted share of the evidence in favour
    display: bool  # the seed's display filter: confidence >= 0.7 and agreement >= 2/3
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)
    model_version: str = ""
    rank: int = 0  # L3 rank among the day's candidates (0: the BTC sleeve)

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        for k in ("decided_at", "entry_date", "expires_at"):
            d[k] = pd.Timestamp(d[k]).isoformat()
        return d


@dataclass(frozen=True)
class ExitOutcome:
    status: str  # one of STATUSES
    exit_date: pd.Timestamp | None
    exit_price: float  # the fill (or the last close while open)
    exit_at: str  # "open" | "intraday" | "close" | ""
    entry_price: float  # the fill at the entry day's open
    gross_return: float
    net_return: float  # after the fee and slippage of both fills


@dataclass(frozen=True)
class SignalModels:
    l3: AssetSelectionModel
    meta: MetaLabelModel | None
    version: str = ""

    @classmethod
    def from_blobs(cls, l3_blob: bytes, l4_blob: bytes, version: str = "") -> SignalModels:
        from cp_models.layers.l4_timing import TimingModel

        l4 = TimingModel.load(l4_blob)
        return cls(AssetSelectionModel.load(l3_blob), getattr(l4, "meta_label", None), version)


def is_rebalance_day(as_of: pd.Timestamp, cfg: BookConfig) -> bool:
    return int(as_of.day_of_week) == cfg.rebalance_weekday


def resolve_exit(signal: TradeSignal, candles: pd.DataFrame, costs: CostModel) -> ExitOutcome:
    """Lifecycle of ``signal`` on daily ``candles`` (open/high/low/close, indexed by day,
    starting at or before the entry day). In order on each bar from the entry day: a
    pending stop-on-close or the expiry exits at that bar's open; a high at or above the
    target exits at the target (at the open when the bar opens above it); a close at or
    below the stop arms an exit at the next open. Bars without a price end the trade at
    the last close (``end_of_data``); candles that end first leave it ``open``."""
    bars = candles.loc[candles.index >= signal.entry_date]
    op, hi, cl = (bars[f].to_numpy("float64") for f in ("open", "high", "close"))
    if not len(op) or not np.isfinite(op[0]):
        return ExitOutcome("open", None, float("nan"), "", float("nan"), 0.0, 0.0)
    entry = float(op[0])

    def done(status: str, j: int, price: float, at: str) -> ExitOutcome:
        gross, net = net_trade_return("long", entry, price, costs)
        return ExitOutcome(status, pd.Timestamp(bars.index[j]), float(price), at, entry, gross, net)

    stop_armed = False
    for j in range(len(op)):
        o, h, c = op[j], hi[j], cl[j]
        if not (np.isfinite(o) and np.isfinite(c)):
            if j == 0:  # opened but no close that day: out at the entry price
                return done("end_of_data", 0, entry, "close")
            return done("end_of_data", j - 1, cl[j - 1], "close")
        if stop_armed:
            return done("stopped_out", j, o, "open")
        if j >= signal.horizon_days:
            return done("expired", j, o, "open")
        if np.isfinite(h) and h >= signal.target_price:
            return done("target_hit", j, max(o, signal.target_price), "intraday")
        stop_armed = bool(c <= signal.stop_price)
    last = float(cl[-1])
    gross, net = net_trade_return("long", entry, last, costs)
    return ExitOutcome("open", None, last, "", entry, gross, net)


def _evidence(c: Candidate, book: Book, cfg: BookConfig) -> tuple[Evidence, ...]:
    items = [
        Evidence("market_trend", book.budget, 0.25, book.budget >= 0.5, "L1 risk budget (trend ensemble)"),
        Evidence("asset_trend", c.trend, 0.25, c.trend >= cfg.min_asset_trend, "own MA-ensemble trend score"),
    ]
    if c.rank > 0:
        items.append(
            Evidence("l3_rank", float(c.rank), 0.25, c.rank <= cfg.top_k, f"L3 blended score {c.score:.2f}")
        )
        gate = "" if book.tau is None else f" vs gate {book.tau:.2f}"
        items.append(Evidence("l4_meta", c.confidence, 0.25, c.l4_pass, f"calibrated P(win){gate}"))
    return tuple(items)


def _signal(c: Candidate, inputs: DayInputs, book: Book, cfg: BookConfig, version: str) -> TradeSignal:
    row = inputs.assets.loc[c.symbol]
    close = float(row["close"])
    atr_pct = float(row["atr_14_pct"])
    stop = float(row["stop_low_20"])
    evidence = _evidence(c, book, cfg)
    total = sum(e.weight for e in evidence)
    agreement = sum(e.weight for e in evidence if e.in_favour) / total if total else 0.0
    entry_date = inputs.as_of + pd.Timedelta(days=1)
    display = bool(
        np.isfinite(c.confidence)
        and c.confidence >= cfg.display_confidence
        and agreement >= cfg.display_agreement
    )
    return TradeSignal(
        symbol=c.symbol,
        side="long",
        decided_at=inputs.as_of,
        entry_date=entry_date,
        reference_price=close,
        target_price=close * (1.0 + cfg.target_atr * atr_pct),
        stop_price=stop if np.isfinite(stop) and stop < close else close * (1.0 - cfg.target_atr * atr_pct),
        size=round(c.weight, 6),
        horizon_days=cfg.horizon_days,
        expires_at=entry_date + pd.Timedelta(days=cfg.horizon_days),
        confidence=c.confidence,
        agreement=agreement,
        display=display,
        evidence=evidence,
        model_version=version,
        rank=c.rank,
    )


def day_book(
    models: SignalModels, inputs: DayInputs, config: CascadeConfig, variant: BookVariant | None = None
) -> Book:
    key = ("l3_raw", id(models.l3))
    if key not in inputs.cache:  # one L3 prediction per day, shared by every book variant
        empty = pd.Series(dtype="float64")
        inputs.cache[key] = models.l3.raw_scores(inputs.assets)["deep"] if len(inputs.assets) else empty
    return build_book(inputs, inputs.cache[key], models.meta, config.book, variant)


def apply_no_trade_band(
    sigs: list[TradeSignal], previous: Sequence[TradeSignal], band: float
) -> list[TradeSignal]:
    """A coin held by the previous signals keeps its previous size when the new target is
    within ``band`` of it (fewer small trades); never lifts the book above gross 1."""
    before = {s.symbol: s.size for s in previous}
    out = [
        replace(s, size=before[s.symbol])
        if s.symbol in before and abs(s.size - before[s.symbol]) < band
        else s
        for s in sigs
    ]
    gross = sum(s.size for s in out)
    return [replace(s, size=round(s.size / gross, 6)) for s in out] if gross > 1.0 else out


def day_signals(
    models: SignalModels,
    inputs: DayInputs,
    config: CascadeConfig | None = None,
    variant: BookVariant | None = None,
    *,
    previous: Sequence[TradeSignal] = (),
    any_day: bool = False,
) -> list[TradeSignal]:
    """The signals decided at the close of ``inputs.as_of`` (only on rebalance days unless
    ``any_day``), one per coin the book holds, ordered by size. ``previous``: the signals of
    the previous decision (the no-trade band keeps their sizes when the change is small)."""
    cfg = config or CascadeConfig()
    if not any_day and not is_rebalance_day(inputs.as_of, cfg.book):
        return []
    book = day_book(models, inputs, cfg, variant)
    sigs = [_signal(c, inputs, book, cfg.book, models.version) for c in book.candidates if c.weight > 0]
    sigs = apply_no_trade_band(sigs, previous, cfg.book.no_trade_band)
    return sorted(sigs, key=lambda s: (-s.size, s.symbol))


__all__ = [
    "STATUSES",
    "Evidence",
    "ExitOutcome",
    "SignalModels",
    "TradeSignal",
    "day_book",
    "day_signals",
    "is_rebalance_day",
    "resolve_exit",
]
