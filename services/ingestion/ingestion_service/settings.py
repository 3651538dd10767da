"""Configuration of the ingestion service: the shared settings plus ``INGESTION_*`` variables.

Fields are named ``ingestion_*`` (read from ``INGESTION_*``) rather than set through an
``env_prefix``, which would also rename the inherited fields (``DATABASE_URL``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode

from cp_common.settings import ServiceSettings

SourceName = Literal["synthetic", "files", "replay", "live"]

#: Intervals the service stores and serves (the cascade's).
STORED_INTERVALS: tuple[str, ...] = ("1h", "4h", "1d")

DEFAULT_LIVE_SYMBOLS = (
    "BTC,ETH,BNB,SOL,XRP,ADA,DOGE,TRX,AVAX,DOT,LINK,LTC,BCH,UNI,ATOM,XLM,ETC,AAVE,SHIB,PAXG"
)


def _split(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class IngestionSettings(ServiceSettings):
    service_name: str = "ingestion"

    # --- where market data comes from --------------------------------------------------------
    #: synthetic (seeded simulator, the default), files (backfill a data directory), replay
    #: (stored history streamed as if live) or live (Binance, CoinGecko, alternative.me).
    ingestion_source: SourceName = "synthetic"
    #: Data directory for files/replay (default: CP_DATA_DIR or the shared data directory).
    ingestion_data_dir: Path | None = None
    #: History written at start-up: daily candles for this many days ...
    ingestion_history_days: int = Field(default=400, ge=1, le=5000)
    #: ... and 1h/4h candles for this many days (synthetic and live).
    ingestion_intraday_days: int = Field(default=30, ge=0, le=1000)

    # --- events -------------------------------------------------------------------------------
    #: A backfilled candle or snapshot publishes its event only when it is new and closed within
    #: this window before the feed's clock ("the live window"); older history never does.
    ingestion_event_window_hours: float = Field(default=24.0, ge=0)

    # --- synthetic ------------------------------------------------------------------------------
    ingestion_synthetic_seed: int = 11
    #: Simulated seconds per wall-clock second: 360 closes a 1h candle every 10 s and a day
    #: every 4 min. 1 runs the simulated market in real time.
    ingestion_synthetic_speed: float = Field(default=360.0, gt=0)

    # --- replay ---------------------------------------------------------------------------------
    #: Replay starts here (history before it is backfilled); default: 90 days before the data end.
    ingestion_replay_start: str | None = None
    ingestion_replay_speed: float = Field(default=3600.0, gt=0)
    ingestion_replay_intervals: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(STORED_INTERVALS)
    )

    # --- live -------------------------------------------------------------------------------
    ingestion_symbols: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: DEFAULT_LIVE_SYMBOLS.split(",")
    )
    ingestion_binance_rest_url: str = "https://api.binance.com"
    ingestion_binance_ws_url: str = "wss://stream.binance.com:9443"
    ingestion_coingecko_url: str = "https://api.coingecko.com/api/v3"
    ingestion_coingecko_api_key: str | None = None
    ingestion_fear_greed_url: str = "https://api.alternative.me"
    #: How often the market snapshot (CoinGecko /global + Fear & Greed) is taken.
    ingestion_snapshot_interval_s: float = Field(default=300.0, gt=0)
    #: How often the universe (ranks from CoinGecko /coins/markets) is refreshed.
    ingestion_universe_interval_s: float = Field(default=3600.0, gt=0)
    #: TTL of the Redis lock that keeps the live poller on one replica.
    ingestion_live_lock_ttl_s: float = Field(default=30.0, ge=3)

    # --- API ------------------------------------------------------------------------------------
    #: Read endpoints without a token. Default: true in local/test, false in production (then
    #: every read needs a valid access token of any role, verified against JWKS_URL).
    ingestion_public_reads: bool | None = None

    _split_lists = field_validator("ingestion_symbols", "ingestion_replay_intervals", mode="before")(_split)

    @field_validator("ingestion_symbols")
    @classmethod
    def _upper_symbols(cls, value: list[str]) -> list[str]:
        symbols = [s.upper() for s in value]
        if not symbols or not all(s.isalnum() and len(s) <= 20 for s in symbols):
            raise ValueError("must be a comma-separated list of symbols such as BTC,ETH")
        return symbols

    @field_validator("ingestion_replay_intervals")
    @classmethod
    def _known_intervals(cls, value: list[str]) -> list[str]:
        unknown = [iv for iv in value if iv not in STORED_INTERVALS]
        if unknown or not value:
            raise ValueError(f"must be a comma-separated subset of {','.join(STORED_INTERVALS)}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> IngestionSettings:
        if not self.reads_are_public and not self.jwks_url:
            raise ValueError("JWKS_URL is required when INGESTION_PUBLIC_READS is false")
        if self.ingestion_source == "live" and not self.redis_url:
            raise ValueError("REDIS_URL is required by INGESTION_SOURCE=live (one poller per fleet)")
        return self

    @property
    def reads_are_public(self) -> bool:
        if self.ingestion_public_reads is not None:
            return self.ingestion_public_reads
        return self.is_local
