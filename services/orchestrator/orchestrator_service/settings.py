"""Configuration of the orchestrator: the shared settings plus ``ORCHESTRATOR_*`` variables.

Fields are named ``orchestrator_*`` (read from ``ORCHESTRATOR_*``) rather than set through an
``env_prefix``, which would also rename the inherited fields (``DATABASE_URL``).
"""

from __future__ import annotations

from pydantic import AliasChoices, Field

from cp_common.settings import ServiceSettings

DEFAULT_TIER1 = "BTC,ETH,BNB,SOL,XRP,ADA,AVAX,LINK,DOT,DOGE"
DEFAULT_TIER2 = "LTC,BCH,UNI,ATOM,XLM,ETC,AAVE,TRX,MATIC,SHIB"


class OrchestratorSettings(ServiceSettings):
    service_name: str = "orchestrator"

    # --- the layers: ``host:port`` of each gRPC service. ``ORCHESTRATOR_LAYERn_TARGET``, else the
    # variable the local fleet gives every service about each peer (``LAYER1_MACRO_GRPC_TARGET``).
    orchestrator_layer1_target: str | None = Field(
        default=None, validation_alias=AliasChoices("ORCHESTRATOR_LAYER1_TARGET", "LAYER1_MACRO_GRPC_TARGET")
    )
    orchestrator_layer2_target: str | None = Field(
        default=None, validation_alias=AliasChoices("ORCHESTRATOR_LAYER2_TARGET", "LAYER2_SECTOR_GRPC_TARGET")
    )
    orchestrator_layer3_target: str | None = Field(
        default=None, validation_alias=AliasChoices("ORCHESTRATOR_LAYER3_TARGET", "LAYER3_ASSET_GRPC_TARGET")
    )
    orchestrator_layer4_target: str | None = Field(
        default=None, validation_alias=AliasChoices("ORCHESTRATOR_LAYER4_TARGET", "LAYER4_TIMING_GRPC_TARGET")
    )
    #: The admin service's WatchlistService; without it the default universe below is used.
    orchestrator_watchlist_target: str | None = Field(
        default=None, validation_alias=AliasChoices("ORCHESTRATOR_WATCHLIST_TARGET", "ADMIN_GRPC_TARGET")
    )
    orchestrator_watchlist_timeout_s: float = Field(default=2.0, gt=0, le=30)

    #: Deadline of one layer call (both attempts together), seconds, per layer.
    orchestrator_layer1_deadline_s: float = Field(default=10.0, gt=0, le=300)
    orchestrator_layer2_deadline_s: float = Field(default=10.0, gt=0, le=300)
    orchestrator_layer3_deadline_s: float = Field(default=15.0, gt=0, le=300)
    orchestrator_layer4_deadline_s: float = Field(default=15.0, gt=0, le=300)

    # --- circuit breakers (the seeds: open after 5 consecutive failures, half-open after 60 s) --
    orchestrator_breaker_fail_max: int = Field(default=5, ge=1, le=1000)
    orchestrator_breaker_reset_s: float = Field(default=60.0, gt=0, le=3600)
    #: Upper bound of the jittered pause before the one retry, seconds.
    orchestrator_retry_backoff_s: float = Field(default=0.2, ge=0, le=10)

    # --- degradation ---------------------------------------------------------------------------
    #: A layer's last result may stand in for a failed call while younger than this, seconds.
    orchestrator_fallback_max_age_s: float = Field(default=900.0, ge=0)
    #: ``quick`` reuses Layer 1 and 2 results younger than this, seconds.
    orchestrator_quick_reuse_s: float = Field(default=300.0, ge=0)

    # --- triggers ------------------------------------------------------------------------------
    #: Scheduled cascade interval, seconds (0 turns the schedule off).
    orchestrator_schedule_s: float = Field(default=300.0, ge=0)
    #: A closed daily candle moving more than this fraction (|close/open - 1|) triggers a run.
    orchestrator_move_threshold: float = Field(default=0.05, gt=0, le=1)
    #: At most one market-move run per this many seconds.
    orchestrator_move_debounce_s: float = Field(default=120.0, ge=0)

    # --- universe when the admin service is unreachable ----------------------------------------
    orchestrator_default_tier1: str = DEFAULT_TIER1
    orchestrator_default_tier2: str = DEFAULT_TIER2
    #: Largest number of symbols one request may name.
    orchestrator_max_symbols: int = Field(default=200, ge=1, le=1000)

    def deadline_of(self, layer: int) -> float:
        return float(getattr(self, f"orchestrator_layer{layer}_deadline_s"))

    def target_of(self, layer: int) -> str | None:
        value = getattr(self, f"orchestrator_layer{layer}_target")
        return str(value) if value else None
