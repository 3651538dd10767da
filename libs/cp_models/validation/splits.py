"""Walk-forward folds with purging and embargo (López de Prado, AFML ch. 7).

A fold trains on days before its test block and tests on the block. A training sample at
day ``t`` whose label looks ``h`` days ahead overlaps the test block when ``t + h`` reaches
the block's first day, so it is purged; an extra ``embargo`` gap is removed on top, so
serial correlation right before the test block cannot leak either. With
``train_window=None`` the window expands; otherwise it rolls with that many days.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


def purged_cutoff(test_start: pd.Timestamp, label_horizon: int, embargo: int) -> pd.Timestamp:
    """Last training day whose label window ends strictly before ``test_start``, minus the embargo."""
    return test_start - pd.Timedelta(days=label_horizon + embargo + 1)


@dataclass(frozen=True)
class Fold:
    number: int
    train_start: pd.Timestamp
    test_start: pd.Timestamp
    test_end: pd.Timestamp  # inclusive

    def train_cutoff(self, label_horizon: int, embargo: int) -> pd.Timestamp:
        return purged_cutoff(self.test_start, label_horizon, embargo)

    def as_dict(self) -> dict[str, str | int]:
        return {
            "fold": self.number,
            "train_start": self.train_start.date().isoformat(),
            "test_start": self.test_start.date().isoformat(),
            "test_end": self.test_end.date().isoformat(),
        }


def walk_forward_folds(
    start: pd.Timestamp,
    end: pd.Timestamp,
    test_days: int,
    history_start: pd.Timestamp,
    train_window: int | None = None,
) -> list[Fold]:
    """Consecutive test blocks of ``test_days`` covering [start, end]; training data starts at
    ``history_start`` (expanding) or ``train_window`` days before each block (rolling). A
    remainder shorter than a quarter block is appended to the last block instead of
    becoming a fold of its own."""
    folds: list[Fold] = []
    block_start = start
    number = 0
    while block_start <= end:
        block_end = min(block_start + pd.Timedelta(days=test_days - 1), end)
        if (end - block_end).days < test_days // 4:
            block_end = end
        train_start = (
            history_start
            if train_window is None
            else max(history_start, block_start - pd.Timedelta(days=train_window))
        )
        folds.append(Fold(number, train_start, block_start, block_end))
        number += 1
        block_start = block_end + pd.Timedelta(days=1)
    return folds


def purged_train_mask(dates: pd.Index, fold: Fold, label_horizon: int, embargo: int) -> pd.Series:
    """Boolean mask over sample dates usable for training in ``fold``."""
    d = pd.DatetimeIndex(dates)
    mask = (d >= fold.train_start) & (d <= fold.train_cutoff(label_horizon, embargo))
    return pd.Series(mask, index=dates)
