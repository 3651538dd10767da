"""Configuration of the auth service: the shared settings plus ``AUTH_*`` variables.

Fields are named ``auth_*`` (read from ``AUTH_*``) rather than set through an ``env_prefix``,
because a prefix would also apply to the inherited fields (``DATABASE_URL`` would become
``AUTH_DATABASE_URL``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from cp_common.settings import ServiceSettings

SigningAlgorithm = Literal["EdDSA", "RS256"]


class AuthSettings(ServiceSettings):
    service_name: str = "auth"

    # --- tokens ---------------------------------------------------------------------------------
    auth_access_token_ttl_s: int = Field(default=900, ge=30, le=3600)
    auth_refresh_token_ttl_s: int = Field(default=30 * 86400, ge=300)
    #: Clock skew verifiers tolerate; a retired key stays published this much longer.
    auth_token_leeway_s: int = Field(default=30, ge=0, le=300)

    # --- signing keys ---------------------------------------------------------------------------
    #: Mounted secret directory with one ``<kid>.pem`` private key per file. Unset in local/test
    #: mode: keys are generated once into ``<state dir>/auth-keys``. Required in production.
    auth_signing_keys_dir: Path | None = None
    #: Algorithm of keys this service generates itself (local mode, ``keytool rotate``).
    auth_signing_algorithm: SigningAlgorithm = "EdDSA"
    #: A new key is published this long before it signs, so every verifier can fetch it first.
    auth_key_activation_delay_s: int = Field(default=120, ge=0)
    #: How often the key directory is re-read (rotation without restart).
    auth_keys_reload_interval_s: float = Field(default=30.0, gt=0)

    # --- first admin ----------------------------------------------------------------------------
    auth_bootstrap_admin_email: str | None = None
    auth_bootstrap_admin_password_file: Path | None = None
    auth_bootstrap_admin_password: SecretStr | None = None

    # --- passwords ------------------------------------------------------------------------------
    auth_password_min_length: int = Field(default=8, ge=8, le=64)
    auth_password_max_length: int = Field(default=128, ge=16, le=1024)
    #: argon2id parameters (defaults: RFC 9106 "second recommended option").
    auth_argon2_time_cost: int = Field(default=3, ge=1)
    auth_argon2_memory_kib: int = Field(default=65536, ge=8192)
    auth_argon2_parallelism: int = Field(default=4, ge=1)
    #: Hashes computed at once; bounds memory and CPU under a login flood.
    auth_max_concurrent_hashes: int = Field(default=4, ge=1)

    # --- brute force ----------------------------------------------------------------------------
    #: Failed logins for one email within the window that lock it ...
    auth_lockout_threshold: int = Field(default=20, ge=1)
    auth_lockout_window_s: int = Field(default=900, ge=1)
    #: ... for this long.
    auth_lockout_duration_s: int = Field(default=900, ge=1)
    #: Failed logins from one client IP within the window before that IP is refused (429).
    auth_ip_failure_limit: int = Field(default=100, ge=1)
    auth_ip_failure_window_s: int = Field(default=900, ge=1)
    #: Registrations per client IP per window.
    auth_register_limit: int = Field(default=20, ge=1)
    auth_register_window_s: int = Field(default=3600, ge=1)

    #: How often the Redis denylist is checked for a lost copy (then rebuilt from PostgreSQL);
    #: bounds how long verifiers fail closed after Redis comes back empty.
    auth_denylist_check_interval_s: float = Field(default=1.0, gt=0, le=60)

    #: How often expired refresh tokens, revocations and lockouts are deleted (a day after expiry).
    auth_prune_interval_s: float = Field(default=3600.0, gt=0)

    @model_validator(mode="after")
    def _keys_dir_in_production(self) -> AuthSettings:
        if self.environment == "production" and self.auth_signing_keys_dir is None:
            raise ValueError("AUTH_SIGNING_KEYS_DIR is required in production")
        if self.auth_password_min_length > self.auth_password_max_length:
            raise ValueError("AUTH_PASSWORD_MIN_LENGTH is above AUTH_PASSWORD_MAX_LENGTH")
        return self

    @property
    def signing_keys_dir(self) -> Path:
        return self.auth_signing_keys_dir or self.state_dir / "auth-keys"

    @property
    def generates_keys(self) -> bool:
        """Local and test mode create a first key when the directory has none; production never."""
        return self.is_local
