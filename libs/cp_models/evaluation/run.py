"""``evaluate(data_dir, FROM, TO, OUT)``: walk-forward, metrics, portfolio, report."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cp_models import __version__
from cp_models.backtest import metrics as m
from cp_models.backtest.costs import CostModel
from cp_models.backtest.portfolio import PortfolioRules, run_signal_portfolio, run_target_weights
from cp_models.backtest.trades import simulate_signal_trades
from cp_models.cascade import all_signals, allocation_weights, cascade_signals
from cp_models.config import CascadeConfig
from cp_models.data import MarketData, to_utc_timestamp
from cp_models.evaluation import baselines, plots
from cp_models.evaluation.layer_metrics import l1_metrics, l2_metrics, l3_metrics, l4_calibration
from cp_models.evaluation.report import write_markdown
from cp_models.evaluation.trials import TrialLog
from cp_models.evaluation.walkforward import WalkForwardResult, load_for_evaluation, walk_forward

STRATEGIES = ("cascade", "btc_buy_and_hold", "equal_weight_buy_and_hold", "ma_50_200_crossover")
# secondary variants (not the headline), each logged as its own trial:
# the same signals traded long and short (e.g. with perpetual futures; funding not modelled),
# and a portfolio holding the L1/L2/L3 allocation, rebalanced weekly
LONG_SHORT_VARIANT = "cascade_long_short"
ALLOCATION_VARIANT = "cascade_allocation"
SECONDARY = (LONG_SHORT_VARIANT, ALLOCATION_VARIANT)


def _json_safe(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, float | np.floating):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, pd.Timestamp):
        return obj.isoformat()
    return obj


def portfolio_runs(
    wf: WalkForwardResult, cfg: CascadeConfig, costs: CostModel, signals: pd.DataFrame, alloc: pd.DataFrame
) -> dict:
    data, s, e = wf.data, wf.start, wf.end
    rules = PortfolioRules(allow_short=cfg.portfolio.allow_short, max_gross=cfg.portfolio.max_gross)
    runs = {"cascade": run_signal_portfolio(signals, data, s, e, costs, rules)}
    both = PortfolioRules(allow_short=True, max_gross=cfg.portfolio.max_gross)
    runs[LONG_SHORT_VARIANT] = run_signal_portfolio(signals, data, s, e, costs, both)
    runs["btc_buy_and_hold"] = run_target_weights(baselines.btc_buy_and_hold(data, s), data, s, e, costs)
    runs["equal_weight_buy_and_hold"] = run_target_weights(
        baselines.equal_weight_buy_and_hold(data, s), data, s, e, costs
    )
    runs["ma_50_200_crossover"] = run_target_weights(baselines.ma_crossover(data, s, e), data, s, e, costs)
    runs[ALLOCATION_VARIANT] = run_target_weights(alloc, data, s, e, costs)
    return runs


def evaluate(
    data_dir: str | Path | None,
    start: object,
    end: object,
    out_dir: str | Path,
    config: CascadeConfig | None = None,
    trial_log: str | Path | None = None,
    data: MarketData | None = None,
    workers: int | None = None,
    note: str = "",
) -> dict:
    t_start = time.perf_counter()
    cfg = config or CascadeConfig()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    s, e = to_utc_timestamp(start), to_utc_timestamp(end)
    t0 = time.perf_counter()
    if data is None:
        if data_dir is None:
            raise ValueError("a data directory is required for evaluation")
        data = load_for_evaluation(data_dir, e)
    load_seconds = time.perf_counter() - t0
    assert data.index.max() <= e, "data past TO must never be read"
    wf = walk_forward(data, s, e, cfg, workers)
    preds, ds = wf.predictions, wf.datasets

    t0 = time.perf_counter()
    l1, timeline = l1_metrics(preds, ds, cfg.l1.regime_rule.window)
    l2 = l2_metrics(preds, ds, cfg.l2.n_leading, cfg.l2.n_declining, cfg.l2.horizon_days)
    l3 = l3_metrics(preds, ds, cfg.l3.horizon_days)
    l4_cal, reliability = l4_calibration(preds, ds)

    casc_sig = cascade_signals(preds, ds, cfg)
    every_sig = all_signals(preds, ds, cfg)
    alloc = allocation_weights(preds, ds, cfg)
    base_costs = CostModel(cfg.evaluation.fee, cfg.evaluation.slippage)
    l4_trades, casc_trades, portfolio, portfolio_curves = {}, {}, {}, {}
    for mult in cfg.evaluation.cost_multiples:
        costs = base_costs.scaled(mult)
        key = f"{mult:g}x"
        l4_trades[key] = m.trade_summary(simulate_signal_trades(every_sig, wf.data, costs))
        casc_trades[key] = m.trade_summary(simulate_signal_trades(casc_sig, wf.data, costs))
        runs = portfolio_runs(wf, cfg, costs, casc_sig, alloc)
        portfolio[key] = {
            name: m.performance_summary(r.returns, r.exposure, r.trades) for name, r in runs.items()
        }
        portfolio_curves[key] = {name: r.returns for name, r in runs.items()}
    metrics_seconds = time.perf_counter() - t0

    # trial log and deflated Sharpe
    log = TrialLog(trial_log or out / "trials.jsonl")
    casc_ret = portfolio_curves["1x"]["cascade"]
    entry = log.append(
        {
            "fingerprint": cfg.fingerprint(),
            "window": [str(s.date()), str(e.date())],
            "per_period_sharpe": m.per_period_sharpe(casc_ret),
            "annualized_sharpe": m.sharpe(casc_ret),
            "note": note,
            "config": cfg.as_dict(),
        }
    )
    for variant in SECONDARY:
        ret = portfolio_curves["1x"][variant]
        log.append(
            {
                "fingerprint": f"{cfg.fingerprint()}-{variant}",
                "window": [str(s.date()), str(e.date())],
                "per_period_sharpe": m.per_period_sharpe(ret),
                "annualized_sharpe": m.sharpe(ret),
                "note": (note + " | " if note else "") + f"{variant} (secondary)",
            }
        )
    trial_sharpes = log.sharpe_by_configuration()
    dsr = m.deflated_sharpe(casc_ret, list(trial_sharpes.values()))
    for key in portfolio:
        for name in ("cascade", *SECONDARY):
            portfolio[key][name]["deflated_sharpe"] = m.deflated_sharpe(
                portfolio_curves[key][name], list(trial_sharpes.values())
            )

    p1 = portfolio["1x"]
    btc_dd = p1["btc_buy_and_hold"]["max_drawdown"]
    targets = {
        "cascade_sharpe_above_all_baselines": {
            "value": p1["cascade"]["sharpe"],
            "threshold": max(p1[b]["sharpe"] for b in STRATEGIES[1:]),
            "met": bool(all(p1["cascade"]["sharpe"] > p1[b]["sharpe"] for b in STRATEGIES[1:])),
        },
        "cascade_max_drawdown_at_most_60pct_of_btc": {
            "value": p1["cascade"]["max_drawdown"],
            "threshold": 0.6 * btc_dd,
            "met": bool(p1["cascade"]["max_drawdown"] <= 0.6 * btc_dd),
        },
        "l3_mean_rank_ic_above_0_03": {
            "value": l3["rank_ic"]["mean"],
            "threshold": 0.03,
            "met": bool(l3["rank_ic"]["mean"] > 0.03),
        },
        "l4_profit_factor_above_1_2": {
            "value": l4_trades["1x"]["profit_factor"],
            "threshold": 1.2,
            "met": bool(l4_trades["1x"]["profit_factor"] > 1.2),
        },
        "l4_brier_below_base_rate": {
            "value": l4_cal["brier"],
            "threshold": l4_cal["brier_base_rate"],
            "met": bool(l4_cal["brier"] < l4_cal["brier_base_rate"]),
        },
    }

    plot_files = {
        "equity": plots.equity_and_drawdown(
            portfolio_curves["1x"],
            out / "equity_drawdown.png",
            "Out-of-sample equity and drawdown (1x costs)",
        ).name,
        "equity_3x": plots.equity_and_drawdown(
            portfolio_curves[f"{cfg.evaluation.cost_multiples[-1]:g}x"],
            out / "equity_drawdown_3x.png",
            f"Out-of-sample equity and drawdown ({cfg.evaluation.cost_multiples[-1]:g}x costs)",
        ).name,
        "reliability": plots.reliability_diagram(
            reliability, out / "reliability.png", "L4 calibration: P(long) and P(short), one-vs-rest"
        ).name,
        "regimes": plots.regime_timeline(timeline, out / "regime_timeline.png").name,
    }
    folds = [
        {
            **o.fold.as_dict(),
            "train_cutoffs": o.cutoffs,
            "train_seconds": o.train_seconds,
            "model_meta": o.model_meta,
        }
        for o in wf.folds
    ]
    wall = time.perf_counter() - t_start
    report = {
        "cp_models_version": __version__,
        "window": {
            "from": str(s.date()),
            "to": str(e.date()),
            "days": len(casc_ret),
            "data_first_day": str(wf.data.index[0].date()),
            "data_last_day": str(wf.data.index[-1].date()),
        },
        "universe": {"tradable_symbols": wf.data.tradable, "sectors": dict(wf.data.sectors)},
        "protocol": {
            "scheme": "expanding" if cfg.evaluation.train_window_days is None else "rolling",
            "test_block_days": cfg.evaluation.test_days,
            "embargo_days": cfg.evaluation.embargo_days,
            "label_horizons_days": cfg.label_horizons(),
            "fills": "next bar open; barrier exits at the barrier (or the open when gapped through)",
            "costs_per_side": base_costs.as_dict(),
            "cost_multiples": list(cfg.evaluation.cost_multiples),
            "folds": len(folds),
        },
        "config_fingerprint": cfg.fingerprint(),
        "config": cfg.as_dict(),
        "targets": targets,
        "portfolio": portfolio,
        "layers": {
            "l1": l1,
            "l2": l2,
            "l3": l3,
            "l4": {
                "calibration": l4_cal,
                "reliability_table": reliability,
                "all_asset_signals": l4_trades,
                "cascade_signals": casc_trades,
                "signal_count_all_assets": len(every_sig),
                "signal_count_cascade": len(casc_sig),
            },
        },
        "deflated_sharpe": {
            "value": dsr,
            "configurations_tried": len(trial_sharpes),
            "expected_max_sharpe_per_period": m.expected_max_sharpe(list(trial_sharpes.values())),
        },
        "trial_log": [{k: v for k, v in t.items() if k != "config"} for t in log.entries()],
        "this_trial": {k: v for k, v in entry.items() if k != "config"},
        "folds": folds,
        "timing_seconds": {
            "load": load_seconds,
            **wf.seconds,
            "metrics_and_backtests": metrics_seconds,
            "wall_total": wall,
        },
        "plots": plot_files,
    }
    report = _json_safe(report)
    (out / "report.json").write_text(json.dumps(report, indent=2))
    write_markdown(report, out / "report.md")
    casc_sig.to_csv(out / "cascade_signals.csv", index=False)
    return report
