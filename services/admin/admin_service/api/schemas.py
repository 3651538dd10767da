"""Request bodies (bounded, ``extra="forbid"``) and the shared query parameter types."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from admin_service.domain import Decision, Tier

SymbolField = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
TierName = Literal["tier1", "tier2"]
ItemId = Annotated[int, Field(ge=1, le=2**62)]
MAX_BULK = 50


def tier_of(name: TierName) -> Tier:
    return Tier.TIER1 if name == "tier1" else Tier.TIER2


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WatchlistItemCreate(_Body):
    """Seed ``WatchlistItemCreate``: the asset and its tier."""

    crypto_symbol: SymbolField
    tier: TierName = "tier2"


class BulkItemsCreate(_Body):
    items: list[WatchlistItemCreate] = Field(min_length=1, max_length=MAX_BULK)


class BulkItemsRemove(_Body):
    item_ids: list[ItemId] = Field(min_length=1, max_length=MAX_BULK)


class ItemUpdate(_Body):
    """At least one of: the new tier; ``active`` or ``paused`` (a paused item is left out of
    the cascade's tier sets)."""

    tier: TierName | None = None
    status: Literal["active", "paused"] | None = None

    @model_validator(mode="after")
    def _something(self) -> ItemUpdate:
        if self.tier is None and self.status is None:
            raise ValueError("give tier and/or status")
        return self


class Reorder(_Body):
    item_ids: list[ItemId] = Field(min_length=1, max_length=1000)


class PersonalWatchlistCreate(_Body):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class SuggestionReview(_Body):
    """Seed ``SuggestionReview``: ``decision`` is approve, reject or defer."""

    decision: Decision
    note: Annotated[str, StringConstraints(max_length=2000)] = ""
