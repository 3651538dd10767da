"""Password policy and argon2id hashing.

Hashing runs in worker threads (argon2 releases the GIL) behind a semaphore, so a login flood
costs bounded memory and never blocks the event loop. :meth:`PasswordHasher.verify_dummy` does
the same work as a real check against a hash of a random password: logins for unknown emails
take as long as logins with a wrong password.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import unicodedata
from dataclasses import dataclass

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from auth_service.audit import PASSWORD_HASH_SECONDS
from cp_common.errors import BadRequest


@dataclass(frozen=True)
class PasswordPolicy:
    """At least ``min_length`` characters with an upper-case letter, a lower-case letter, a digit
    and a symbol (seed 004); at most ``max_length`` (argon2 input is bounded)."""

    min_length: int = 8
    max_length: int = 128

    def problems(self, password: str, *, email: str | None = None) -> list[str]:
        """What is wrong with ``password`` (empty when it is acceptable). Never echoes it."""
        found = []
        if len(password) < self.min_length:
            found.append(f"must be at least {self.min_length} characters long")
        if len(password) > self.max_length:
            found.append(f"must be at most {self.max_length} characters long")
        if any(unicodedata.category(c).startswith("C") for c in password):
            found.append("must not contain control characters")
        if not any(c.isupper() for c in password):
            found.append("must contain an upper-case letter")
        if not any(c.islower() for c in password):
            found.append("must contain a lower-case letter")
        if not any(c.isdigit() for c in password):
            found.append("must contain a digit")
        if not any(not c.isalnum() and not c.isspace() for c in password):
            found.append("must contain a symbol")
        if email and password.strip().lower() == email.lower():
            found.append("must not be the email address")
        return found

    def check(self, password: str, *, email: str | None = None) -> None:
        """Raise :class:`BadRequest` naming every rule ``password`` breaks."""
        problems = self.problems(password, email=email)
        if problems:
            raise BadRequest("Password " + "; ".join(problems))


@dataclass(frozen=True)
class Verification:
    valid: bool
    #: The hash was made with other parameters than the current ones: store a fresh one.
    needs_rehash: bool = False


class PasswordHasher:
    def __init__(
        self, *, time_cost: int = 3, memory_kib: int = 65536, parallelism: int = 4, max_concurrent: int = 4
    ) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=argon2.Type.ID
        )
        self._slots = asyncio.Semaphore(max_concurrent)
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(24))

    async def hash(self, password: str) -> str:
        return await self._run("hash", self._hasher.hash, password)

    async def verify(self, password_hash: str, password: str) -> Verification:
        return await self._run("verify", self._verify_sync, password_hash, password)

    async def verify_dummy(self, password: str) -> None:
        """The cost of a verification, for an account that does not exist."""
        await self._run("verify", self._verify_sync, self._dummy_hash, password)

    def _verify_sync(self, password_hash: str, password: str) -> Verification:
        try:
            self._hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return Verification(valid=False)
        return Verification(valid=True, needs_rehash=self._hasher.check_needs_rehash(password_hash))

    async def _run(self, operation: str, func, *args):  # type: ignore[no-untyped-def]
        async with self._slots:
            started = time.perf_counter()
            try:
                return await asyncio.to_thread(func, *args)
            finally:
                PASSWORD_HASH_SECONDS.labels(operation).observe(time.perf_counter() - started)
