"""The common async interface of every candle source used by ingestion."""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Iterable

import pandas as pd

from cp_market.candles import Candle


class CandleSource(abc.ABC):
    """A source of closed candles.

    ``stream()`` yields closed candles as they close (live sources) or in time order
    (historical ones); it never yields a still-open candle. ``backfill()`` returns a
    canonical candle frame of closed candles with ``start <= open_time <= end``.
    """

    name: str = "source"

    @abc.abstractmethod
    def stream(self) -> AsyncIterator[Candle]:
        """Closed candles, one at a time."""

    @abc.abstractmethod
    async def backfill(
        self, symbols: Iterable[str], interval: str, start: object, end: object
    ) -> pd.DataFrame:
        """Closed candles of ``symbols`` in ``[start, end]`` (on open_time)."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections (no-op by default)."""

    async def __aenter__(self) -> CandleSource:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
