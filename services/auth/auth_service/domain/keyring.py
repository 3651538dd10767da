"""The live set of signing keys of one auth process, re-read from its directory periodically.

Rotation needs no restart: a key file added to (or removed from) the directory is picked up at
the next reload, and the schedule (:func:`auth_service.domain.keys.schedule`) moves from key to
key by the clock. A reload that fails (a half-written secret, a bad file) keeps the keys already
loaded and logs a warning; only the first load at start-up is fatal.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from auth_service.audit import SIGNING_KEYS
from auth_service.domain.keys import (
    KeyConfigurationError,
    KeySchedule,
    SigningKey,
    generate_key,
    load_keys,
    schedule,
)

log = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


class KeyRing:
    def __init__(
        self,
        directory: Path,
        *,
        activation_delay: timedelta,
        retention: timedelta,
        generate_algorithm: str | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        """``generate_algorithm``: create a first key of that algorithm if the directory has none
        (local and test mode); ``None`` makes an empty directory an error (production)."""
        self.directory = directory
        self.activation_delay = activation_delay
        self.retention = retention
        self.generate_algorithm = generate_algorithm
        self.clock = clock
        self._keys: list[SigningKey] = []

    def load(self) -> None:
        """Read the directory (creating a first key if allowed); raise if no usable key results."""
        if self.generate_algorithm is not None:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        keys = load_keys(self.directory)
        if not keys:
            if self.generate_algorithm is None:
                raise KeyConfigurationError(f"no signing key in {self.directory}")
            keys = [generate_key(self.directory, self.generate_algorithm, now=self.clock())]
            log.info("generated a first signing key", extra={"kid": keys[0].kid})
        self._keys = keys
        log.info(
            "signing keys loaded", extra={"kids": [k.kid for k in keys], "active": self.signing_key().kid}
        )

    def reload(self) -> None:
        try:
            keys = load_keys(self.directory)
            if not keys:
                raise KeyConfigurationError(f"no signing key in {self.directory}")
        except KeyConfigurationError as exc:
            log.warning("signing keys not reloaded; keeping the loaded ones", extra={"error": str(exc)})
            return
        if {k.kid for k in keys} != {k.kid for k in self._keys}:
            self._keys = keys
            log.info("signing keys reloaded", extra={"kids": [k.kid for k in keys]})

    def schedule(self) -> KeySchedule:
        if not self._keys:
            raise KeyConfigurationError("signing keys not loaded")
        current = schedule(
            self._keys, now=self.clock(), activation_delay=self.activation_delay, retention=self.retention
        )
        SIGNING_KEYS.labels("active").set(1)
        SIGNING_KEYS.labels("pending").set(len(current.pending))
        SIGNING_KEYS.labels("retired").set(len(current.retired))
        return current

    def signing_key(self) -> SigningKey:
        return self.schedule().active

    def jwks(self) -> dict[str, Any]:
        return self.schedule().jwks()

    async def watch(self, interval_s: float) -> None:
        """Reload every ``interval_s`` seconds until cancelled."""
        while True:
            await asyncio.sleep(interval_s)
            await asyncio.to_thread(self.reload)
