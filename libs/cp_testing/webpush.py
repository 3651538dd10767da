"""A local Web Push service for tests, and browsers that subscribe to it.

:class:`TestBrowser` is what a browser holds for one PushSubscription: a P-256 key pair and a
16-byte auth secret (RFC 8291), and the endpoint URL the push service gave it.
:class:`LocalPushService` is an aiohttp server on a free loopback port that does what a real push
service does with a message, independently of the sender's libraries: it verifies the VAPID
header (RFC 8292: ``Authorization: vapid t=<JWT>,k=<key>``, the JWT ES256-signed by ``k``,
``k`` the expected application server key, ``aud`` this origin, ``exp`` in the future and at
most 24 h away, a ``sub``), then decrypts the aes128gcm body (RFC 8188) with the browser's
private key and auth secret. Each endpoint answers with the status the test sets for it.
"""

from __future__ import annotations

import base64
import json
import secrets
import socket
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import http_ece
import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

#: RFC 8292: a VAPID token must not be valid for more than 24 hours.
MAX_TOKEN_LIFETIME_S = 24 * 3600


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PushRefused(Exception):
    """The message is not one a push service would accept (the reason says why)."""


@dataclass
class TestBrowser:
    """One subscription's browser side: the keys it generated and the endpoint it got."""

    __test__ = False  # not a pytest test class

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth_secret: bytes = field(default_factory=lambda: secrets.token_bytes(16))

    @property
    def p256dh(self) -> str:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(point)

    def subscription(self) -> dict[str, Any]:
        """What ``PushSubscription.toJSON()`` gives the page."""
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth_secret)},
        }

    def decrypt(self, body: bytes) -> bytes:
        plain: bytes = http_ece.decrypt(
            body, private_key=self.private_key, auth_secret=self.auth_secret, version="aes128gcm"
        )
        return plain


@dataclass
class PushMessage:
    """A message the service accepted: its endpoint token, VAPID claims, headers and payload."""

    token: str
    claims: dict[str, Any]
    headers: dict[str, str]
    payload: Any


class LocalPushService:
    """``async with LocalPushService(application_server_key) as push:`` then ``push.browser()``."""

    def __init__(self, application_server_key: str) -> None:
        self.application_server_key = application_server_key
        self.messages: list[PushMessage] = []
        #: Messages refused (bad signature, undecryptable...) with the reason.
        self.refused: list[str] = []
        #: Requests per endpoint token, whatever their outcome.
        self.requests: dict[str, int] = {}
        self._browsers: dict[str, TestBrowser] = {}
        self._statuses: dict[str, int] = {}
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.origin = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        app = web.Application()
        app.router.add_post("/push/{token}", self._receive)
        self._runner = web.AppRunner(app, access_log=None)

    async def __aenter__(self) -> LocalPushService:
        await self._runner.setup()
        await web.SockSite(self._runner, self._sock).start()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._runner.cleanup()
        self._sock.close()

    def browser(self, status: int = 201) -> TestBrowser:
        """A new browser subscribed here; its endpoint answers ``status`` (see :meth:`answer`)."""
        token = secrets.token_urlsafe(12)
        found = TestBrowser(f"{self.origin}/push/{token}")
        self._browsers[token] = found
        self._statuses[token] = status
        return found

    def answer(self, browser: TestBrowser, status: int) -> None:
        self._statuses[browser.endpoint.rsplit("/", 1)[1]] = status

    def received_by(self, browser: TestBrowser) -> list[PushMessage]:
        token = browser.endpoint.rsplit("/", 1)[1]
        return [m for m in self.messages if m.token == token]

    def requests_to(self, browser: TestBrowser) -> int:
        return self.requests.get(browser.endpoint.rsplit("/", 1)[1], 0)

    async def _receive(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        self.requests[token] = self.requests.get(token, 0) + 1
        browser = self._browsers.get(token)
        if browser is None:
            return web.Response(status=404)
        body = await request.read()
        try:
            claims = self.verify_vapid(request.headers.get("Authorization", ""))
            payload = self._decrypt(browser, request, body)
        except PushRefused as exc:
            self.refused.append(str(exc))
            return web.Response(status=400, text=str(exc))
        status = self._statuses[token]
        if 200 <= status < 300:
            self.messages.append(PushMessage(token, claims, dict(request.headers), payload))
        return web.Response(status=status)

    def verify_vapid(self, header: str) -> dict[str, Any]:
        scheme, _, params = header.partition(" ")
        if scheme.lower() != "vapid":
            raise PushRefused(f"Authorization scheme {scheme!r} is not vapid")
        fields = dict(part.strip().split("=", 1) for part in params.split(",") if "=" in part)
        if "t" not in fields or "k" not in fields:
            raise PushRefused("Authorization lacks t= or k=")
        if fields["k"] != self.application_server_key:
            raise PushRefused("k is not the application server key the browser subscribed with")
        try:
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(fields["k"]))
            claims: dict[str, Any] = jwt.decode(
                fields["t"],
                key,
                algorithms=["ES256"],
                audience=self.origin,
                options={"require": ["aud", "exp", "sub"]},
            )
        except (ValueError, jwt.PyJWTError) as exc:
            raise PushRefused(f"VAPID token refused: {exc}") from None
        if claims["exp"] > time.time() + MAX_TOKEN_LIFETIME_S:
            raise PushRefused("VAPID token valid for more than 24 hours")
        if not str(claims["sub"]).startswith(("mailto:", "https://")):
            raise PushRefused("sub is neither mailto: nor https:")
        return claims

    def _decrypt(self, browser: TestBrowser, request: web.Request, body: bytes) -> Any:
        if request.headers.get("Content-Encoding") != "aes128gcm":
            raise PushRefused("Content-Encoding is not aes128gcm")
        if "TTL" not in request.headers:
            raise PushRefused("no TTL header")
        if len(body) > 4096:
            raise PushRefused(f"body of {len(body)} bytes is above 4096")
        try:
            return json.loads(browser.decrypt(body))
        except Exception as exc:  # any decryption failure is a refusal
            raise PushRefused(f"payload does not decrypt: {type(exc).__name__}: {exc}") from None
