"""FastAPI building blocks: the app factory, the response envelope and error handlers."""

from cp_common.http.app import ReadinessCheck, create_app
from cp_common.http.envelope import Envelope, ErrorEnvelope, ok

__all__ = ["Envelope", "ErrorEnvelope", "ReadinessCheck", "create_app", "ok"]
