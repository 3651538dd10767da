"""Service configuration from the environment, validated at start-up.

Every service subclasses :class:`ServiceSettings`, adding its own fields named after the
service (``auth_access_token_ttl_s`` is read from ``AUTH_ACCESS_TOKEN_TTL_S``), and calls
:func:`load_settings`, which turns a validation failure into a :class:`SettingsError` whose
message names each bad environment variable. A subclass sets no ``env_prefix``: it would
rename the inherited fields too (``DATABASE_URL`` would become ``AUTH_DATABASE_URL``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Environment = Literal["local", "test", "production"]


class SettingsError(RuntimeError):
    """Configuration is invalid; the message names every offending variable."""


def default_state_dir() -> Path:
    """Project-local directory for embedded servers' data, keys and logs."""
    return Path(__file__).resolve().parents[2] / ".state"


class ServiceSettings(BaseSettings):
    """Settings every service has. Field ``foo_bar`` is read from ``FOO_BAR``."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, frozen=True)

    service_name: str = "cryptopredict"
    environment: Environment = "local"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=1, le=65535)
    grpc_port: int = Field(default=0, ge=0, le=65535, description="0 disables the gRPC server")
    #: Largest request body the app accepts (413 above it), like the gateway's limit.
    http_max_body_bytes: int = Field(default=1024 * 1024, ge=1)

    database_url: str | None = None
    db_pool_min_size: int = Field(default=1, ge=0)
    db_pool_max_size: int = Field(default=10, ge=1)
    redis_url: str | None = None
    kafka_bootstrap_servers: str | None = None
    # Idempotent producers need InitProducerId, which the embedded broker lacks.
    kafka_enable_idempotence: bool = False
    #: Longest time the broker may hold a consumer's fetch when nothing new has arrived. Real
    #: Kafka answers as soon as a record arrives; the embedded broker always waits this long, so
    #: latency-sensitive consumers lower it.
    kafka_fetch_max_wait_ms: int = Field(default=500, ge=1, le=60_000)
    #: After the broker lost records, the outbox publishes again what it sent since the broker was
    #: last seen intact minus this allowance, for records consumers had not read yet.
    outbox_replay_lag_s: float = Field(default=600.0, ge=0)
    #: Watch the broker for lost records and re-publish the outbox automatically (see
    #: :class:`cp_common.kafka.replay.BrokerWatch`); ``replay-outbox`` works either way.
    outbox_broker_watch: bool = True

    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    jwks_url: str | None = None
    jwt_issuer: str = "cryptopredict-auth"
    jwt_audience: str = "cryptopredict"
    #: Verified tokens are served from a per-process cache for at most this long (the bound on
    #: the revocation delay if a pushed revocation were lost); 0 turns the cache off.
    jwt_cache_seconds: float = Field(default=5.0, ge=0, le=60)

    state_dir: Path = Field(default_factory=default_state_dir, alias="CP_STATE_DIR")

    @property
    def is_local(self) -> bool:
        """Local or test mode: generated secrets, migrations at start-up, relaxed defaults."""
        return self.environment != "production"

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must be a postgresql:// URL")
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value


SettingsT = TypeVar("SettingsT", bound=BaseSettings)


def _env_name(model: type[BaseSettings], loc: tuple[object, ...]) -> str:
    field_name = str(loc[0]) if loc else "?"
    field = model.model_fields.get(field_name)
    if field is not None and isinstance(field.alias, str):
        return field.alias.upper()
    prefix = str(model.model_config.get("env_prefix") or "")
    return f"{prefix}{field_name}".upper()


def load_settings(model: type[SettingsT], **overrides: Any) -> SettingsT:
    """Build ``model`` from the environment, raising :class:`SettingsError` on bad values."""
    try:
        return model(**overrides)
    except ValidationError as exc:
        problems = [f"{_env_name(model, err['loc'])}: {err['msg']}" for err in exc.errors(include_url=False)]
        raise SettingsError("invalid configuration: " + "; ".join(problems)) from None
