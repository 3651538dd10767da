"""The service's VAPID key (RFC 8292): configured, or generated once into the state directory.

Browsers subscribe with the public key (``applicationServerKey``) and push services accept only
messages signed by its private key, so the key must stay the same across restarts and across
replicas: a generated key is written once (mode 0600, atomically: two replicas starting
together keep the first one written) and read back from then on.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import secrets
import time
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid, VapidException

from notification_service.settings import NotificationSettings

log = logging.getLogger(__name__)

#: Lifetime of a signature (RFC 8292 allows at most 24 hours).
TOKEN_LIFETIME_S = 12 * 3600


class VapidKeyError(ValueError):
    """The configured or stored key is not a P-256 private key."""


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    """Strict base64url (``-``/``_``, padding optional); :class:`ValueError` otherwise."""
    stripped = text.rstrip("=")
    if not stripped or not all(c.isalnum() or c in "-_" for c in stripped) or not stripped.isascii():
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except binascii.Error:
        raise ValueError("not base64url") from None


def parse_private_key(text: str) -> ec.EllipticCurvePrivateKey:
    """A PEM key, or base64url of the 32-byte private value or of the DER encoding."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            raw = b64url_decode(text.replace("\n", ""))
            if len(raw) == 32:
                key = ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
            else:
                key = serialization.load_der_private_key(raw, password=None)
    except (ValueError, TypeError) as exc:
        raise VapidKeyError(f"the VAPID private key cannot be read: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise VapidKeyError("the VAPID private key must be an EC P-256 (prime256v1) key")
    return key


def load_or_generate(path: Path) -> ec.EllipticCurvePrivateKey:
    """The key in ``path``; a new one written there (0600) if the file does not exist yet."""
    if path.exists():
        return parse_private_key(path.read_text())
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        os.link(temporary, path)  # fails if another process wrote its key first: keep that one
    except FileExistsError:
        return parse_private_key(path.read_text())
    finally:
        temporary.unlink(missing_ok=True)
    log.info("generated a VAPID key", extra={"path": str(path)})
    return key


class VapidKey:
    """Signs the ``Authorization: vapid t=<JWT>,k=<public key>`` header of a push request."""

    def __init__(self, private_key: ec.EllipticCurvePrivateKey, subject: str) -> None:
        self._vapid = Vapid(private_key)
        self._subject = subject
        point = private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        #: The browsers' ``applicationServerKey``: the uncompressed P-256 point, base64url.
        self.public_key = b64url(point)

    @classmethod
    def from_settings(cls, settings: NotificationSettings) -> VapidKey:
        configured = settings.notification_vapid_private_key
        if configured is not None:
            key = parse_private_key(configured.get_secret_value())
        else:
            key = load_or_generate(settings.vapid_key_file)
        vapid = cls(key, settings.notification_vapid_subject)
        try:  # fail at start-up, not at the first delivery, on a subject push services refuse
            vapid.authorization("https://push.example.com")
        except VapidException as exc:
            raise VapidKeyError(f"NOTIFICATION_VAPID_SUBJECT refused: {exc}") from None
        return vapid

    def authorization(self, endpoint: str, *, now: float | None = None) -> dict[str, str]:
        """The header for a request to ``endpoint``: ``aud`` is its origin."""
        parts = urlsplit(endpoint)
        claims = {
            "aud": f"{parts.scheme}://{parts.netloc}",
            "sub": self._subject,
            "exp": int((now if now is not None else time.time()) + TOKEN_LIFETIME_S),
        }
        headers: dict[str, str] = self._vapid.sign(claims)
        return headers
