"""The four layers: structured outputs, thresholds, byte artifacts and determinism."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from cp_models.cascade import predict_block
from cp_models.datasets import rows_between
from cp_models.layers.l1_macro import MacroRegimeModel
from cp_models.layers.l2_sector import SectorRotationModel
from cp_models.layers.l3_asset import AssetSelectionModel
from cp_models.layers.l4_timing import CHANNELS, TimingModel, sequence_window
from cp_models.layers.voters import ALL_VOTERS
from cp_models.regimes import REGIMES, RISK_LEVELS
from cp_models.training import train_cascade


def test_l1_result_shape_and_artifact_roundtrip(trained, sim_datasets):
    models, test_start = trained
    blob = models.l1.to_bytes()
    l1 = MacroRegimeModel.load(blob)
    recent = rows_between(sim_datasets.market, test_start - pd.Timedelta(days=40), test_start)
    res = l1.predict(recent)
    assert res.regime in REGIMES and res.risk_level in RISK_LEVELS
    assert sum(res.probabilities.values()) == pytest.approx(1.0)
    assert res.confidence == pytest.approx(max(res.probabilities.values()))
    assert 0.0 <= res.recommended_exposure <= 1.0 and 0.0 <= res.trend_strength <= 1.0
    assert len(res.drivers) == 5 and all(d.feature in l1.features for d in res.drivers)
    assert {"fear_greed", "social", "news", "funding"} <= set(res.sentiment_breakdown)
    assert res.as_dict()["regime"] == res.regime
    with pytest.raises(ValueError):
        SectorRotationModel.load(blob)


def test_l1_smoothing_is_causal(trained, sim_datasets):
    models, test_start = trained
    rows = rows_between(
        sim_datasets.market, test_start - pd.Timedelta(days=60), test_start + pd.Timedelta(days=30)
    )
    full = models.l1.proba(rows)
    cut = models.l1.proba(rows.loc[:test_start])
    pd.testing.assert_frame_equal(full.loc[:test_start], cut)


def test_l2_leading_declining_and_regime_conditioned_allocation(trained, sim_datasets):
    models, test_start = trained
    l2 = SectorRotationModel.load(models.l2.to_bytes())
    rows = sim_datasets.sectors.xs(test_start, level=0)
    rot = sim_datasets.rotation.loc[[test_start]]
    bull = l2.predict(rows, rot, {"regime": "bull", "recommended_exposure": 0.9})
    bear = l2.predict(rows, rot, {"regime": "bear", "recommended_exposure": 0.2})
    assert len(bull.leading_sectors) == 3 and len(bull.declining_sectors) == 2
    assert not set(bull.leading_sectors) & set(bull.declining_sectors)
    scores = bull.momentum_scores
    assert min(scores[s] for s in bull.leading_sectors) >= max(scores[s] for s in bull.declining_sectors)
    assert 0.0 <= bull.rotation_probability <= 1.0
    for res in (bull, bear):
        assert sum(res.recommended_allocation.values()) == pytest.approx(1.0, abs=1e-5)
    risk_off = bear.recommended_allocation["stablecoin"] + bear.recommended_allocation["BTC"]
    risk_on = bull.recommended_allocation["stablecoin"] + bull.recommended_allocation["BTC"]
    assert risk_off > risk_on
    assert set(bull.flow_directions.values()) <= {"inflow", "outflow", "neutral"}


def test_l3_scores_and_suggestions_follow_the_thresholds(trained, sim_datasets):
    models, test_start = trained
    l3 = AssetSelectionModel.load(models.l3.to_bytes())
    rows = sim_datasets.assets.xs(test_start, level=0)
    ranked = list(l3.raw_scores(rows)["deep"].sort_values(ascending=False).index)
    tier1 = [ranked[-1], ranked[0]]  # the worst-scored asset must be demoted
    tier2 = [ranked[1], ranked[-2]]  # the second best promoted, the second worst removed
    res = l3.predict(rows, {"tier1": tier1, "tier2": tier2}, available_assets=ranked)
    by = {(s.symbol, s.action): s for s in res.suggestions}
    assert (ranked[1], "promote_to_tier1") in by and by[(ranked[1], "promote_to_tier1")].confidence > 0.8
    assert (ranked[-1], "demote_to_tier2") in by
    assert (ranked[-2], "remove_from_tier2") in by
    adds = [s for s in res.suggestions if s.action == "add_tier2"]
    assert adds and all(s.confidence > 0.75 and s.symbol not in tier1 + tier2 for s in adds)
    for s in res.suggestions:
        assert s.reason and s.supporting_data
    assert {a.symbol for a in res.tier1_analysis} == set(tier1)
    assert all(0.0 < a.score <= 1.0 for a in res.tier1_analysis)
    assert ranked[-1] not in res.selected_assets
    # demotion also fires on a sharp drop since the previous scan
    mid = ranked[len(ranked) // 2]  # score ~0.5: above the demotion threshold
    steady = l3.predict(rows, {"tier1": [mid]}, previous_scores={mid: 0.55})
    assert [s.action for s in steady.suggestions if s.symbol == mid] == []
    dropped = l3.predict(rows, {"tier1": [mid]}, previous_scores={mid: 0.95})
    assert [s.action for s in dropped.suggestions if s.symbol == mid] == ["demote_to_tier2"]
    assert "fell from 0.95" in dropped.suggestions[0].reason


def test_l3_day_scores_rank_every_row_in_the_books_order(trained, sim_datasets):
    """``day_scores`` cover every row (also one without a 30-day return, which the tier scores
    leave out) in the order of the raw deep prediction the book ranks."""
    models, test_start = trained
    rows = sim_datasets.assets.xs(test_start, level=0).copy()
    young = rows.index[3]
    rows.loc[young, "mom_30d"] = np.nan
    res = models.l3.predict(rows, {"tier1": list(rows.index[:5])})
    raw = models.l3.raw_scores(rows)["deep"]
    assert set(res.day_scores) == set(rows.index)
    day = pd.Series(res.day_scores)[raw.index]
    assert (day.rank() == raw.rank()).all() and day.between(0, 1, inclusive="right").all()
    assert young not in {a.symbol for a in res.tier1_analysis}
    without_young = models.l3.predict(rows.drop(index=young), {"tier1": list(rows.index[:5])})
    assert [(a.symbol, a.score) for a in res.tier1_analysis] == [
        (a.symbol, a.score) for a in without_young.tier1_analysis
    ]


def test_l4_signal_carries_barriers_size_and_expiry(trained, sim_datasets, fast_config):
    models, test_start = trained
    l4 = TimingModel.load(models.l4.to_bytes())
    l4 = TimingModel(
        l4.spec,
        l4.state,
        l4.static_mean,
        l4.static_std,
        l4.temperature,
        l4.voter_weights,
        fast_config.l4.__class__(min_probability=0.0, min_agreement=0.0),
        l4.meta,
    )
    sym = sim_datasets.assets.xs(test_start, level=0).index[0]
    channels = pd.DataFrame({c: sim_datasets.features.sequence[c][sym] for c in CHANNELS}).loc[:test_start]
    row = sim_datasets.assets.loc[[(test_start, sym)]]
    when = datetime(2021, 6, 1, tzinfo=UTC)
    res = l4.predict(
        sym,
        sequence_window(channels, l4.config.sequence_length),
        row,
        close=100.0,
        macro={"regime": "bull", "recommended_exposure": 0.8, "risk_level": "medium"},
        generated_at=when,
    )
    assert sum(res.probabilities.values()) == pytest.approx(1.0)
    assert set(res.votes) == set(ALL_VOTERS)
    s = res.signal
    assert s is not None and s.signal_type in ("long", "short")
    if s.signal_type == "long":
        assert s.stop_loss < s.entry_price < s.target_price
    else:
        assert s.target_price < s.entry_price < s.stop_loss
    assert s.risk_reward_ratio == pytest.approx(abs(s.target_price - 100) / abs(100 - s.stop_loss))
    assert 0.0 <= s.position_size <= l4.config.max_weight
    assert s.time_horizon_hours == l4.config.barriers.horizon_days * 24
    assert datetime.fromisoformat(s.expires_at) - datetime.fromisoformat(s.generated_at) == pd.Timedelta(
        hours=s.time_horizon_hours
    )


def test_l4_gate_requires_probability_and_agreement(trained, sim_datasets):
    models, test_start = trained
    block = predict_block(models, sim_datasets, test_start, test_start + pd.Timedelta(days=30))
    d = block.l4
    emitted = d[d["side"] != ""]
    assert (emitted["probability"] >= 0.7).all() and (emitted["agreement"] >= 2 / 3 - 1e-9).all()
    blocked = d[(d["side"] == "") & ((d["p_long"] >= 0.7) | (d["p_short"] >= 0.7))]
    assert ((blocked[["agree_long", "agree_short"]].max(axis=1)) < 2 / 3).all()
    np.testing.assert_allclose(d[["p_long", "p_short", "p_no_trade"]].sum(axis=1), 1.0, rtol=1e-6)


def test_same_data_and_seed_give_the_same_models(sim_datasets, fast_config, trained):
    models, test_start = trained
    again = train_cascade(sim_datasets, None, test_start, fast_config)
    rows = sim_datasets.assets.xs(test_start, level=0, drop_level=False)
    np.testing.assert_array_equal(models.l3.raw_scores(rows).to_numpy(), again.l3.raw_scores(rows).to_numpy())
    np.testing.assert_array_equal(
        models.l4.proba(sim_datasets.store, rows), again.l4.proba(sim_datasets.store, rows)
    )
    assert models.l4.state == again.l4.state
    mk = sim_datasets.market.loc[:test_start].tail(30)
    pd.testing.assert_frame_equal(models.l1.proba(mk), again.l1.proba(mk))
