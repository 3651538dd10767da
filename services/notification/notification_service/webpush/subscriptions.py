"""What a browser's PushSubscription must be to be stored and used.

``endpoint``: an https URL (plain http only to a loopback address, and only where configured:
a local push server) under the webhooks' address policy, checked when subscribing and before
every delivery. ``keys.p256dh``: base64url of an uncompressed P-256 point (65 bytes, on the
curve); ``keys.auth``: base64url of 16 bytes (RFC 8291).
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec

from notification_service.settings import NotificationSettings
from notification_service.webhooks import addresses
from notification_service.webpush.vapid import b64url_decode

P256DH_BYTES = 65
AUTH_BYTES = 16


def check_p256dh(value: str) -> str:
    try:
        raw = b64url_decode(value)
    except ValueError:
        raise ValueError("keys.p256dh must be base64url") from None
    if len(raw) != P256DH_BYTES or raw[0] != 0x04:
        raise ValueError(f"keys.p256dh must be an uncompressed P-256 point ({P256DH_BYTES} bytes)")
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        raise ValueError("keys.p256dh is not a point on P-256") from None
    return value


def check_auth(value: str) -> str:
    try:
        raw = b64url_decode(value)
    except ValueError:
        raise ValueError("keys.auth must be base64url") from None
    if len(raw) != AUTH_BYTES:
        raise ValueError(f"keys.auth must be {AUTH_BYTES} bytes")
    return value


async def check_endpoint(url: str, settings: NotificationSettings) -> addresses.Target:
    """The allowed, resolved target of a push endpoint; :class:`AddressRefused` otherwise."""
    parts = addresses.parse(url)
    if parts.scheme == "https":
        return await addresses.check(url, allow_private=settings.webhooks_allow_private)
    if not settings.push_allow_http_loopback:
        raise addresses.AddressRefused("push endpoints must be https URLs")
    target = await addresses.check(url, allow_private=True)
    if not all(address.is_loopback for address in target.addresses):
        raise addresses.AddressRefused("plain-http push endpoints are allowed on loopback only")
    return target
