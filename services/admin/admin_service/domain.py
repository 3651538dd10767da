"""The service's vocabulary: tiers, suggestion types, statuses and decisions, and their proto names."""

from __future__ import annotations

from enum import IntEnum, StrEnum

from cryptopredict.common.v1 import watchlists_pb2 as common_pb2


class Tier(IntEnum):
    TIER1 = 1
    TIER2 = 2

    @property
    def proto(self) -> common_pb2.WatchlistTier:
        return common_pb2.WATCHLIST_TIER_1 if self is Tier.TIER1 else common_pb2.WATCHLIST_TIER_2

    @property
    def label(self) -> str:
        return f"tier{self.value}"


class WatchlistKind(StrEnum):
    ADMIN = "admin"
    PERSONAL = "personal"


class SuggestionType(StrEnum):
    PROMOTE_TO_TIER1 = "promote_to_tier1"
    ADD_TIER2 = "add_tier2"
    DEMOTE_TO_TIER2 = "demote_to_tier2"
    REMOVE_FROM_TIER2 = "remove_from_tier2"

    @property
    def proto(self) -> common_pb2.SuggestionType:
        return _TYPE_TO_PROTO[self]

    @classmethod
    def from_proto(cls, value: int) -> SuggestionType | None:
        return _PROTO_TO_TYPE.get(value)


class SuggestionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    DEFERRED = "deferred"
    EXPIRED = "expired"


#: Statuses a review may still act on (a deferred suggestion can be reviewed again).
REVIEWABLE = (SuggestionStatus.PENDING, SuggestionStatus.DEFERRED)


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    DEFER = "defer"

    @property
    def status(self) -> SuggestionStatus:
        return _DECISION_STATUS[self]

    @property
    def proto(self) -> common_pb2.ReviewDecision:
        return _DECISION_TO_PROTO[self]


_TYPE_TO_PROTO = {
    SuggestionType.PROMOTE_TO_TIER1: common_pb2.SUGGESTION_TYPE_PROMOTE_TO_TIER1,
    SuggestionType.ADD_TIER2: common_pb2.SUGGESTION_TYPE_ADD_TIER2,
    SuggestionType.DEMOTE_TO_TIER2: common_pb2.SUGGESTION_TYPE_DEMOTE_TO_TIER2,
    SuggestionType.REMOVE_FROM_TIER2: common_pb2.SUGGESTION_TYPE_REMOVE_FROM_TIER2,
}
_PROTO_TO_TYPE: dict[int, SuggestionType] = {int(value): key for key, value in _TYPE_TO_PROTO.items()}
_DECISION_STATUS = {
    Decision.APPROVE: SuggestionStatus.APPROVED,
    Decision.REJECT: SuggestionStatus.REJECTED,
    Decision.DEFER: SuggestionStatus.DEFERRED,
}
_DECISION_TO_PROTO = {
    Decision.APPROVE: common_pb2.REVIEW_DECISION_APPROVE,
    Decision.REJECT: common_pb2.REVIEW_DECISION_REJECT,
    Decision.DEFER: common_pb2.REVIEW_DECISION_DEFER,
}
