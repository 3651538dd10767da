from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class WatchlistTier(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    WATCHLIST_TIER_UNSPECIFIED: _ClassVar[WatchlistTier]
    WATCHLIST_TIER_1: _ClassVar[WatchlistTier]
    WATCHLIST_TIER_2: _ClassVar[WatchlistTier]

class SuggestionType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUGGESTION_TYPE_UNSPECIFIED: _ClassVar[SuggestionType]
    SUGGESTION_TYPE_PROMOTE_TO_TIER1: _ClassVar[SuggestionType]
    SUGGESTION_TYPE_ADD_TIER2: _ClassVar[SuggestionType]
    SUGGESTION_TYPE_DEMOTE_TO_TIER2: _ClassVar[SuggestionType]
    SUGGESTION_TYPE_REMOVE_FROM_TIER2: _ClassVar[SuggestionType]

class SuggestionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SUGGESTION_STATUS_UNSPECIFIED: _ClassVar[SuggestionStatus]
    SUGGESTION_STATUS_PENDING: _ClassVar[SuggestionStatus]
    SUGGESTION_STATUS_APPROVED: _ClassVar[SuggestionStatus]
    SUGGESTION_STATUS_REJECTED: _ClassVar[SuggestionStatus]
    SUGGESTION_STATUS_DEFERRED: _ClassVar[SuggestionStatus]
    SUGGESTION_STATUS_EXPIRED: _ClassVar[SuggestionStatus]

class ReviewDecision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REVIEW_DECISION_UNSPECIFIED: _ClassVar[ReviewDecision]
    REVIEW_DECISION_APPROVE: _ClassVar[ReviewDecision]
    REVIEW_DECISION_REJECT: _ClassVar[ReviewDecision]
    REVIEW_DECISION_DEFER: _ClassVar[ReviewDecision]
WATCHLIST_TIER_UNSPECIFIED: WatchlistTier
WATCHLIST_TIER_1: WatchlistTier
WATCHLIST_TIER_2: WatchlistTier
SUGGESTION_TYPE_UNSPECIFIED: SuggestionType
SUGGESTION_TYPE_PROMOTE_TO_TIER1: SuggestionType
SUGGESTION_TYPE_ADD_TIER2: SuggestionType
SUGGESTION_TYPE_DEMOTE_TO_TIER2: SuggestionType
SUGGESTION_TYPE_REMOVE_FROM_TIER2: SuggestionType
SUGGESTION_STATUS_UNSPECIFIED: SuggestionStatus
SUGGESTION_STATUS_PENDING: SuggestionStatus
SUGGESTION_STATUS_APPROVED: SuggestionStatus
SUGGESTION_STATUS_REJECTED: SuggestionStatus
SUGGESTION_STATUS_DEFERRED: SuggestionStatus
SUGGESTION_STATUS_EXPIRED: SuggestionStatus
REVIEW_DECISION_UNSPECIFIED: ReviewDecision
REVIEW_DECISION_APPROVE: ReviewDecision
REVIEW_DECISION_REJECT: ReviewDecision
REVIEW_DECISION_DEFER: ReviewDecision
