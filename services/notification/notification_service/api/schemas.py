"""Request bodies of the notifications API; sizes bounded, unknown fields refused."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Symbol = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,20}$")]
Channel = Literal["websocket", "webhook"]
ALL_CHANNELS: tuple[Channel, ...] = ("websocket", "webhook")


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PreferencesBody(_Request):
    #: Symbols whose signals are pushed; empty means every symbol.
    symbols: list[Symbol] = Field(default_factory=list, max_length=200)
    min_confidence: float = Field(default=0.0, ge=0.0, le=1.0)
    channels: list[Channel] = Field(default_factory=lambda: list(ALL_CHANNELS), max_length=2)


class WebhookBody(_Request):
    url: str = Field(min_length=1, max_length=2048)
    description: str = Field(default="", max_length=200)
