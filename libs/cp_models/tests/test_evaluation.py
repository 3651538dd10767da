"""End to end on the simulator: walk-forward report, trial log, training artifacts, CLI."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cp_models import cli
from cp_models.evaluation.run import evaluate
from cp_models.evaluation.trials import HISTORY
from cp_models.layers.l1_macro import MacroRegimeModel
from cp_models.layers.l4_timing import TimingModel
from cp_models.training import REGISTRY_NAMES, train_all


@pytest.fixture(scope="module")
def report(sim_data, fast_config, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval")
    start = sim_data.index[-1] - pd.Timedelta(days=239)
    # the data end before TO: nothing after TO exists to be read
    rep = evaluate(None, start, sim_data.index[-1], out, fast_config, data=sim_data, note="test")
    return rep, out


def test_report_files_and_sections(report):
    rep, out = report
    for name in ("report.json", "report.md", "equity_drawdown.png", "cascade_signals.csv"):
        assert (out / name).stat().st_size > 0
    on_disk = json.loads((out / "report.json").read_text())
    assert on_disk["config_fingerprint"] == rep["config_fingerprint"]
    assert set(rep["portfolio"]) == {"1x", "2x", "3x"}
    assert {
        *rep["variants"],
        "btc_buy_and_hold",
        "equal_weight_buy_and_hold",
        "ma_50_200_crossover",
    } <= set(rep["portfolio"]["1x"])
    assert set(rep["layers"]) == {"l1", "l2", "l3", "l4"}
    assert set(rep["targets"]) == {
        "cascade_sharpe_above_all_baselines",
        "cascade_max_drawdown_at_most_60pct_of_btc",
        "cascade_at_least_30_trades_per_year",
        "l3_mean_rank_ic_above_0_03",
        "l4_beats_random_filter_placebo",
    }
    assert len(rep["variants"]) >= 14 and "S1_cascade_continuous_data_coins" in rep["variants"]
    st = rep["statistics"]
    assert set(st["sharpe_difference_vs"]) == {
        "btc_buy_and_hold",
        "equal_weight_buy_and_hold",
        "ma_50_200_crossover",
    }
    for d in st["sharpe_difference_vs"].values():
        assert d["ci_low"] <= d["difference"] <= d["ci_high"]
    assert {"psr_vs_0", "psr_vs_benchmark_sharpe"} == set(st["psr"])
    assert set(st["per_year"]["cascade"]) == {"2021"} and len(st["per_fold"]["cascade"]) == 2
    md = (out / "report.md").read_text()
    assert "## Targets" in md and "Trial log" in md and "## Ablations" in md and "## Per fold" in md


def test_folds_never_train_on_their_test_block(report):
    rep, _ = report
    assert len(rep["folds"]) == 2
    for f in rep["folds"]:
        for cutoff in f["train_cutoffs"].values():
            assert cutoff < f["test_start"]


def test_higher_costs_never_help_buy_and_hold(report):
    rep, _ = report
    p = rep["portfolio"]
    assert p["1x"]["btc_buy_and_hold"]["total_return"] > p["3x"]["btc_buy_and_hold"]["total_return"]


def test_trial_log_grows_and_feeds_the_deflated_sharpe(report, sim_data, fast_config, tmp_path):
    rep, out = report
    assert rep["deflated_sharpe"]["configurations_tried"] >= 1
    lines = [json.loads(x) for x in (out / "trials.jsonl").read_text().splitlines()]
    history = HISTORY.read_text().splitlines()
    assert len([x for x in lines if x["logged_at"] == "earlier session"]) == 5
    assert len(lines) == len(history) + len(rep["variants"])  # history seeded, every variant a trial
    ours = lines[len(history) :]
    assert all(x["note"].startswith("test | ") for x in ours)
    assert ours[0]["fingerprint"] == fast_config.fingerprint()


def test_train_all_writes_loadable_artifacts_with_metadata(fast_config, tmp_path):
    art = train_all(None, fast_config, sim_days=2 * 365, holdout_days=90)
    paths = art.write(tmp_path)
    assert {p.name for p in paths} == {f"{n}.bin" for n in REGISTRY_NAMES.values()} | {"metadata.json"}
    meta = json.loads((tmp_path / "metadata.json").read_text())
    l1_meta = meta["layers"][REGISTRY_NAMES["l1"]]
    assert l1_meta["features"] and "balanced_accuracy" in l1_meta["holdout_metrics"]
    assert "brier_skill" in meta["layers"][REGISTRY_NAMES["l4"]]["holdout_metrics"]
    assert meta["hyper_parameters"]["seed"] == fast_config.seed
    assert meta["data_window"]["start"] < meta["data_window"]["end"]
    MacroRegimeModel.load((tmp_path / f"{REGISTRY_NAMES['l1']}.bin").read_bytes())
    TimingModel.load(art.blobs[REGISTRY_NAMES["l4"]])


def test_cli_parses_both_commands_and_runs_train(monkeypatch, tmp_path, fast_config):
    args = cli.build_parser().parse_args(
        [
            "evaluate",
            "--data",
            "d",
            "--from",
            "2019-01-01",
            "--to",
            "2023-12-31",
            "--out",
            "o",
            "--fee",
            "0.002",
        ]
    )
    assert (args.date_from, args.date_to, args.fee) == ("2019-01-01", "2023-12-31", 0.002)
    assert cli._config(args).evaluation.fee == 0.002

    import cp_models.training as training

    monkeypatch.setattr(
        training,
        "train_all",
        lambda data, cfg, end=None: train_all(data, fast_config, end=end, sim_days=2 * 365, holdout_days=0),
    )
    assert cli.main(["train", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "metadata.json").exists()
