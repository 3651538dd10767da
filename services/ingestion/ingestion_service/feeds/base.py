"""What every feed produces (:class:`MarketBatch`) and the interface it implements (:class:`Feed`)."""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from cp_market.candles import Candle
from cp_market.report import ImportReport


@dataclass
class MarketBatch:
    """Market data captured together, written by the pipeline in one pass.

    ``candles`` is a candle frame (bulk history) or a list of ``Candle`` (a live step);
    ``snapshots`` has the columns of ``storage.snapshots.SNAPSHOT_FIELDS``; ``assets`` has
    ``symbol, name, sector, market_cap_rank`` (optionally ``coingecko_id, sector_tags``).
    ``as_of`` is the feed's clock at capture: a candle still open then is rejected as
    ``incomplete_candle``. ``live`` batches publish an event for every new candle and snapshot;
    history batches only for those that closed within the event window before ``as_of``.
    ``report`` carries what the importers already counted and rejected (file imports); when
    it is None the pipeline counts the batch's rows itself.
    """

    source: str
    as_of: datetime
    candles: pd.DataFrame | Sequence[Candle] = ()
    snapshots: pd.DataFrame | None = None
    assets: pd.DataFrame | None = None
    live: bool = False
    report: ImportReport | None = None
    #: ``time.perf_counter()`` when the feed received the data (latency of the live path).
    received_at: float | None = None


class Feed(abc.ABC):
    """A source of :class:`MarketBatch` es: history first, then (for live feeds) a stream."""

    name: str = "feed"
    #: Only one replica of the fleet may run it at a time (it polls rate-limited APIs).
    singleton: bool = False

    @abc.abstractmethod
    def backfill(self) -> AsyncIterator[MarketBatch]:
        """History written at start-up (idempotent: re-running it changes nothing)."""

    @abc.abstractmethod
    def stream(self) -> AsyncIterator[MarketBatch]:
        """Live batches after the backfill; may end (a finite replay) or be empty."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
