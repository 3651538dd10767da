"""Security audit trail: one structured log line and one counter increment per security event.

Lines go to the ``auth_service.audit`` logger as JSON (``audit_event``, ``user_id``, ``actor_id``,
``client_ip``, ...). They never carry a password, a token or a raw email address of an unknown
account: a failed login for an email that has no account logs ``email_hash`` (a truncated
SHA-256) so that repeated attempts can be correlated without storing what was typed.

Metric labels are fixed enumerations (:class:`SecurityEvent`, :class:`LoginOutcome`).
"""

from __future__ import annotations

import hashlib
import logging
from enum import StrEnum
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

from cp_common.metrics import LATENCY_BUCKETS

log = logging.getLogger("auth_service.audit")


class SecurityEvent(StrEnum):
    REGISTERED = "registered"
    ADMIN_BOOTSTRAPPED = "admin_bootstrapped"
    LOGIN_SUCCEEDED = "login_succeeded"
    LOGIN_FAILED = "login_failed"
    ACCOUNT_LOCKED = "account_locked"
    CLIENT_THROTTLED = "client_throttled"
    TOKEN_REFRESHED = "token_refreshed"  # noqa: S105 - an event name
    REFRESH_TOKEN_REUSED = "refresh_token_reused"  # noqa: S105 - an event name
    LOGGED_OUT = "logged_out"
    PASSWORD_CHANGED = "password_changed"  # noqa: S105 - an event name
    ROLE_CHANGED = "role_changed"
    DEACTIVATED = "deactivated"
    REACTIVATED = "reactivated"
    API_KEY_CREATED = "api_key_created"
    API_KEY_REVOKED = "api_key_revoked"
    API_KEY_EXCHANGED = "api_key_exchanged"


class LoginOutcome(StrEnum):
    SUCCESS = "success"
    INVALID_CREDENTIALS = "invalid_credentials"
    LOCKED = "locked"
    INACTIVE = "inactive"
    CLIENT_THROTTLED = "client_throttled"


_WARNINGS = {
    SecurityEvent.LOGIN_FAILED,
    SecurityEvent.ACCOUNT_LOCKED,
    SecurityEvent.CLIENT_THROTTLED,
    SecurityEvent.REFRESH_TOKEN_REUSED,
}

SECURITY_EVENTS = Counter(
    "auth_security_events_total", "Security events recorded in the audit log", ["event"]
)
LOGIN_ATTEMPTS = Counter("auth_login_attempts_total", "Login attempts by outcome", ["outcome"])
TOKENS_ISSUED = Counter("auth_tokens_issued_total", "Tokens issued", ["kind"])
PASSWORD_HASH_SECONDS = Histogram(
    "auth_password_hash_seconds",
    "Time to hash or verify one password (argon2id)",
    ["operation"],
    buckets=LATENCY_BUCKETS,
)
SIGNING_KEYS = Gauge("auth_signing_keys", "Signing keys by state", ["state"])

for _event in SecurityEvent:
    SECURITY_EVENTS.labels(_event.value)
for _outcome in LoginOutcome:
    LOGIN_ATTEMPTS.labels(_outcome.value)


def email_fingerprint(email: str) -> str:
    """A stable, non-reversible-at-a-glance id for an email (correlation without the address)."""
    return hashlib.sha256(email.encode()).hexdigest()[:16]


def record(event: SecurityEvent, **fields: Any) -> None:
    """Count ``event`` and log it with ``fields`` (ids, outcome, client IP; never secrets)."""
    SECURITY_EVENTS.labels(event.value).inc()
    level = logging.WARNING if event in _WARNINGS else logging.INFO
    log.log(level, "security event %s", event.value, extra={"audit_event": event.value, **fields})


def login_attempt(outcome: LoginOutcome) -> None:
    LOGIN_ATTEMPTS.labels(outcome.value).inc()
