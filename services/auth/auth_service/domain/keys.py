"""Signing keys: one private key per file in a directory, and which of them signs when.

A key directory (a mounted Kubernetes secret, or ``<state dir>/auth-keys`` in local mode) holds
``<kid>.pem`` files, PKCS#8 private keys, Ed25519 (``EdDSA``) or RSA (``RS256``). The ``kid``
starts with the key's creation time, ``20250101T120000Z-3f9a1c0d``, so every replica derives the
same schedule from the file names alone:

- a key becomes *active* (signs new tokens) ``activation_delay`` after its creation, so it is
  published in the JWKS before any token names it (verifiers that cached the old set have time to
  fetch the new one); the newest eligible key is the active one;
- newer keys are *pending*: published, not signing;
- an older key is *retired* once a newer key became active, and stays published for
  ``retention`` (the access-token lifetime plus leeway): every token it signed can still be
  verified until it expires. After that it is *expired* and no longer published.

If no key is old enough (the very first key) the oldest key signs immediately.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm

KID_PATTERN = re.compile(r"^(?P<created>\d{8}T\d{6}Z)-(?P<suffix>[a-z0-9]{4,32})$")
KID_TIME_FORMAT = "%Y%m%dT%H%M%SZ"
KEY_SUFFIX = ".pem"
ALGORITHMS = ("EdDSA", "RS256")
RSA_KEY_BITS = 3072

PrivateKey = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey


class KeyConfigurationError(RuntimeError):
    """The key directory is missing, empty or holds a file that is not a usable key."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    created_at: datetime
    algorithm: str
    private_key: PrivateKey

    def public_jwk(self) -> dict[str, Any]:
        public = self.private_key.public_key()
        jwk: dict[str, Any] = (
            RSAAlgorithm.to_jwk(public, as_dict=True)
            if isinstance(public, rsa.RSAPublicKey)
            else OKPAlgorithm.to_jwk(public, as_dict=True)
        )
        jwk.update({"kid": self.kid, "alg": self.algorithm, "use": "sig"})
        return jwk


@dataclass(frozen=True)
class KeySchedule:
    """Which key signs at one moment, and which are published."""

    active: SigningKey
    pending: tuple[SigningKey, ...]
    retired: tuple[SigningKey, ...]  # still published
    expired: tuple[SigningKey, ...]  # no longer published

    @property
    def published(self) -> tuple[SigningKey, ...]:
        return (self.active, *self.pending, *self.retired)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [key.public_jwk() for key in self.published]}


def new_kid(now: datetime) -> str:
    return f"{now.astimezone(UTC).strftime(KID_TIME_FORMAT)}-{secrets.token_hex(4)}"


def kid_created_at(kid: str) -> datetime:
    match = KID_PATTERN.match(kid)
    if match is None:
        raise KeyConfigurationError(
            f"key id {kid!r} does not follow <YYYYMMDDTHHMMSSZ>-<suffix> (see the key rotation procedure)"
        )
    return datetime.strptime(match["created"], KID_TIME_FORMAT).replace(tzinfo=UTC)


def algorithm_of(private_key: object) -> str:
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        return "EdDSA"
    if isinstance(private_key, rsa.RSAPrivateKey):
        if private_key.key_size < 2048:
            raise KeyConfigurationError("RSA signing keys must have at least 2048 bits")
        return "RS256"
    raise KeyConfigurationError(f"unsupported key type {type(private_key).__name__} (Ed25519 or RSA)")


def generate_key(directory: Path, algorithm: str = "EdDSA", *, now: datetime | None = None) -> SigningKey:
    """Create a new key file in ``directory`` (mode 0600, written atomically) and return it."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {ALGORITHMS}")
    now = now or datetime.now(UTC)
    private_key: PrivateKey = (
        ed25519.Ed25519PrivateKey.generate()
        if algorithm == "EdDSA"
        else rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
    )
    kid = new_kid(now)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = directory / f".{kid}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    temporary.rename(directory / f"{kid}{KEY_SUFFIX}")
    return SigningKey(kid, kid_created_at(kid), algorithm, private_key)


def load_key(path: Path) -> SigningKey:
    kid = path.name.removesuffix(KEY_SUFFIX)
    created_at = kid_created_at(kid)
    try:
        private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise KeyConfigurationError(f"{path.name}: not a readable unencrypted PEM private key") from exc
    return SigningKey(kid, created_at, algorithm_of(private_key), private_key)  # type: ignore[arg-type]


def load_keys(directory: Path) -> list[SigningKey]:
    """Every ``*.pem`` key in ``directory``, oldest first (hidden files are ignored: Kubernetes
    secret volumes keep their own ``..data`` entries there)."""
    if not directory.is_dir():
        raise KeyConfigurationError(f"signing key directory {directory} does not exist")
    paths = sorted(
        p for p in directory.iterdir() if p.name.endswith(KEY_SUFFIX) and not p.name.startswith(".")
    )
    return sorted((load_key(p) for p in paths), key=lambda k: (k.created_at, k.kid))


def schedule(
    keys: Sequence[SigningKey], *, now: datetime, activation_delay: timedelta, retention: timedelta
) -> KeySchedule:
    """Decide the active, pending, retired and expired keys at ``now`` (see the module doc)."""
    ordered = sorted(keys, key=lambda k: (k.created_at, k.kid))
    if not ordered:
        raise KeyConfigurationError("no signing key")
    eligible = [i for i, key in enumerate(ordered) if key.created_at + activation_delay <= now]
    active_index = eligible[-1] if eligible else 0
    retired: list[SigningKey] = []
    expired: list[SigningKey] = []
    for index in range(active_index):
        # Retired when the next key became active; its tokens live at most ``retention`` longer.
        retired_at = ordered[index + 1].created_at + activation_delay
        (retired if now < retired_at + retention else expired).append(ordered[index])
    return KeySchedule(
        active=ordered[active_index],
        pending=tuple(ordered[active_index + 1 :]),
        retired=tuple(retired),
        expired=tuple(expired),
    )


def prune(directory: Path, keys: Iterable[SigningKey]) -> list[str]:
    """Delete the files of ``keys`` (expired ones); returns their kids."""
    removed = []
    for key in keys:
        (directory / f"{key.kid}{KEY_SUFFIX}").unlink(missing_ok=True)
        removed.append(key.kid)
    return removed
