"""The errors a layer service raises on purpose (mapped to HTTP and gRPC by ``cp_common``)."""

from __future__ import annotations

from cp_common.errors import ServiceError


class ModelUnavailable(ServiceError):
    """The layer has no active model: HTTP 503, gRPC ``FAILED_PRECONDITION`` (the seed's
    "Layer N model not available"). Retrying the same call cannot help until a model is
    activated, hence a precondition rather than ``UNAVAILABLE``."""

    status_code = 503
    grpc_code = "FAILED_PRECONDITION"

    def __init__(self, layer: int) -> None:
        super().__init__(f"Layer {layer} model not available")
        self.layer = layer


class MarketDataUnavailable(ServiceError):
    """The read model has no market day at or before the requested one (yet)."""

    status_code = 503
    grpc_code = "FAILED_PRECONDITION"
