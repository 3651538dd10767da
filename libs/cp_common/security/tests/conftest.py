"""Signing keys, a token factory and a real JWKS server on 127.0.0.1 (http.server in a thread)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm

from cp_common.security import JwtVerifier

ISSUER = "cryptopredict-auth"
AUDIENCE = "cryptopredict"


@dataclass
class SigningKey:
    kid: str
    alg: str
    private_key: Any

    def public_jwk(self) -> dict[str, Any]:
        public = self.private_key.public_key()
        codec = RSAAlgorithm if self.alg == "RS256" else OKPAlgorithm
        jwk = codec.to_jwk(public, as_dict=True)
        jwk.update({"kid": self.kid, "alg": self.alg, "use": "sig"})
        return jwk


@dataclass
class JwksServer:
    """Serves ``keys`` as a JWKS document and counts the requests it gets."""

    url: str
    keys: list[SigningKey] = field(default_factory=list)
    hits: int = 0
    status: int = 200

    def publish(self, *keys: SigningKey) -> None:
        self.keys = list(keys)

    def document(self) -> bytes:
        return json.dumps({"keys": [k.public_jwk() for k in self.keys]}).encode()


@pytest.fixture(scope="session")
def rsa_key() -> SigningKey:
    return SigningKey("rsa-1", "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="session")
def rotated_rsa_key() -> SigningKey:
    return SigningKey("rsa-2", "RS256", rsa.generate_private_key(public_exponent=65537, key_size=2048))


@pytest.fixture(scope="session")
def ed_key() -> SigningKey:
    return SigningKey("ed-1", "EdDSA", ed25519.Ed25519PrivateKey.generate())


@pytest.fixture
def jwks_server(rsa_key: SigningKey, ed_key: SigningKey) -> Iterator[JwksServer]:
    state = JwksServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits += 1
            if self.path != "/.well-known/jwks.json" or state.status != 200:
                self.send_response(404 if state.status == 200 else state.status)
                self.end_headers()
                return
            body = state.document()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    state.publish(rsa_key, ed_key)
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def claims(**overrides: Any) -> dict[str, Any]:
    """Valid claims; an override of ``None`` removes the claim."""
    now = int(time.time())
    values: dict[str, Any] = {
        "sub": "user-42",
        "role": "professional",
        "email": "trader@example.com",
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
        "iss": ISSUER,
        "aud": AUDIENCE,
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


TokenFactory = Callable[..., str]


@pytest.fixture
def make_token(rsa_key: SigningKey) -> TokenFactory:
    def make(key: SigningKey | None = None, *, kid: str | None = None, **claim_overrides: Any) -> str:
        key = key or rsa_key
        headers = {"kid": kid if kid is not None else key.kid}
        return jwt.encode(claims(**claim_overrides), key.private_key, algorithm=key.alg, headers=headers)

    return make


@pytest.fixture
async def verifier(jwks_server: JwksServer) -> AsyncIterator[JwtVerifier]:
    v = JwtVerifier(jwks_server.url, issuer=ISSUER, audience=AUDIENCE, min_refresh_interval=60)
    yield v
    await v.aclose()
