"""The layer-service kit: what every AI layer service (L1 macro .. L4 timing) shares.

A layer service is its gRPC servicer, its REST routes and its layer-specific glue; the kit
gives it everything else, described by one :class:`~cp_layer_kit.layer.LayerDefinition` and
turned into a :class:`cp_common.service.ServiceSpec` by :func:`~cp_layer_kit.layer.layer_service_spec`:

* :mod:`cp_layer_kit.model_holder`: the registry's active model, hot-swapped on activation and
  dropped on deactivation, its status (``active``/``training``/``inactive``/``error``) in
  ``/readyz``, gRPC health and the ``cp_layer_model_status`` gauge; analysis refused with
  ``FAILED_PRECONDITION`` / HTTP 503 "Layer N model not available" when there is none.
* :mod:`cp_layer_kit.market`: a local read model of the daily market (candles, snapshots,
  universe) in the layer's own schema, bootstrapped over ingestion's gRPC ``MarketDataService``
  and kept current from ``market.candles.v1`` / ``market.snapshots.v1``; each replica keeps
  the model inputs computed once per data change, not per call.
* :mod:`cp_layer_kit.results`: each result stored once per (cascade run id, layer) and
  published once through the outbox, also when two replicas answer the same run.
* :mod:`cp_layer_kit.latest`: reads of the latest result through Redis with a TTL.
* :mod:`cp_layer_kit.ratelimit`: per-user limits (Redis, keyed by the token's subject) that
  answer 429 in the envelope with ``Retry-After``.
* :mod:`cp_layer_kit.analysis`: the request flow every layer RPC shares (validation, model,
  market day, replay of a stored run, inference timing into ``cp_layer_inference_seconds``,
  the model version in every result).
"""

from cp_layer_kit.analysis import Analysis, AnalysisRequest, run_analysis
from cp_layer_kit.errors import ModelUnavailable
from cp_layer_kit.layer import LayerDefinition, LayerKit, kit_of, layer_service_spec
from cp_layer_kit.model_holder import LoadedModel, ModelHolder
from cp_layer_kit.settings import LayerSettings

__all__ = [
    "Analysis",
    "AnalysisRequest",
    "LayerDefinition",
    "LayerKit",
    "LayerSettings",
    "LoadedModel",
    "ModelHolder",
    "ModelUnavailable",
    "kit_of",
    "layer_service_spec",
    "run_analysis",
]
