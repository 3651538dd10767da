"""HTTP plumbing for live sources: retries with exponential backoff + jitter, rate limits.

* 429 (and Binance's 418 IP ban): wait ``Retry-After`` seconds (or the backoff delay when
  the header is missing) and retry; a wait longer than ``max_retry_after`` raises
  ``SourceRateLimited`` instead of blocking the caller for minutes.
* 5xx, timeouts and connection errors: exponential backoff
  ``min(max_delay, base_delay * 2**attempt) * (1 + jitter * U(-1, 1))``.
* other 4xx: ``SourceError`` carrying the provider's error body (e.g. Binance's
  ``{"code": -1121, "msg": "Invalid symbol."}``) - retrying would not help.
* Binance request weight: after each response the ``X-MBX-USED-WEIGHT-1M`` header is read;
  above ``weight_soft_limit`` the client pauses ``weight_pause`` seconds before the next call.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any

import httpx


class SourceError(RuntimeError):
    """A source answered with an error that retrying will not fix (or retries ran out)."""

    def __init__(self, message: str, *, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class SourceRateLimited(SourceError):
    """Rate limited for longer than the client is willing to wait."""

    def __init__(self, message: str, *, status: int, retry_after: float, body: Any = None) -> None:
        super().__init__(message, status=status, body=body)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    jitter: float = 0.25  # +- fraction of the delay
    max_retry_after: float = 120.0  # longest Retry-After we sleep through
    weight_soft_limit: int = 5000  # Binance: 6000 weight / minute per IP
    weight_pause: float = 10.0

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        r = rng or random
        delay = min(self.max_delay, self.base_delay * (2**attempt))
        return max(0.0, delay * (1 + self.jitter * r.uniform(-1, 1)))


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


class JsonHttpClient:
    """Async JSON GET client with the retry/rate-limit rules above."""

    def __init__(
        self,
        base_url: str,
        *,
        policy: RetryPolicy | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 10.0,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.policy = policy or RetryPolicy()
        self._client = client or httpx.AsyncClient(timeout=timeout, headers=headers)
        self._own_client = client is None
        self.used_weight: int | None = None
        self.retries = 0
        self.rate_limited = 0

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()

    async def __aenter__(self) -> JsonHttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        url = f"{self.base_url}/{path.lstrip('/')}"
        policy = self.policy
        last_error: Exception | None = None
        for attempt in range(policy.max_attempts):
            try:
                response = await self._client.get(url, params=params)
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                last_error = exc
                self.retries += 1
                await asyncio.sleep(policy.backoff(attempt))
                continue
            self._track_weight(response)
            status = response.status_code
            if status in (418, 429):
                self.rate_limited += 1
                wait = _retry_after(response)
                wait = policy.backoff(attempt) if wait is None else wait
                if wait > policy.max_retry_after:
                    raise SourceRateLimited(
                        f"{url}: rate limited ({status}) for {wait:.0f}s",
                        status=status,
                        retry_after=wait,
                        body=_body(response),
                    )
                last_error = SourceError(f"{url}: HTTP {status}", status=status, body=_body(response))
                self.retries += 1
                await asyncio.sleep(wait)
                continue
            if status >= 500:
                last_error = SourceError(f"{url}: HTTP {status}", status=status, body=_body(response))
                self.retries += 1
                await asyncio.sleep(policy.backoff(attempt))
                continue
            if status >= 400:
                raise SourceError(
                    f"{url}: HTTP {status}: {_body(response)}", status=status, body=_body(response)
                )
            if self.used_weight is not None and self.used_weight >= policy.weight_soft_limit:
                await asyncio.sleep(policy.weight_pause)
            return response.json()
        raise SourceError(
            f"{url}: giving up after {policy.max_attempts} attempts: {last_error}"
        ) from last_error

    def _track_weight(self, response: httpx.Response) -> None:
        for header in ("x-mbx-used-weight-1m", "x-mbx-used-weight"):
            value = response.headers.get(header)
            if value is not None:
                try:
                    self.used_weight = int(value)
                except ValueError:
                    pass
                return
