"""Trade signals: the exit rule, the book that follows them, and live == backtest."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from cp_models.backtest.book import run_book
from cp_models.backtest.costs import CostModel
from cp_models.backtest.trades import net_trade_return
from cp_models.book import BookVariant
from cp_models.data import MarketData
from cp_models.datasets import day_inputs, latest_inputs
from cp_models.evaluation.ablations import FULL
from cp_models.evaluation.walkforward import block_signals
from cp_models.signals import SignalModels, TradeSignal, apply_no_trade_band, day_signals, resolve_exit
from cp_models.validation import Fold

NO_COSTS = CostModel(0.0, 0.0)
COSTS = CostModel(0.001, 0.0005)
DAY0 = pd.Timestamp("2022-01-01", tz="UTC")


def _candles(rows: list[tuple[float, float, float, float]]) -> pd.DataFrame:
    idx = pd.date_range(DAY0, periods=len(rows), freq="D", tz="UTC")
    return pd.DataFrame(rows, index=idx, columns=["open", "high", "low", "close"])


def _signal(target: float = 110.0, stop: float = 90.0, horizon: int = 3, size: float = 0.5) -> TradeSignal:
    return TradeSignal(
        symbol="X",
        side="long",
        decided_at=DAY0 - pd.Timedelta(days=1),
        entry_date=DAY0,
        reference_price=100.0,
        target_price=target,
        stop_price=stop,
        size=size,
        horizon_days=horizon,
        expires_at=DAY0 + pd.Timedelta(days=horizon),
        confidence=0.6,
        agreement=1.0,
        display=False,
    )


def test_target_fills_at_the_target_or_at_the_open_when_gapped_above():
    c = _candles([(100, 105, 99, 104), (104, 112, 103, 111), (111, 111, 111, 111)])
    out = resolve_exit(_signal(), c, NO_COSTS)
    assert (out.status, out.exit_price, out.exit_at, out.exit_date) == (
        "target_hit",
        110.0,
        "intraday",
        c.index[1],
    )
    gap = _candles([(100, 105, 99, 104), (115, 116, 114, 115)])
    out = resolve_exit(_signal(), gap, NO_COSTS)
    assert (out.status, out.exit_price) == ("target_hit", 115.0)
    assert out.gross_return == pytest.approx(0.15)


def test_stop_is_on_the_close_and_exits_at_the_next_open_even_through_a_gap():
    # an intraday dip below the stop does not stop the trade; a close below it does
    c = _candles([(100, 101, 85, 95), (95, 96, 88, 89), (80, 82, 79, 81), (81, 81, 81, 81)])
    out = resolve_exit(_signal(), c, NO_COSTS)
    assert (out.status, out.exit_date, out.exit_price, out.exit_at) == (
        "stopped_out",
        c.index[2],
        80.0,
        "open",
    )


def test_expiry_at_the_open_after_the_horizon_and_costs_on_both_fills():
    c = _candles([(100, 101, 99, 100), (100, 101, 99, 100), (100, 101, 99, 100), (102, 103, 101, 102)])
    out = resolve_exit(_signal(horizon=3), c, COSTS)
    assert (out.status, out.exit_date, out.exit_price) == ("expired", c.index[3], 102.0)
    assert out.net_return == pytest.approx(net_trade_return("long", 100.0, 102.0, COSTS)[1])
    assert out.net_return < out.gross_return


def test_unresolved_signal_stays_open_and_missing_prices_end_it():
    c = _candles([(100, 101, 99, 100), (100, 101, 99, 101)])
    out = resolve_exit(_signal(horizon=5), c, NO_COSTS)
    assert (out.status, out.exit_date, out.exit_price) == ("open", None, 101.0)
    dead = _candles([(100, 101, 99, 100), (100, 101, 99, 97), (np.nan,) * 4])
    out = resolve_exit(_signal(horizon=5), dead, NO_COSTS)
    assert (out.status, out.exit_date, out.exit_price, out.exit_at) == (
        "end_of_data",
        dead.index[1],
        97.0,
        "close",
    )
    no_close = _candles([(100, 101, 99, np.nan)])
    out = resolve_exit(_signal(horizon=5), no_close, NO_COSTS)
    assert (out.status, out.exit_date, out.exit_price) == ("end_of_data", no_close.index[0], 100.0)


def _market(c: pd.DataFrame) -> MarketData:
    frames = {f: c[[f]].rename(columns={f: "X"}) for f in ("open", "high", "low", "close")}
    vol = pd.DataFrame({"X": 1.0}, index=c.index)
    return MarketData(
        **frames, volume=vol, quote_volume=vol, market=pd.DataFrame(index=c.index), sectors={"X": "layer1"}
    )


def test_book_backtest_earns_size_times_the_signal_return():
    c = _candles(
        [
            (100, 101, 99, 100),
            (100, 104, 99, 103),
            (103, 104, 102, 103),
            (106, 106, 105, 105),
            (105, 105, 105, 105),
        ]
    )
    data = _market(c)
    run = run_book([_signal(horizon=3)], data, c.index[0], c.index[-1], NO_COSTS)
    assert float((1 + run.result.returns).prod()) == pytest.approx(1 + 0.5 * 0.06)
    assert run.lots["status"].tolist() == ["expired"] and run.entries_from_flat == 1
    assert run.result.exposure.iloc[-1] == 0.0


def test_a_renewed_signal_is_netted_and_pays_only_for_the_difference():
    flat = [(100.0, 100.0, 100.0, 100.0)] * 8
    data = _market(_candles(flat))
    first = _signal(horizon=3, size=0.5)
    second = dataclasses.replace(
        first, entry_date=DAY0 + pd.Timedelta(days=3), decided_at=DAY0 + pd.Timedelta(days=2)
    )
    run = run_book([first, second], data, data.index[0], data.index[-1], COSTS)
    # one buy of 0.5 and one final sale of 0.5: the renewal at day 3 trades nothing
    assert float((1 + run.result.returns).prod()) == pytest.approx(1 - 2 * 0.5 * COSTS.per_side, rel=1e-6)
    assert run.entries_from_flat == 1 and len(run.lots) == 2


@pytest.fixture(scope="module")
def signal_models(trained):
    models, _ = trained
    return SignalModels(models.l3, models.meta, "test")


def test_book_respects_gross_name_and_group_caps(signal_models, sim_datasets, fast_config, trained):
    _, test_start = trained
    cfg = fast_config.book
    days = [t for t in sim_datasets.data.index if t >= test_start][:60]
    seen = 0
    for t in days:
        sigs = day_signals(signal_models, day_inputs(sim_datasets, t), fast_config, any_day=True)
        sizes = [s.size for s in sigs]
        assert sum(sizes) <= 1.0 + 1e-6
        assert all(
            cfg.min_weight <= s <= cfg.max_weight + 1e-9 or sym.symbol == "BTC"
            for s, sym in zip(sizes, sigs, strict=True)
        )
        assert all(s.stop_price < s.reference_price < s.target_price for s in sigs)
        seen += len(sigs)
    assert seen > 0


def test_random_filter_placebo_keeps_about_the_training_pass_rate(
    signal_models, sim_datasets, fast_config, trained
):
    _, test_start = trained
    meta = dataclasses.replace(signal_models.meta, tau=0.0, pass_rate=0.5)
    models = dataclasses.replace(signal_models, meta=meta)
    days = [t for t in sim_datasets.data.index if t >= test_start][:80]
    variant = BookVariant("placebo", l4="random", groups="none")
    n = [
        len(day_signals(models, day_inputs(sim_datasets, t), fast_config, variant, any_day=True))
        for t in days
    ]
    full = [
        len(
            day_signals(
                models,
                day_inputs(sim_datasets, t),
                fast_config,
                BookVariant("all", l4="none", groups="none"),
                any_day=True,
            )
        )
        for t in days
    ]
    assert 0.2 < sum(n) / max(sum(full), 1) < 0.8


def test_the_signals_a_service_computes_for_a_day_are_the_backtest_entries(
    signal_models, sim_datasets, fast_config, trained
):
    """Replay a short window: the walk-forward's signals of a day (what the backtest trades)
    equal what a service computes from the history up to that day, and the backtest enters
    exactly those sizes at the next open."""
    _, test_start = trained
    end = test_start + pd.Timedelta(days=48)
    fold = Fold(0, None, test_start, end)
    by_variant, _ = block_signals(signal_models, sim_datasets, fold, fast_config, (FULL,))
    backtest = by_variant[FULL.name]
    assert backtest, "the replay window must produce signals"
    decided = sorted({s.decided_at for s in backtest})
    # a decision whose previous week also had signals (so the no-trade band is exercised)
    day = max(d for d in decided if d - pd.Timedelta(days=7) in decided)
    previous = [s for s in backtest if s.decided_at == day - pd.Timedelta(days=7)]
    inputs = latest_inputs(sim_datasets.data.truncate(day), fast_config)
    live = day_signals(signal_models, inputs, fast_config, previous=previous)
    expected = [s for s in backtest if s.decided_at == day]

    def key(s: TradeSignal) -> tuple:
        return (s.symbol, s.size, s.reference_price, s.target_price, s.stop_price, s.entry_date, s.expires_at)

    assert [key(s) for s in live] == [key(s) for s in expected]
    np.testing.assert_allclose([s.confidence for s in live], [s.confidence for s in expected], equal_nan=True)
    run = run_book(backtest, sim_datasets.data, test_start, end, COSTS)
    entered = run.lots[run.lots["decided_at"] == day]
    assert sorted(zip(entered["symbol"], entered["size"], strict=True)) == sorted(
        (s.symbol, s.size) for s in expected
    )
    opens = sim_datasets.data.open.loc[day + pd.Timedelta(days=1)]
    np.testing.assert_allclose(entered["entry_price"].to_numpy(), opens[entered["symbol"]].to_numpy())


def test_no_trade_band_keeps_a_small_change_and_takes_a_large_one():
    prev = [_signal(size=0.20), dataclasses.replace(_signal(size=0.30), symbol="Y")]
    new = [_signal(size=0.21), dataclasses.replace(_signal(size=0.40), symbol="Y")]
    out = {s.symbol: s.size for s in apply_no_trade_band(new, prev, 0.025)}
    assert out == {"X": 0.20, "Y": 0.40}
    big = [_signal(size=0.70), dataclasses.replace(_signal(size=0.31), symbol="Y")]
    assert sum(s.size for s in apply_no_trade_band(big, prev, 0.025)) <= 1.0 + 1e-9
