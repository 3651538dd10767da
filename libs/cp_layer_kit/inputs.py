"""The model inputs of every stored market day, sliced per call.

Built once per market change with ``cp_models.datasets.build_datasets`` (the same design
matrices training and the walk-forward evaluation use, so a service never computes its
features differently); a call then takes the rows of its decision day. The decision day for
``as_of`` is the latest stored day whose daily bar closed at or before it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd

from cp_layer_kit.errors import MarketDataUnavailable
from cp_models.cascade import L1_WARMUP_DAYS
from cp_models.data import MarketData
from cp_models.datasets import CascadeDatasets, build_datasets, rows_between

DAY = pd.Timedelta(days=1)
#: Sliced day rows kept per build (a cascade asks for the same few days again and again).
MAX_MEMO = 32


@dataclass(frozen=True, eq=False)
class MarketInputs:
    """One build's inputs. The rows of a day are sliced once and then reused: a build never
    changes (a new one replaces it), and the models only read the frames they are given."""

    datasets: CascadeDatasets
    _rows: dict[tuple[str, pd.Timestamp], pd.DataFrame] = field(default_factory=dict, repr=False)

    def _memo(self, kind: str, day: pd.Timestamp, rows: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        key = (kind, day)
        if key not in self._rows:
            if len(self._rows) >= MAX_MEMO:
                self._rows.clear()
            self._rows[key] = rows()
        return self._rows[key]

    @classmethod
    def build(cls, data: MarketData) -> MarketInputs:
        return cls(build_datasets(data))

    @property
    def data(self) -> MarketData:
        return self.datasets.data

    @property
    def last_day(self) -> pd.Timestamp:
        return pd.Timestamp(self.datasets.market.index[-1])

    def day_for(self, as_of: datetime | None) -> pd.Timestamp:
        """The decision day of ``as_of`` (default: the latest stored day)."""
        if as_of is None:
            return self.last_day
        stamp = pd.Timestamp(as_of.astimezone(UTC))
        # the bar of day D closes at D + 1 day; only closed bars can be decided on
        latest_closed = (stamp - DAY).floor("D")
        days = self.datasets.market.index[self.datasets.market.index <= latest_closed]
        if len(days) == 0:
            raise MarketDataUnavailable(f"no market data up to {stamp.isoformat()}")
        return pd.Timestamp(days[-1])

    def market_window(self, day: pd.Timestamp, days: int = L1_WARMUP_DAYS) -> pd.DataFrame:
        """Consecutive market-feature rows ending at ``day`` (Layer 1's smoothing warm-up)."""
        return self._memo(
            f"market{days}",
            day,
            lambda: rows_between(self.datasets.market, day - pd.Timedelta(days=days), day),
        )

    def sector_rows(self, day: pd.Timestamp) -> pd.DataFrame:
        """One row per live sector on ``day`` (index: sector)."""
        return self._memo("sector", day, lambda: _of_day(self.datasets.sectors, day))

    def rotation_rows(self, day: pd.Timestamp) -> pd.DataFrame:
        return self._memo("rotation", day, lambda: rows_between(self.datasets.rotation, day, day))

    def asset_rows(self, day: pd.Timestamp) -> pd.DataFrame:
        """One row per scorable asset on ``day`` (index: symbol)."""
        return self._memo("asset", day, lambda: _of_day(self.datasets.assets, day))


def _of_day(frame: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    rows = rows_between(frame, day, day)
    return rows.droplevel(0) if len(rows) else rows.iloc[0:0].droplevel(0)
