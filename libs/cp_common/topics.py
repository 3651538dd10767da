"""Registry of Kafka topics: each topic's protobuf message type and its record-key field.

One protobuf message type per topic (blueprint section 3). The record key is the entity the
event is about (symbol, signal id, watchlist id, user id...) so that Kafka keeps events about
one entity in order. Topics about the market as a whole (macro regime, sector rotation, market
snapshots) have no entity field: every record gets :data:`GLOBAL_KEY`, which keeps them in one
partition and therefore in order.

Event metadata does not live in the message: the producer sets the Kafka headers
``event-id`` (UUID), ``event-type`` (:func:`event_type`, the message's full protobuf name),
``content-type`` (:data:`CONTENT_TYPE`) and ``traceparent``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from google.protobuf.message import Message

from cryptopredict.events.v1 import (
    admin_pb2,
    analysis_pb2,
    cascade_pb2,
    market_pb2,
    signals_pb2,
    users_pb2,
    watchlists_pb2,
)

#: ``content-type`` header value for every event payload.
CONTENT_TYPE = "application/x-protobuf"
#: Record key for topics whose events describe the whole market rather than one entity.
GLOBAL_KEY = b"global"
DLQ_SUFFIX = ".dlq"


class UnknownTopicError(KeyError):
    """The topic name is not in the registry."""


@dataclass(frozen=True)
class Topic:
    """One Kafka topic: its name, its message type and where the record key comes from."""

    name: str
    message_type: type[Message]
    #: Dotted path of the field holding the entity id (``"candle.symbol"``), or ``None`` for
    #: market-wide topics keyed by :data:`GLOBAL_KEY`.
    key_field: str | None

    @property
    def event_type(self) -> str:
        """The ``event-type`` header: the message's full protobuf name."""
        return self.message_type.DESCRIPTOR.full_name

    @property
    def dlq(self) -> str:
        return dlq_topic(self.name)

    def key_for(self, message: Message) -> bytes:
        """The Kafka record key for ``message`` (UTF-8 of the entity id)."""
        if not isinstance(message, self.message_type):
            raise TypeError(
                f"topic {self.name} carries {self.event_type}, not {message.DESCRIPTOR.full_name}"
            )
        if self.key_field is None:
            return GLOBAL_KEY
        value: object = message
        for part in self.key_field.split("."):
            value = getattr(value, part)
        if not isinstance(value, str) or not value:
            # An empty key would scatter the entity's events over partitions and lose ordering.
            raise ValueError(f"{self.event_type}.{self.key_field} must be set to publish on {self.name}")
        return value.encode()

    def decode(self, payload: bytes) -> Message:
        """Parse a record value into this topic's message type."""
        message = self.message_type()
        message.ParseFromString(payload)
        return message


USERS = Topic("users.v1", users_pb2.UserChanged, "user_id")
MARKET_CANDLES = Topic("market.candles.v1", market_pb2.CandleClosed, "candle.symbol")
MARKET_SNAPSHOTS = Topic("market.snapshots.v1", market_pb2.MarketSnapshotTaken, None)
ANALYSIS_MACRO = Topic("analysis.macro.v1", analysis_pb2.MacroRegimeAnalyzed, None)
ANALYSIS_SECTOR = Topic("analysis.sector.v1", analysis_pb2.SectorRotationAnalyzed, None)
ANALYSIS_ASSET = Topic("analysis.asset.v1", analysis_pb2.AssetScored, "symbol")
WATCHLIST_SUGGESTIONS = Topic(
    "watchlist.suggestions.v1", watchlists_pb2.WatchlistSuggestionCreated, "suggestion_id"
)
WATCHLIST_CHANGES = Topic("watchlist.changes.v1", watchlists_pb2.WatchlistChanged, "watchlist_id")
SUGGESTION_REVIEWS = Topic("suggestions.reviews.v1", watchlists_pb2.SuggestionReviewed, "suggestion_id")
SIGNALS = Topic("signals.v1", signals_pb2.SignalChanged, "signal.signal_id")
CASCADE_RUNS = Topic("cascade.runs.v1", cascade_pb2.CascadeRunUpdated, "run_id")
ADMIN_NOTIFICATIONS = Topic("admin.notifications.v1", admin_pb2.AdminNotificationRaised, "notification_id")

#: Every topic of the fleet by name.
TOPICS: Mapping[str, Topic] = MappingProxyType(
    {
        t.name: t
        for t in (
            USERS,
            MARKET_CANDLES,
            MARKET_SNAPSHOTS,
            ANALYSIS_MACRO,
            ANALYSIS_SECTOR,
            ANALYSIS_ASSET,
            WATCHLIST_SUGGESTIONS,
            WATCHLIST_CHANGES,
            SUGGESTION_REVIEWS,
            SIGNALS,
            CASCADE_RUNS,
            ADMIN_NOTIFICATIONS,
        )
    }
)


def get(name: str) -> Topic:
    """The registered topic ``name``; raises :class:`UnknownTopicError` otherwise."""
    try:
        return TOPICS[name]
    except KeyError:
        raise UnknownTopicError(name) from None


def all_topics() -> tuple[str, ...]:
    return tuple(TOPICS)


def message_type(name: str) -> type[Message]:
    return get(name).message_type


def event_type(name: str) -> str:
    return get(name).event_type


def key_field(name: str) -> str | None:
    return get(name).key_field


def record_key(name: str, message: Message) -> bytes:
    return get(name).key_for(message)


def decode(name: str, payload: bytes) -> Message:
    return get(name).decode(payload)


def dlq_topic(name: str) -> str:
    """Dead-letter topic for ``name``: messages its consumers could not handle go there."""
    return f"{name}{DLQ_SUFFIX}"


def topic_for_event_type(event_type_name: str) -> Topic:
    """Reverse lookup from an ``event-type`` header (types are unique per topic)."""
    for topic in TOPICS.values():
        if topic.event_type == event_type_name:
            return topic
    raise UnknownTopicError(event_type_name)
