"""Request bodies of the notifications API; sizes bounded, unknown fields refused."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from notification_service.webpush.subscriptions import check_auth, check_p256dh

Symbol = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,20}$")]
Channel = Literal["websocket", "webhook", "webpush"]
ALL_CHANNELS: tuple[Channel, ...] = ("websocket", "webhook", "webpush")


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PreferencesBody(_Request):
    #: Symbols whose signals are pushed; empty means every symbol.
    symbols: list[Symbol] = Field(default_factory=list, max_length=200)
    min_confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    channels: list[Channel] = Field(default_factory=lambda: list(ALL_CHANNELS), max_length=3)


class WebhookBody(_Request):
    url: str = Field(min_length=1, max_length=2048)
    description: str = Field(default="", max_length=200)


class PushKeysBody(_Request):
    #: The browser's P-256 public key: base64url of 65 bytes (uncompressed point).
    p256dh: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(check_p256dh)]
    #: The browser's auth secret: base64url of 16 bytes.
    auth: Annotated[str, Field(min_length=1, max_length=30), AfterValidator(check_auth)]


class PushSubscriptionBody(_Request):
    """A browser ``PushSubscription.toJSON()``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    endpoint: str = Field(min_length=1, max_length=2048)
    keys: PushKeysBody
    #: When the subscription expires, milliseconds since the epoch (browsers mostly send null).
    expiration_time: int | None = Field(default=None, alias="expirationTime", ge=0, le=10**14)
