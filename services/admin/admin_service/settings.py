"""Configuration of the admin service: the shared settings plus ``ADMIN_*`` variables.

Fields are named ``admin_*`` (read from ``ADMIN_*``) rather than set through an ``env_prefix``,
because a prefix would also apply to the inherited fields (``DATABASE_URL``).
"""

from __future__ import annotations

from pydantic import AliasChoices, Field

from cp_common.settings import ServiceSettings


class AdminSettings(ServiceSettings):
    service_name: str = "admin"

    #: ``host:port`` of ingestion's gRPC MarketDataService (asset existence, prices). The local
    #: fleet sets it from ``INGESTION_GRPC_TARGET``.
    admin_market_data_target: str | None = None
    #: Deadline of one MarketDataService call, seconds.
    admin_market_data_timeout_s: float = Field(default=3.0, gt=0, le=60)
    #: ``host:port`` of Layer 4's gRPC TimingSignalsService (the dashboard's performance figures);
    #: the fleet's ``LAYER4_TIMING_GRPC_TARGET`` unless set. Unset: reported unavailable.
    admin_timing_target: str | None = Field(
        default=None, validation_alias=AliasChoices("ADMIN_TIMING_TARGET", "LAYER4_TIMING_GRPC_TARGET")
    )
    #: Deadline of one GetPerformanceSummary call, seconds.
    admin_timing_timeout_s: float = Field(default=3.0, gt=0, le=60)

    # --- suggestions ----------------------------------------------------------------------------
    #: A suggestion nobody reviewed within this time expires (pending or deferred).
    admin_suggestion_ttl_s: int = Field(default=7 * 86400, ge=60)
    #: How often stale suggestions are expired.
    admin_expiry_interval_s: float = Field(default=300.0, gt=0)
    #: New suggestions above this confidence raise an admin notification (seed: 0.85).
    admin_notify_confidence: float = Field(default=0.85, ge=0, le=1)

    # --- reads ----------------------------------------------------------------------------------
    #: TTL of the watchlist detail with prices and scores (seed ``watchlist_performance``: 60 s).
    admin_watchlist_cache_s: float = Field(default=60.0, ge=0)
    #: Timeout of one probe of another service's /readyz or /metrics for system health.
    admin_health_timeout_s: float = Field(default=2.0, gt=0, le=30)
    #: System health is computed at most this often; concurrent requests share one round.
    admin_health_cache_s: float = Field(default=5.0, ge=0)
    #: A cascade run older than this is reported as stale in system health.
    admin_cascade_stale_s: int = Field(default=900, ge=1)

    #: Personal watchlists per user, and items per watchlist.
    admin_max_personal_watchlists: int = Field(default=20, ge=1)
    admin_max_items_per_watchlist: int = Field(default=500, ge=1)
