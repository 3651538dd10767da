"""Layer 1 keeps its latest result current without a cascade run.

Every few seconds (each replica): if the latest market day has no analysis by the active
model yet (a new daily candle or snapshot arrived, or a model was activated), analyse it under
the run id ``market:<day>:<model version>``. The kit stores a run once, so replicas racing
for the same day store and publish one result.
"""

from __future__ import annotations

import asyncio
import logging

from cp_layer_kit import LayerKit, run_analysis
from cp_layer_kit.convert import timestamp
from cp_layer_kit.inputs import DAY
from cryptopredict.analysis.v1 import macro_pb2
from layer1_macro_service.analysis import MARKET_RUN_PREFIX, compute
from layer1_macro_service.settings import Layer1Settings

log = logging.getLogger(__name__)


def market_run_id(kit: LayerKit) -> str | None:
    """The run id the latest day's own analysis has, or None when it cannot run."""
    loaded, inputs = kit.model.loaded, kit.view.inputs
    if loaded is None or inputs is None or kit.model.status != "active":
        return None
    return f"{MARKET_RUN_PREFIX}{inputs.last_day.date().isoformat()}:{loaded.label}"


async def refresh_once(kit: LayerKit) -> bool:
    """Analyse the latest day if it has not been; returns whether a new analysis was stored."""
    run_id = market_run_id(kit)
    if run_id is None or await kit.results.find(run_id) is not None:
        return False
    inputs = kit.require_inputs()
    request = macro_pb2.AnalyzeMacroRequest(
        cascade_run_id=run_id, as_of=timestamp((inputs.last_day + DAY).to_pydatetime())
    )
    response = await run_analysis(kit, request, macro_pb2.AnalyzeMacroResponse, compute)
    return not response.run.replayed


async def keep_latest_current(kit: LayerKit) -> None:
    settings = kit.settings
    if not isinstance(settings, Layer1Settings) or not settings.layer1_refresh_latest:
        return
    while True:
        try:
            await refresh_once(kit)
        except Exception as exc:  # the next round tries again
            log.warning("layer 1 refresh failed", extra={"error": repr(exc)})
        await asyncio.sleep(settings.layer1_refresh_interval_s)
