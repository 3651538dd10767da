"""Markdown rendering of the evaluation report (every number comes from report.json)."""

from __future__ import annotations

from pathlib import Path

NAMES = {
    "cascade": "Cascade portfolio",
    "btc_buy_and_hold": "BTC buy & hold",
    "equal_weight_buy_and_hold": "Equal-weight buy & hold",
    "ma_50_200_crossover": "BTC 50/200 MA crossover",
    "cascade_long_short": "Cascade incl. short signals (secondary)",
    "cascade_allocation": "Cascade allocation variant (secondary)",
}


def fmt(v: object, pct: bool = False, digits: int = 2) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        v = v + 0.0  # no "-0.0"
        return f"{100 * v:.{max(digits - 1, 1)}f}%" if pct else f"{v:.{digits}f}"
    return str(v)


def portfolio_table(p: dict) -> list[str]:
    lines = [
        "| strategy | total return | CAGR | Sharpe | Sortino | Calmar | max DD | time in market "
        "| trades | PSR |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, name in NAMES.items():
        r = p[key]
        lines.append(
            f"| {name} | {fmt(r['total_return'], True)} | {fmt(r['cagr'], True)} | {fmt(r['sharpe'])} | "
            f"{fmt(r['sortino'])} | {fmt(r['calmar'])} | {fmt(r['max_drawdown'], True)} | "
            f"{fmt(r['time_in_market'], True)} | {r['trades']} | {fmt(r['psr'])} |"
        )
    return lines


def write_markdown(rep: dict, path: Path) -> Path:
    w = rep["window"]
    pr = rep["protocol"]
    lines = [
        f"# CryptoPredict cascade: walk-forward evaluation {w['from']} .. {w['to']}",
        "",
        f"Out of sample, net of costs. {pr['folds']} folds, {pr['scheme']} training window, test blocks of "
        f"{pr['test_block_days']} days, purge = each layer's label horizon {pr['label_horizons_days']}, "
        f"embargo {pr['embargo_days']} days. Fills: {pr['fills']}. Costs per side: fee "
        f"{pr['costs_per_side']['fee']:.2%}, slippage {pr['costs_per_side']['slippage']:.2%}. "
        f"Data used: {w['data_first_day']} .. {w['data_last_day']} "
        f"(history before {w['from']} only for training). "
        f"Config `{rep['config_fingerprint']}`. Wall time {rep['timing_seconds']['wall_total']:.0f} s.",
        "",
        "## Targets",
        "",
        "| target | value | threshold | met |",
        "|---|---:|---:|---|",
    ]
    for k, t in rep["targets"].items():
        lines.append(
            f"| {k} | {fmt(t['value'], digits=3)} | {fmt(t['threshold'], digits=3)} | {fmt(t['met'])} |"
        )
    lines += ["", "## Portfolio vs baselines (1x costs)", "", *portfolio_table(rep["portfolio"]["1x"]), ""]
    d = rep["deflated_sharpe"]
    lines += [
        f"Deflated Sharpe ratio of the cascade portfolio: {fmt(d['value'], digits=3)} "
        f"({d['configurations_tried']} configuration(s) in the trial log; "
        f"expected maximum per-period Sharpe of "
        f"unskilled trials {fmt(d['expected_max_sharpe_per_period'], digits=4)}).",
        "",
        "### Cost sensitivity (Sharpe / total return / max drawdown)",
        "",
        "| strategy | " + " | ".join(rep["portfolio"]) + " |",
        "|---|" + "---:|" * len(rep["portfolio"]),
    ]
    for key, name in NAMES.items():
        cells = [
            f"{fmt(rep['portfolio'][c][key]['sharpe'])} / "
            f"{fmt(rep['portfolio'][c][key]['total_return'], True)} / "
            f"{fmt(rep['portfolio'][c][key]['max_drawdown'], True)}"
            for c in rep["portfolio"]
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    L = rep["layers"]
    l1 = L["l1"]
    lines += [
        "",
        "## L1 macro regime",
        "",
        f"Accuracy on the realized next-30-day regime: {fmt(l1['accuracy'], True)} (baselines: "
        + ", ".join(f"{k} {fmt(v, True)}" for k, v in l1["baseline_accuracy"].items())
        + f"); balanced accuracy {fmt(l1['balanced_accuracy'], True)} (baselines: "
        + ", ".join(f"{k} {fmt(v, True)}" for k, v in l1["baseline_balanced_accuracy"].items())
        + ").",
        "Forward 30-day BTC log-return spread bull minus bear: "
        f"{fmt(l1['forward_return_spread_bull_minus_bear'], digits=4)}; "
        "forward volatility spread volatile minus rest: "
        f"{fmt(l1['forward_vol_spread_volatile_minus_rest'], digits=4)}.",
        f"Regime durations: mean {fmt(l1['regime_durations']['mean_days'], digits=1)} days, median "
        f"{fmt(l1['regime_durations']['median_days'], digits=1)}, "
        f"{l1['regime_durations']['switches']} switches.",
        "",
        "| predicted regime | days | mean fwd 30d log return | mean fwd 30d vol |",
        "|---|---:|---:|---:|",
    ]
    for r, v in l1["by_predicted_regime"].items():
        lines.append(
            f"| {r} | {v['days']} | {fmt(v['mean_forward_30d_log_return'], digits=4)} | "
            f"{fmt(v['mean_forward_30d_volatility'], digits=3)} |"
        )
    l2 = L["l2"]
    lines += [
        "",
        "## L2 sector rotation",
        "",
        "Rank IC of sector scores vs next-30-day relative returns: "
        f"mean {fmt(l2['rank_ic']['mean'], digits=4)}, "
        f"ICIR {fmt(l2['rank_ic']['icir'], digits=3)}, t-stat (non-overlapping) "
        f"{fmt(l2['rank_ic'].get('t_stat_non_overlapping'), digits=2)} over {l2['rank_ic']['days']} days "
        f"(raw 30-day momentum: {fmt(l2['rank_ic_of_raw_30d_momentum']['mean'], digits=4)}).",
        "Top-3 minus bottom-2 forward relative return: "
        f"{fmt(l2['top_minus_bottom_forward_relative_return']['mean'], digits=4)} (positive on "
        f"{fmt(l2['top_minus_bottom_forward_relative_return']['positive_share'], True)} of days); "
        f"leading-set daily turnover {fmt(l2['leading_set_daily_turnover'], True)}.",
        f"Rotation probability Brier {fmt(l2['rotation_probability_brier'], digits=4)} vs base rate "
        f"{fmt(l2['rotation_base_rate_brier'], digits=4)}.",
    ]
    l3 = L["l3"]
    lines += [
        "",
        "## L3 asset selection",
        "",
        "| metric | value |",
        "|---|---:|",
        f"| IC (Pearson) mean | {fmt(l3['ic']['mean'], digits=4)} |",
        f"| rank IC mean | {fmt(l3['rank_ic']['mean'], digits=4)} |",
        f"| rank ICIR (daily) | {fmt(l3['rank_ic']['icir'], digits=3)} |",
        f"| rank IC t-stat (non-overlapping) | "
        f"{fmt(l3['rank_ic'].get('t_stat_non_overlapping'), digits=2)} |",
        f"| rank IC positive days | {fmt(l3['rank_ic'].get('positive_share'), True)} |",
        f"| precision@5 (random) | {fmt(l3['precision_at_5'], digits=3)} "
        f"({fmt(l3['precision_at_5_random'], digits=3)}) |",
        f"| light-scan rank IC | {fmt(l3['light_model_rank_ic']['mean'], digits=4)} |",
        f"| raw 30d momentum rank IC | {fmt(l3['raw_30d_momentum_rank_ic']['mean'], digits=4)} |",
        f"| top - bottom quintile fwd risk-adj. return | "
        f"{fmt(l3['top_minus_bottom_quintile_forward_risk_adjusted_return'], digits=4)} |",
    ]
    l4 = L["l4"]
    cal = l4["calibration"]
    lines += [
        "",
        "## L4 timing",
        "",
        f"Calibration over {cal['samples']} asset-days: Brier {fmt(cal['brier'], digits=4)} "
        f"vs base-rate predictor {fmt(cal['brier_base_rate'], digits=4)}; "
        f"ECE (long/short pooled) {fmt(cal['ece_long_short_pooled'], digits=4)}; "
        f"asset-days with P(long) or P(short) >= 0.7: {cal['rows_with_probability_at_least_0_7']}.",
        "",
        "| signals | costs | trades | hit rate | expectancy | profit factor | SQN | target-before-stop |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, block in (("all assets", l4["all_asset_signals"]), ("cascade tier-1", l4["cascade_signals"])):
        for c, t in block.items():
            lines.append(
                f"| {label} | {c} | {t['trades']} | {fmt(t['hit_rate'], True)} | "
                f"{fmt(t['expectancy'], True, 3)} | "
                f"{fmt(t['profit_factor'])} | {fmt(t['sqn'])} | {fmt(t['target_before_stop_share'], True)} |"
            )
    lines += [
        "",
        "Reliability (P(long), P(short) pooled, one-vs-rest):",
        "",
        "| bin | count | mean predicted | observed |",
        "|---|---:|---:|---:|",
    ]
    for b in l4["reliability_table"]:
        if b["count"]:
            lines.append(
                f"| {b['bin_low']:.1f}-{b['bin_high']:.1f} | {b['count']} | "
                f"{fmt(b['mean_predicted'], digits=3)} | {fmt(b['observed_frequency'], digits=3)} |"
            )
    lines += [
        "",
        "## Folds",
        "",
        "| fold | train from | test | L4 epochs | L4 temperature | train s |",
        "|---:|---|---|---:|---:|---:|",
    ]
    for f in rep["folds"]:
        l4m = f["model_meta"]["l4"]
        lines.append(
            f"| {f['fold']} | {f['train_start']} | {f['test_start']} .. {f['test_end']} | "
            f"{l4m.get('epochs_run')} | {fmt(l4m.get('temperature'), digits=3)} | "
            f"{fmt(sum(f['train_seconds'].values()), digits=1)} |"
        )
    lines += [
        "",
        "## Trial log",
        "",
        "| logged at | fingerprint | window | annualized Sharpe | note |",
        "|---|---|---|---:|---|",
    ]
    for t in rep["trial_log"]:
        lines.append(
            f"| {t.get('logged_at')} | `{t.get('fingerprint')}` | {' .. '.join(t.get('window', []))} | "
            f"{fmt(t.get('annualized_sharpe'))} | {t.get('note', '')} |"
        )
    lines += ["", "## Plots", ""]
    for name, file in rep["plots"].items():
        lines.append(f"![{name}]({file})")
    ts = rep["timing_seconds"]
    lines += ["", "Timing (s): " + ", ".join(f"{k} {v:.1f}" for k, v in ts.items()), ""]
    path.write_text("\n".join(lines))
    return path
