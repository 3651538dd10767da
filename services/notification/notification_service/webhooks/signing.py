"""HMAC-SHA256 signatures over ``timestamp.body``, the way receivers verify a delivery.

Every delivery carries ``X-CryptoPredict-Signature: t=<unix seconds>,v1=<hex digest>`` where the
digest is ``HMAC-SHA256(secret, f"{t}.".encode() + body)``. A receiver recomputes it with the
endpoint's secret, compares in constant time, and refuses timestamps older than a few minutes
(a replayed capture fails). :func:`verify` does exactly that.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SIGNATURE_HEADER = "X-CryptoPredict-Signature"
EVENT_ID_HEADER = "X-CryptoPredict-Event-Id"
EVENT_TYPE_HEADER = "X-CryptoPredict-Event-Type"
DELIVERY_ID_HEADER = "X-CryptoPredict-Delivery-Id"
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
DEFAULT_TOLERANCE_S = 300


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    stamp = int(time.time()) if timestamp is None else timestamp
    return f"t={stamp},v1={digest(secret, stamp, body)}"


def verify(
    secret: str, header: str, body: bytes, *, tolerance_s: int = DEFAULT_TOLERANCE_S, now: float | None = None
) -> bool:
    """True if ``header`` is a valid, recent signature of ``body`` under ``secret``."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        stamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - stamp) > tolerance_s:
        return False
    return hmac.compare_digest(parts.get("v1", ""), digest(secret, stamp, body))
