"""Configuration of the notification service: the shared settings plus ``NOTIFICATION_*`` variables.

Fields are named ``notification_*`` (read from ``NOTIFICATION_*``) rather than set through an
``env_prefix``, which would also rename the inherited fields (``DATABASE_URL``).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator

from cp_common.settings import ServiceSettings


class NotificationSettings(ServiceSettings):
    service_name: str = "notification"
    #: Events should reach clients in milliseconds (see ``KAFKA_FETCH_MAX_WAIT_MS``).
    kafka_fetch_max_wait_ms: int = Field(default=10, ge=1, le=60_000)

    # --- WebSockets -----------------------------------------------------------------------------
    #: Messages waiting for one client; a client this far behind is cut off (close code 4008)
    #: so that it never delays anyone else.
    notification_ws_send_queue: int = Field(default=256, ge=1, le=100_000)
    #: A single send blocked this long also counts as a client too slow to keep.
    notification_ws_send_timeout_s: float = Field(default=10.0, gt=0)
    #: Application heartbeat (``{"type": "heartbeat"}``) period.
    notification_ws_heartbeat_s: float = Field(default=30.0, gt=0)
    #: How often open connections' tokens are checked against the revocation denylist.
    notification_ws_revocation_check_s: float = Field(default=5.0, gt=0)
    #: Largest client message accepted (subscribe lists are small).
    notification_ws_max_message_bytes: int = Field(default=16_384, ge=256)
    #: Symbols one connection may subscribe to.
    notification_ws_max_subscriptions: int = Field(default=200, ge=1)

    # --- fan-out and replay ---------------------------------------------------------------------
    #: Redis stream every replica reads (the fan-out bus and the replay buffer).
    notification_stream_key: str = "notification:events"
    #: Entries kept for replay (approximate trim, Redis ``MAXLEN ~``).
    notification_replay_max_events: int = Field(default=10_000, ge=10)
    #: Entries one reconnect may replay.
    notification_replay_max_batch: int = Field(default=1_000, ge=1)

    # --- webhooks -------------------------------------------------------------------------------
    #: Delivery attempts before a delivery moves to the dead letter.
    notification_webhook_max_attempts: int = Field(default=6, ge=1, le=20)
    #: First retry delay; doubled per attempt, capped by ``..._backoff_max_s``.
    notification_webhook_backoff_s: float = Field(default=2.0, gt=0)
    notification_webhook_backoff_max_s: float = Field(default=600.0, gt=0)
    #: Dead-lettered deliveries in a row after which an endpoint is disabled and its owner told.
    notification_webhook_disable_after: int = Field(default=5, ge=1)
    notification_webhook_timeout_s: float = Field(default=5.0, gt=0, le=60)
    #: Deliveries allowed to loopback, link-local and private addresses. Unset: allowed in local
    #: and test mode (receivers on this machine), refused in production, where it cannot be set.
    notification_webhook_allow_private: bool | None = None
    notification_webhook_max_endpoints: int = Field(default=10, ge=1)
    #: How often the delivery worker looks for due deliveries.
    notification_webhook_poll_s: float = Field(default=0.5, gt=0)
    notification_webhook_batch: int = Field(default=20, ge=1)

    # --- web push (browser PushSubscriptions, VAPID); attempts and backoff are the webhooks' ---
    #: The VAPID signing key (P-256): PEM, or base64url of the 32-byte private value or of its
    #: DER. Unset: a key generated once into ``notification_vapid_key_file`` (replicas that do
    #: not share that file must share this setting, or subscriptions break across replicas).
    notification_vapid_private_key: SecretStr | None = None
    #: Where a generated key lives (mode 0600). Unset: ``<state dir>/notification/vapid-private.pem``.
    notification_vapid_key_file: Path | None = None
    #: The ``sub`` claim push services may contact: a ``mailto:`` or ``https:`` URL.
    notification_vapid_subject: str = Field(
        default="mailto:ops@cryptopredict.invalid", pattern=r"^(mailto:[^@\s]+@[^@\s]+|https://\S+)$"
    )
    #: How long the push service keeps an undelivered message (``TTL`` header).
    notification_push_ttl_s: int = Field(default=86_400, ge=0, le=2_419_200)
    notification_push_max_subscriptions: int = Field(default=10, ge=1, le=100)
    #: Plain-http push endpoints on loopback (a local push server). Unset: allowed in local and
    #: test mode, refused in production, where it cannot be set.
    notification_push_allow_http_loopback: bool | None = None

    @model_validator(mode="after")
    def _no_private_webhooks_in_production(self) -> NotificationSettings:
        if self.environment == "production" and self.notification_webhook_allow_private:
            raise ValueError("NOTIFICATION_WEBHOOK_ALLOW_PRIVATE must not be set in production")
        if self.environment == "production" and self.notification_push_allow_http_loopback:
            raise ValueError("NOTIFICATION_PUSH_ALLOW_HTTP_LOOPBACK must not be set in production")
        if self.notification_webhook_backoff_s > self.notification_webhook_backoff_max_s:
            raise ValueError("NOTIFICATION_WEBHOOK_BACKOFF_S is above NOTIFICATION_WEBHOOK_BACKOFF_MAX_S")
        return self

    @property
    def webhooks_allow_private(self) -> bool:
        if self.notification_webhook_allow_private is None:
            return self.is_local
        return self.notification_webhook_allow_private

    @property
    def push_allow_http_loopback(self) -> bool:
        if self.notification_push_allow_http_loopback is None:
            return self.is_local
        return self.notification_push_allow_http_loopback

    @property
    def vapid_key_file(self) -> Path:
        return self.notification_vapid_key_file or self.state_dir / "notification" / "vapid-private.pem"
