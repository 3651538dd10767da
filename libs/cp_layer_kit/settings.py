"""Settings every layer service shares, on top of :class:`cp_common.settings.ServiceSettings`.

The fields are named ``layer_*`` (read from ``LAYER_*``) because all layer services share
them; ``ingestion_grpc_target`` is the variable the fleet gives every peer of ingestion.
"""

from __future__ import annotations

from pydantic import Field

from cp_common.settings import ServiceSettings


class LayerSettings(ServiceSettings):
    #: ``host:port`` of ingestion's gRPC ``MarketDataService`` (the read model's bootstrap).
    ingestion_grpc_target: str | None = None
    #: Daily candles and snapshots loaded at bootstrap (features need 200-day averages and a
    #: 180-day volatility percentile, so about a year and a bit).
    layer_market_history_days: int = Field(default=420, ge=60, le=1000)
    #: Assets of ingestion's universe the read model follows (by market cap).
    layer_market_universe_size: int = Field(default=200, ge=1, le=500)
    #: The read model is re-bootstrapped this often (new assets, sectors, a missed event).
    layer_market_resync_s: float = Field(default=3600.0, gt=0)
    #: Keep the read model current from market.candles.v1 / market.snapshots.v1. Off only where
    #: the read model is filled otherwise (tests and benchmarks on a shared broker).
    layer_consume_market_events: bool = True
    #: Quiet time after a market change before the inputs are recomputed (batches of candles).
    layer_rebuild_debounce_s: float = Field(default=1.0, ge=0)
    #: Fallback poll of the registry (activations also arrive by NOTIFY at once).
    layer_model_poll_s: float = Field(default=30.0, gt=0)
    #: TTL of the cached latest result (seed: market regime 300 s).
    layer_latest_ttl_s: float = Field(default=300.0, gt=0)
    #: Lifetime of a hot read's pre-serialised answer in each replica (cp_common.http.read_cache):
    #: the writing replica drops it at once, every other replica serves it at most this long.
    #: 0 turns the in-process cache off.
    layer_read_cache_s: float = Field(default=2.0, ge=0)
    #: Native threads (OpenMP/BLAS) per model call. One serves a 100-asset call fastest on a
    #: shared machine: the models' thread pools spin and contend when cores are busy.
    layer_inference_threads: int = Field(default=1, ge=1, le=64)
    #: Multiplies every per-user limit of the seeds (tests and load tests raise or lower them).
    layer_rate_limit_scale: float = Field(default=1.0, gt=0)
