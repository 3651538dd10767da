"""``evaluate(data_dir, FROM, TO, OUT)``: walk-forward, the book and its ablations, metrics,
statistics, trial log and report (compute -> judge -> report -> write)."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd

from cp_models import __version__
from cp_models.backtest import metrics as m
from cp_models.backtest.book import BookRun, run_book
from cp_models.backtest.costs import CostModel
from cp_models.backtest.portfolio import BacktestResult, run_target_weights
from cp_models.book import BookVariant
from cp_models.config import CascadeConfig
from cp_models.data import MarketData, to_utc_timestamp
from cp_models.evaluation import baselines, plots
from cp_models.evaluation.ablations import CONTINUOUS, LEAVE_ONE_OUT, PLACEBOS, with_sensitivity
from cp_models.evaluation.layer_metrics import l1_metrics, l2_metrics, l3_metrics, l4_meta_metrics
from cp_models.evaluation.report import write_markdown
from cp_models.evaluation.statistics import (
    BOOTSTRAP_REPS,
    MEAN_BLOCK_DAYS,
    period_stats,
    psr_against,
    sharpe_difference_ci,
    stationary_indices,
    year_periods,
)
from cp_models.evaluation.trials import TrialLog, seed_history
from cp_models.evaluation.universe import data_end_reasons
from cp_models.evaluation.walkforward import WalkForwardResult, load_for_evaluation, walk_forward

BASELINES = ("btc_buy_and_hold", "equal_weight_buy_and_hold", "ma_50_200_crossover")
HEADLINE = "cascade"
Runs = dict[str, BookRun | BacktestResult]


def _json_safe(obj: object) -> object:
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, float | np.floating):
        f = float(obj)
        return f if math.isfinite(f) else None
    if isinstance(obj, np.integer | np.bool_):
        return obj.item()
    if isinstance(obj, pd.Timestamp):
        return obj.isoformat()
    return obj


def _result(run: BookRun | BacktestResult) -> BacktestResult:
    return run.result if isinstance(run, BookRun) else run


def baseline_runs(wf: WalkForwardResult, costs: CostModel) -> dict[str, BacktestResult]:
    data, s, e = wf.data, wf.start, wf.end
    return {
        "btc_buy_and_hold": run_target_weights(baselines.btc_buy_and_hold(data, s), data, s, e, costs),
        "equal_weight_buy_and_hold": run_target_weights(
            baselines.equal_weight_buy_and_hold(data, s), data, s, e, costs
        ),
        "ma_50_200_crossover": run_target_weights(baselines.ma_crossover(data, s, e), data, s, e, costs),
    }


def all_runs(wf: WalkForwardResult, variants: tuple[BookVariant, ...], costs: CostModel) -> Runs:
    runs: Runs = dict(baseline_runs(wf, costs))
    for v in variants:
        runs[v.name] = run_book(wf.signals(v.name), wf.data, wf.start, wf.end, costs)
    return runs


def summary(run: BookRun | BacktestResult) -> dict:
    r = _result(run)
    out = m.performance_summary(r.returns, r.exposure, r.trades)
    years = max(len(r.returns) / 365.0, 1e-9)
    out["trades_per_year"] = r.trades / years
    if isinstance(run, BookRun):
        out.update(
            signals_followed=len(run.lots),
            turnover_per_year=run.turnover_per_year,
            cost_share=run.cost_share,
            exits={str(k): int(v) for k, v in run.lots["status"].value_counts().items()}
            if len(run.lots)
            else {},
        )
    return out


def compute(
    wf: WalkForwardResult, cfg: CascadeConfig, variants: tuple[BookVariant, ...]
) -> tuple[dict, dict]:
    """Backtests of every variant and baseline at every cost multiple: (summaries, return curves)."""
    base = CostModel(cfg.evaluation.fee, cfg.evaluation.slippage)
    summaries, curves = {}, {}
    for mult in cfg.evaluation.cost_multiples:
        runs = all_runs(wf, variants, base.scaled(mult))
        key = f"{mult:g}x"
        summaries[key] = {name: summary(r) for name, r in runs.items()}
        curves[key] = {name: _result(r).returns for name, r in runs.items()}
    return summaries, curves


def statistics(curves: dict[str, pd.Series], wf: WalkForwardResult, seed: int) -> dict:
    casc = curves[HEADLINE]
    idx = pd.DatetimeIndex(casc.index)
    folds = [(f"fold {o.fold.number}", o.fold.test_start, o.fold.test_end) for o in wf.folds]
    boot = stationary_indices(len(casc), BOOTSTRAP_REPS, MEAN_BLOCK_DAYS, np.random.default_rng(seed))
    names = [HEADLINE, *BASELINES]
    return {
        "per_year": {n: period_stats(curves[n], year_periods(idx)) for n in names},
        "per_fold": {n: period_stats(curves[n], folds) for n in names},
        "psr": psr_against(casc, curves["btc_buy_and_hold"]),
        "sharpe_difference_vs": {b: sharpe_difference_ci(casc, curves[b], boot) for b in BASELINES},
        "placebos": {k: sharpe_difference_ci(curves[a], curves[b], boot) for k, (a, b) in PLACEBOS.items()},
        "bootstrap": {
            "reps": BOOTSTRAP_REPS,
            "mean_block_days": MEAN_BLOCK_DAYS,
            "kind": "paired stationary",
        },
    }


def log_trials(
    log: TrialLog,
    cfg: CascadeConfig,
    window: list[str],
    curves: dict[str, pd.Series],
    variants: tuple[BookVariant, ...],
    note: str,
) -> list[dict]:
    rows = []
    for v in variants:
        ret = curves[v.name]
        fp = cfg.fingerprint() if v.name == HEADLINE else f"{cfg.fingerprint()}-{v.name}"
        rows.append(
            log.append(
                {
                    "fingerprint": fp,
                    "window": window,
                    "per_period_sharpe": m.per_period_sharpe(ret),
                    "annualized_sharpe": m.sharpe(ret),
                    "note": (note + " | " if note else "") + v.name,
                }
            )
        )
    return rows


def judge(p1: dict, layers: dict) -> dict:
    c = p1[HEADLINE]
    btc_dd = p1["btc_buy_and_hold"]["max_drawdown"]
    best = max(p1[b]["sharpe"] for b in BASELINES)
    placebo = p1["G4_cascade_with_random_filter"]["sharpe"]

    def t(value: float, threshold: float, met: bool) -> dict:
        return {"value": value, "threshold": threshold, "met": bool(met)}

    return {
        "cascade_sharpe_above_all_baselines": t(c["sharpe"], best, c["sharpe"] > best),
        "cascade_max_drawdown_at_most_60pct_of_btc": t(
            c["max_drawdown"], 0.6 * btc_dd, c["max_drawdown"] <= 0.6 * btc_dd
        ),
        "cascade_at_least_30_trades_per_year": t(c["trades_per_year"], 30.0, c["trades_per_year"] >= 30),
        "l3_mean_rank_ic_above_0_03": t(
            layers["l3"]["rank_ic"]["mean"], 0.03, layers["l3"]["rank_ic"]["mean"] > 0.03
        ),
        "l4_beats_random_filter_placebo": t(c["sharpe"], placebo, c["sharpe"] > placebo),
    }


def marginal_layers(p1: dict) -> dict:
    full = p1[HEADLINE]
    return {
        layer: {
            "without": name,
            "sharpe_gain": full["sharpe"] - p1[name]["sharpe"],
            "max_drawdown_change": full["max_drawdown"] - p1[name]["max_drawdown"],
        }
        for layer, name in LEAVE_ONE_OUT.items()
    }


def layer_section(wf: WalkForwardResult, cfg: CascadeConfig) -> dict:
    preds, ds = wf.predictions, wf.datasets
    l1, _timeline = l1_metrics(preds, ds, cfg.l1.regime_rule.window)
    cost = 2.0 * (cfg.evaluation.fee + cfg.evaluation.slippage)
    return {
        "l1": l1,
        "l2": l2_metrics(preds, ds, cfg.l2.n_leading, cfg.l2.n_declining, cfg.l2.horizon_days, wf.folds),
        "l3": l3_metrics(preds, ds, cfg.l3.horizon_days),
        "l4": l4_meta_metrics(
            wf.candidates(), ds.meta_forward, cost, [o.model_meta.get("l4_meta_label", {}) for o in wf.folds]
        ),
    }


def continuous_symbols(data: MarketData, end: pd.Timestamp) -> list[str]:
    reasons = data_end_reasons(data, end)
    return [s for s, r in reasons.items() if r["reason"] == "trading at the end"]


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
    if data.index.max() > e:
        raise ValueError("data past TO must never be read")
    variants = with_sensitivity(continuous_symbols(data, e))
    wf = walk_forward(data, s, e, cfg, workers, variants)
    t0 = time.perf_counter()
    layers = layer_section(wf, cfg)
    portfolio, curves = compute(wf, cfg, variants)
    stats = statistics(curves["1x"], wf, cfg.seed)
    metrics_seconds = time.perf_counter() - t0
    window = [str(s.date()), str(e.date())]
    log = TrialLog(trial_log or out / "trials.jsonl")
    seed_history(log)
    logged = log_trials(log, cfg, window, curves["1x"], variants, note)
    trial_sharpes = log.sharpe_by_configuration(window)
    for key in portfolio:
        for v in variants:
            portfolio[key][v.name]["deflated_sharpe"] = m.deflated_sharpe(
                curves[key][v.name], list(trial_sharpes.values())
            )
    report = {
        "cp_models_version": __version__,
        "window": {
            "from": window[0],
            "to": window[1],
            "days": len(curves["1x"][HEADLINE]),
            "data_first_day": str(wf.data.index[0].date()),
            "data_last_day": str(wf.data.index[-1].date()),
        },
        "universe": {
            "tradable_symbols": wf.data.tradable,
            "sectors": dict(wf.data.sectors),
            "data_end": data_end_reasons(wf.data, e),
            "continuous_data_symbols": sorted(continuous_symbols(wf.data, e)),
        },
        "protocol": protocol(cfg, len(wf.folds)),
        "config_fingerprint": cfg.fingerprint(),
        "config": cfg.as_dict(),
        "targets": judge(portfolio["1x"], layers),
        "portfolio": portfolio,
        "variants": [v.name for v in variants],
        "sensitivity": CONTINUOUS,
        "marginal_layers": marginal_layers(portfolio["1x"]),
        "statistics": stats,
        "layers": layers,
        "deflated_sharpe": {
            "value": portfolio["1x"][HEADLINE]["deflated_sharpe"],
            "configurations_tried": len(trial_sharpes),
            "expected_max_sharpe_per_period": m.expected_max_sharpe(list(trial_sharpes.values())),
        },
        "trial_log": [{k: v for k, v in t.items() if k != "config"} for t in log.entries()],
        "this_run_trials": len(logged),
        "folds": [
            {
                **o.fold.as_dict(),
                "train_cutoffs": o.cutoffs,
                "train_seconds": o.train_seconds,
                "model_meta": o.model_meta,
            }
            for o in wf.folds
        ],
        "timing_seconds": {"load": load_seconds, **wf.seconds, "metrics_and_backtests": metrics_seconds},
    }
    return write(report, out, curves, wf, t_start)


def protocol(cfg: CascadeConfig, folds: int) -> dict:
    return {
        "scheme": "expanding" if cfg.evaluation.train_window_days is None else "rolling",
        "test_block_days": cfg.evaluation.test_days,
        "embargo_days": cfg.evaluation.embargo_days,
        "label_horizons_days": cfg.label_horizons(),
        "fills": (
            "next open; take-profit at the target (or the open when gapped above); "
            "stop on close exits at the next open; expiry at the open"
        ),
        "costs_per_side": CostModel(cfg.evaluation.fee, cfg.evaluation.slippage).as_dict(),
        "cost_multiples": list(cfg.evaluation.cost_multiples),
        "folds": folds,
    }


def write(report: dict, out: Path, curves: dict, wf: WalkForwardResult, t_start: float) -> dict:
    shown = [HEADLINE, *BASELINES]
    report["plots"] = {
        "equity": plots.equity_and_drawdown(
            {k: curves["1x"][k] for k in shown},
            out / "equity_drawdown.png",
            "Out-of-sample equity and drawdown (1x costs)",
        ).name,
    }
    report["timing_seconds"]["wall_total"] = time.perf_counter() - t_start
    safe = _json_safe(report)
    assert isinstance(safe, dict)
    (out / "report.json").write_text(json.dumps(safe, indent=2))
    write_markdown(safe, out / "report.md")
    pd.DataFrame([sig.as_dict() for sig in wf.signals(HEADLINE)]).drop(
        columns=["evidence"], errors="ignore"
    ).to_csv(out / "cascade_signals.csv", index=False)
    return safe
