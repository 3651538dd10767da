from __future__ import annotations

import itertools

import pandas as pd

from cp_models.config import CascadeConfig
from cp_models.training import layer_cutoffs
from cp_models.validation import purged_train_mask, walk_forward_folds

T = lambda s: pd.Timestamp(s, tz="UTC")  # noqa: E731


def test_folds_tile_the_test_period_without_gaps_or_overlap():
    folds = walk_forward_folds(T("2019-01-01"), T("2023-12-31"), 182, T("2015-01-01"))
    assert folds[0].test_start == T("2019-01-01")
    assert folds[-1].test_end == T("2023-12-31")
    for a, b in itertools.pairwise(folds):
        assert b.test_start == a.test_end + pd.Timedelta(days=1)
    assert all(f.train_start == T("2015-01-01") for f in folds)


def test_rolling_window_moves_the_training_start():
    folds = walk_forward_folds(T("2020-01-01"), T("2020-12-31"), 90, T("2015-01-01"), train_window=365)
    assert folds[1].train_start == folds[1].test_start - pd.Timedelta(days=365)


def test_purge_and_embargo_keep_label_windows_out_of_the_test_block():
    fold = walk_forward_folds(T("2021-01-01"), T("2021-06-30"), 181, T("2020-01-01"))[0]
    dates = pd.date_range("2020-01-01", "2021-06-30", freq="D", tz="UTC")
    horizon, embargo = 15, 7
    mask = purged_train_mask(dates, fold, horizon, embargo)
    train_days = dates[mask.to_numpy()]
    # the last training label window (t, t + horizon] ends before the test block and the embargo
    assert train_days.max() + pd.Timedelta(days=horizon) < fold.test_start - pd.Timedelta(days=embargo)
    assert train_days.max() == fold.test_start - pd.Timedelta(days=horizon + embargo + 1)
    assert not (train_days >= fold.test_start).any()


def test_each_layer_is_purged_by_its_own_horizon():
    cfg = CascadeConfig()
    start = T("2022-01-01")
    cut = layer_cutoffs(start, cfg)
    e = cfg.evaluation.embargo_days
    assert cut["l1"] + pd.Timedelta(days=cfg.l1.label_horizon + e) < start
    assert cut["l4"] + pd.Timedelta(days=cfg.l4.label_horizon + e) < start
    assert cut["l1"] < cut["l4"]  # the 30-day regime label needs the longer purge


def test_a_short_remainder_joins_the_last_fold():
    folds = walk_forward_folds(T("2019-01-01"), T("2019-12-31"), 182, T("2015-01-01"))
    assert len(folds) == 2 and folds[-1].test_end == T("2019-12-31")
    assert (folds[-1].test_end - folds[-1].test_start).days + 1 == 365 - 182
