"""The cascade's universe without the admin service: not configured, or configured and not
answering, the orchestrator runs on its configured default tiers (no error, no long wait). With
the admin service answering, its tier sets are used (``tests/fleet/test_orchestrator_fleet.py``)."""

from __future__ import annotations

import time
from collections.abc import Callable

from orchestrator_service.clients import Universe
from orchestrator_service.settings import OrchestratorSettings


def _settings(**values: object) -> OrchestratorSettings:
    return OrchestratorSettings(
        environment="test",
        orchestrator_default_tier1="BTC,eth",
        orchestrator_default_tier2="LTC, ETH ,UNI",
        orchestrator_watchlist_timeout_s=2.0,
        **values,
    )


async def test_without_a_watchlist_target_the_default_tiers_are_used() -> None:
    universe = Universe(_settings(orchestrator_watchlist_target=None))
    try:
        tiers = await universe.tier_sets()
    finally:
        await universe.aclose()
    assert (tiers.tier1, tiers.tier2, tiers.source) == (["BTC", "ETH"], ["LTC", "ETH", "UNI"], "default")
    assert tiers.symbols == ["BTC", "ETH", "LTC", "UNI"]


async def test_an_admin_service_that_does_not_answer_falls_back_within_the_timeout(
    free_port: Callable[[], int],
) -> None:
    universe = Universe(_settings(orchestrator_watchlist_target=f"127.0.0.1:{free_port()}"))
    began = time.monotonic()
    try:
        tiers = await universe.tier_sets()
    finally:
        await universe.aclose()
    assert tiers.source == "default" and tiers.tier1 == ["BTC", "ETH"]
    assert time.monotonic() - began < 2.5
