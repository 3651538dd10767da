"""A layer's own handler of a topic the kit consumes runs after the kit's, as one subscription."""

from __future__ import annotations

from typing import Any

import pytest

from cp_common import topics
from cp_common.kafka import Subscription
from cp_layer_kit.layer import merge_subscriptions


async def test_handlers_of_one_topic_are_chained_in_order() -> None:
    calls: list[str] = []

    def handler(name: str) -> Any:
        async def handle(event: Any, conn: Any) -> None:
            calls.append(name)

        return handle

    candles, snapshots = topics.MARKET_CANDLES, topics.MARKET_SNAPSHOTS
    merged = merge_subscriptions(
        [
            Subscription(candles.name, candles.message_type, handler("kit-candles")),
            Subscription(snapshots.name, snapshots.message_type, handler("kit-snapshots")),
            Subscription(candles.name, candles.message_type, handler("tracker")),
        ]
    )
    assert [s.topic for s in merged] == [candles.name, snapshots.name]
    await merged[0].handler(None, None)  # type: ignore[arg-type]
    assert calls == ["kit-candles", "tracker"]


def test_one_topic_with_two_message_types_is_refused() -> None:
    async def nothing(event: Any, conn: Any) -> None:
        return None

    with pytest.raises(ValueError, match="disagree"):
        merge_subscriptions(
            [
                Subscription(topics.MARKET_CANDLES.name, topics.MARKET_CANDLES.message_type, nothing),
                Subscription(topics.MARKET_CANDLES.name, topics.SIGNALS.message_type, nothing),
            ]
        )
