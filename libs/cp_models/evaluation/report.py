"""Markdown rendering of the evaluation report (every number comes from report.json)."""

from __future__ import annotations

from pathlib import Path

NAMES = {
    "cascade": "Cascade (full design)",
    "btc_buy_and_hold": "BTC buy & hold",
    "equal_weight_buy_and_hold": "Equal-weight buy & hold",
    "ma_50_200_crossover": "BTC 50/200 MA crossover",
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


def headline_table(p: dict) -> list[str]:
    lines = [
        "| strategy | total return | CAGR | Sharpe | max DD | trades/year | Sharpe 2x | Sharpe 3x |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, name in NAMES.items():
        r = p["1x"][key]
        lines.append(
            f"| {name} | {fmt(r['total_return'], True)} | {fmt(r['cagr'], True)} | {fmt(r['sharpe'])} | "
            f"{fmt(r['max_drawdown'], True)} | {fmt(r['trades_per_year'], digits=1)} | "
            f"{fmt(p['2x'][key]['sharpe'])} | {fmt(p['3x'][key]['sharpe'])} |"
        )
    return lines


def ablation_table(rep: dict) -> list[str]:
    p = rep["portfolio"]["1x"]
    lines = [
        "| variant | Sharpe | CAGR | max DD | trades/year | turnover/year | cost share | DSR | Sharpe 3x |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in rep["variants"]:
        r = p[name]
        lines.append(
            f"| {name} | {fmt(r['sharpe'])} | {fmt(r['cagr'], True)} | {fmt(r['max_drawdown'], True)} | "
            f"{fmt(r['trades_per_year'], digits=1)} | {fmt(r.get('turnover_per_year'), digits=1)} | "
            f"{fmt(r.get('cost_share'), True)} | {fmt(r.get('deflated_sharpe'))} | "
            f"{fmt(rep['portfolio']['3x'][name]['sharpe'])} |"
        )
    return lines


def ci_lines(title: str, block: dict) -> list[str]:
    lines = [f"| {title} | difference | 95 % CI | P(diff <= 0) |", "|---|---:|---:|---:|"]
    for k, d in block.items():
        lines.append(
            f"| {k} | {fmt(d['difference'])} | [{fmt(d['ci_low'])}, {fmt(d['ci_high'])}] | "
            f"{fmt(d['p_below_zero'])} |"
        )
    return lines


def period_table(block: dict) -> list[str]:
    names = list(block)
    periods = list(block[names[0]])
    lines = [
        "| period | " + " | ".join(NAMES.get(n, n) for n in names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    for per in periods:
        cells = [
            f"{fmt(block[n][per]['sharpe'])} / {fmt(block[n][per]['max_drawdown'], True)}" for n in names
        ]
        lines.append(f"| {per} | " + " | ".join(cells) + " |")
    return lines


def layer_lines(layers: dict) -> list[str]:
    l3, l4, l2, l1 = layers["l3"], layers["l4"], layers["l2"], layers["l1"]
    ric = l3["rank_ic"]
    lines = [
        "| layer | metric | value |",
        "|---|---|---:|",
        f"| L3 | rank IC mean (ICIR; t non-overlapping) | {fmt(ric['mean'], digits=4)} "
        f"({fmt(ric.get('icir'), digits=3)}; {fmt(ric.get('t_stat_non_overlapping'))}) |",
        f"| L3 | raw 30-day momentum rank IC | {fmt(l3['raw_30d_momentum_rank_ic']['mean'], digits=4)} |",
        f"| L2 | rank IC mean | {fmt(l2['rank_ic']['mean'], digits=4)} |",
        f"| L2 | rotation Brier vs training base rate | {fmt(l2['rotation_probability_brier'], digits=4)} vs "
        f"{fmt(l2['rotation_base_rate_brier'], digits=4)} |",
        f"| L1 (display model) | accuracy / balanced accuracy | {fmt(l1.get('accuracy'), True)} / "
        f"{fmt(l1.get('balanced_accuracy'), True)} |",
    ]
    if l4.get("candidates"):
        for k in ("passed", "rejected"):
            d = l4[k]
            lines.append(
                f"| L4 | candidates {k}: count, precision, mean net 7-day return | {d['count']}, "
                f"{fmt(d['precision'], True)}, {fmt(d['mean_net_return'], True, 3)} |"
            )
        lines.append(
            f"| L4 | Brier vs training base rate | {fmt(l4['brier'], digits=4)} vs "
            f"{fmt(l4['brier_training_base_rate'], digits=4)} |"
        )
    gates = ", ".join(f"{fmt(f.get('tau'))} ({f.get('status')})" for f in l4.get("folds", []))
    lines.append(f"| L4 | gate tau per fold (status) | {gates} |")
    return lines


def write_markdown(rep: dict, path: Path) -> Path:
    w, pr = rep["window"], rep["protocol"]
    lines = [
        f"# CryptoPredict cascade: walk-forward evaluation {w['from']} .. {w['to']}",
        "",
        f"Out of sample, net of costs. {pr['folds']} folds, {pr['scheme']} training window, test blocks of "
        f"{pr['test_block_days']} days, purge = label horizons {pr['label_horizons_days']}, embargo "
        f"{pr['embargo_days']} days. Fills: {pr['fills']}. Costs per side: fee "
        f"{pr['costs_per_side']['fee']:.2%}, slippage {pr['costs_per_side']['slippage']:.2%}. "
        f"Data used {w['data_first_day']} .. {w['data_last_day']}. "
        f"Config `{rep['config_fingerprint']}`. Wall time {rep['timing_seconds']['wall_total']:.0f} s.",
        "",
        "## Targets (1x costs)",
        "",
        "| target | value | threshold | met |",
        "|---|---:|---:|---|",
    ]
    for k, t in rep["targets"].items():
        lines.append(
            f"| {k} | {fmt(t['value'], digits=3)} | {fmt(t['threshold'], digits=3)} | {fmt(t['met'])} |"
        )
    st = rep["statistics"]
    d = rep["deflated_sharpe"]
    lines += [
        "",
        "## Headline (net of 1x costs; Sharpe also at 2x / 3x)",
        "",
        *headline_table(rep["portfolio"]),
        "",
    ]
    lines += [
        f"PSR of the cascade vs 0: {fmt(st['psr']['psr_vs_0'], digits=3)}; vs BTC buy & hold's Sharpe: "
        f"{fmt(st['psr']['psr_vs_benchmark_sharpe'], digits=3)}. "
        f"Deflated Sharpe: {fmt(d['value'], digits=3)} "
        f"({d['configurations_tried']} configurations on this window in the trial log).",
        "",
        f"Sharpe difference, {st['bootstrap']['kind']} bootstrap ({st['bootstrap']['reps']} resamples, mean "
        f"block {st['bootstrap']['mean_block_days']} days):",
        "",
        *ci_lines("cascade minus", st["sharpe_difference_vs"]),
        "",
        "## Ablations (1x costs; each a trial)",
        "",
        *ablation_table(rep),
        "",
        "Marginal value of each layer (full cascade minus the variant without it):",
        "",
        "| layer | variant without it | Sharpe gain | max DD change |",
        "|---|---|---:|---:|",
    ]
    for layer, g in rep["marginal_layers"].items():
        lines.append(
            f"| {layer} | {g['without']} | {fmt(g['sharpe_gain'])} | {fmt(g['max_drawdown_change'], True)} |"
        )
    lines += ["", *ci_lines("placebo (first minus second)", st["placebos"]), ""]
    lines += ["## Per year (Sharpe / max DD)", "", *period_table(st["per_year"]), ""]
    lines += ["## Per fold (Sharpe / max DD)", "", *period_table(st["per_fold"]), ""]
    lines += ["## Layers", "", *layer_lines(rep["layers"]), ""]
    ends = rep["universe"]["data_end"]
    gone = {s: v for s, v in ends.items() if v["reason"] != "trading at the end"}
    lines += [
        "## Universe",
        "",
        f"Coins whose data end before the window does: {len(gone)} "
        + ", ".join(f"{s} ({v['last_day']}, {v['reason']})" for s, v in sorted(gone.items())),
        "",
        "## Trial log",
        "",
        "| logged | fingerprint | window | annualized Sharpe | note |",
        "|---|---|---|---:|---|",
    ]
    for t in rep["trial_log"]:
        lines.append(
            f"| {t.get('logged_at', '')} | `{t.get('fingerprint', '')}` | {t.get('window')} | "
            f"{fmt(t.get('annualized_sharpe'))} | {t.get('note', '')} |"
        )
    path.write_text("\n".join(lines) + "\n")
    return path
