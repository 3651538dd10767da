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


BASE64URL = r"^[A-Za-z0-9_-]+={0,2}$"


class PushKeysBody(_Request):
    p256dh: Annotated[
        str,
        Field(
            min_length=1,
            max_length=100,
            pattern=BASE64URL,
            description="The browser's P-256 public key: base64url of the 65-byte uncompressed point",
        ),
        AfterValidator(check_p256dh),
    ]
    auth: Annotated[
        str,
        Field(
            min_length=1,
            max_length=30,
            pattern=BASE64URL,
            description="The browser's auth secret: base64url of 16 bytes",
        ),
        AfterValidator(check_auth),
    ]


class PushSubscriptionBody(_Request):
    """A browser ``PushSubscription.toJSON()``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    endpoint: str = Field(
        min_length=1,
        max_length=2048,
        description="The push service URL: https, a public host (http to loopback in local/test mode)",
    )
    keys: PushKeysBody
    expiration_time: int | None = Field(
        default=None,
        alias="expirationTime",
        ge=0,
        le=10**14,
        description="When the subscription expires, milliseconds since the epoch (usually null)",
    )
