"""Ingestion sources behind one async interface (``CandleSource``).

* ``SyntheticCandleSource`` - the simulator (default when nothing else is configured);
* ``FileCandleSource`` - a data directory through the importers;
* ``ReplayCandleSource`` - stored history streamed as if live, at a speed factor;
* ``BinanceRestSource`` / ``BinanceWebSocketSource`` - live Binance klines;
* ``CoinGeckoClient`` (``/coins/markets``, ``/global``, ``/coins/categories``) and
  ``FearGreedClient`` (alternative.me ``/fng/``) for market-wide data.

All HTTP clients share ``RetryPolicy`` (429/418 + Retry-After, exponential backoff with
jitter, Binance used-weight pacing); base URLs are constructor arguments.
"""

from cp_market.sources.alternative_me import FearGreedClient
from cp_market.sources.base import CandleSource
from cp_market.sources.binance import BinanceRestSource, BinanceWebSocketSource, kline_message_to_candle
from cp_market.sources.coingecko import CoinGeckoClient
from cp_market.sources.files import FileCandleSource
from cp_market.sources.http import JsonHttpClient, RetryPolicy, SourceError, SourceRateLimited
from cp_market.sources.replay import ReplayCandleSource
from cp_market.sources.synthetic import SyntheticCandleSource

__all__ = [
    "BinanceRestSource",
    "BinanceWebSocketSource",
    "CandleSource",
    "CoinGeckoClient",
    "FearGreedClient",
    "FileCandleSource",
    "JsonHttpClient",
    "ReplayCandleSource",
    "RetryPolicy",
    "SourceError",
    "SourceRateLimited",
    "SyntheticCandleSource",
    "kline_message_to_candle",
]
