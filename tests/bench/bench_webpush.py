"""Web push benchmark: what one push attempt costs next to one webhook attempt.

Both channels' real ``attempt`` (address check, headers, the pinned POST through the shared
httpx client) run against the same bare aiohttp receiver on loopback that answers at once, one
attempt at a time, interleaved in rounds so drift hits both alike. The web push attempt adds
the aes128gcm encryption for the browser (a fresh ECDH key per message) and a VAPID ES256
signature; the webhook attempt an HMAC-SHA256. Figures: per-attempt latency p50/p99 of each and
their ratio, the CPU time of the per-message cryptography alone (encrypt + sign against HMAC),
and the sizes of a signal alert's push message before and after encryption. One message first
goes to ``cp_testing.webpush.LocalPushService`` to show the measured attempts are valid pushes.
"""

from __future__ import annotations

import json
import socket
import statistics
import time
import uuid
from typing import Any

import httpx
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec

from cp_testing.webpush import LocalPushService, TestBrowser
from notification_service import repository as repo
from notification_service.settings import NotificationSettings
from notification_service.webhooks import signing
from notification_service.webhooks.delivery import WebhookChannel
from notification_service.webpush import channel as webpush_channel
from notification_service.webpush.payload import push_payload
from notification_service.webpush.vapid import VapidKey

ROUNDS = 20
PER_ROUND = 25
CRYPTO_MESSAGES = 1_000


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _signal_payload() -> dict[str, Any]:
    data = {
        "signal_id": str(uuid.uuid4()),
        "symbol": "BTC",
        "crypto_symbol": "BTC",
        "signal_type": "long",
        "status": "active",
        "confidence": 0.81,
        "entry_price": 42000.0,
        "target_price": 44100.0,
        "stop_loss": 41000.0,
        "time_horizon_hours": 24,
        "generated_at": "2026-01-01T00:00:00Z",
        "expires_at": "2026-01-02T00:00:00Z",
        "ai_analysis": "Momentum and sector rotation agree. " * 20,
    }
    return {
        "type": "new_signal",
        "event_id": str(uuid.uuid4()),
        "timestamp": "2026-01-01T00:00:00Z",
        "data": data,
    }


def _delivery(url: str, body: bytes, push: repo.PushKeys | None) -> repo.DueDelivery:
    return repo.DueDelivery(
        id=uuid.uuid4(),
        endpoint_id=None if push else uuid.uuid4(),
        user_id="bench",
        url=url,
        secret="" if push else signing.new_secret(),
        event_id=uuid.uuid4(),
        event_type="new_signal",
        body=body,
        attempts=0,
        push=push,
    )


class BareReceiver:
    """Answers every POST with 201 at once (the cost of a push service is not measured)."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}/push/bench"
        app = web.Application()
        app.router.add_post("/push/{token}", self._answer)
        self._runner = web.AppRunner(app, access_log=None)

    async def _answer(self, request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=201)

    async def __aenter__(self) -> BareReceiver:
        await self._runner.setup()
        await web.SockSite(self._runner, self._sock).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._runner.cleanup()
        self._sock.close()


def _crypto_cost(key: VapidKey, browser: TestBrowser, body: bytes) -> dict[str, float]:
    keys = repo.PushKeys(uuid.uuid4(), browser.p256dh, browser.subscription()["keys"]["auth"])
    secret = signing.new_secret()
    started = time.process_time()
    for _ in range(CRYPTO_MESSAGES):
        signing.signature_header(secret, body)
    hmac_us = (time.process_time() - started) / CRYPTO_MESSAGES * 1e6
    started = time.process_time()
    for _ in range(CRYPTO_MESSAGES):
        webpush_channel.encrypt(body, keys, browser.endpoint)
        key.authorization(browser.endpoint)
    push_us = (time.process_time() - started) / CRYPTO_MESSAGES * 1e6
    return {
        "webhook_hmac_cpu_us_per_message": round(hmac_us, 1),
        "webpush_encrypt_and_sign_cpu_us_per_message": round(push_us, 1),
        "crypto_cpu_ratio_webpush_over_webhook": round(push_us / hmac_us, 1),
    }


async def _valid_push(
    settings: NotificationSettings, client: httpx.AsyncClient, key: VapidKey, body: bytes
) -> bool:
    async with LocalPushService(key.public_key) as service:
        browser = service.browser()
        keys = repo.PushKeys(uuid.uuid4(), browser.p256dh, browser.subscription()["keys"]["auth"])
        result = await webpush_channel.WebPushChannel(settings, client, key).attempt(
            _delivery(browser.endpoint, body, keys)
        )
        return result.ok and not service.refused and len(service.received_by(browser)) == 1


async def run() -> dict[str, Any]:
    settings = NotificationSettings(environment="test", notification_webhook_allow_private=True)
    key = VapidKey(ec.generate_private_key(ec.SECP256R1()), "mailto:bench@example.com")
    message = push_payload(_signal_payload())
    body = json.dumps(message).encode()
    webhook_body = json.dumps(_signal_payload()).encode()
    timings: dict[str, list[float]] = {"webhook": [], "webpush": []}
    async with BareReceiver() as receiver, httpx.AsyncClient(timeout=10, follow_redirects=False) as client:
        valid = await _valid_push(settings, client, key, body)
        browser = TestBrowser(receiver.url)
        keys = repo.PushKeys(uuid.uuid4(), browser.p256dh, browser.subscription()["keys"]["auth"])
        channels = {
            "webhook": (WebhookChannel(settings, client), _delivery(receiver.url, webhook_body, None)),
            "webpush": (
                webpush_channel.WebPushChannel(settings, client, key),
                _delivery(receiver.url, body, keys),
            ),
        }
        for _ in range(ROUNDS):
            for name, (chosen, delivery) in channels.items():
                for _ in range(PER_ROUND):
                    started = time.perf_counter()
                    result = await chosen.attempt(delivery)
                    timings[name].append((time.perf_counter() - started) * 1000)
                    assert result.ok, result
        sealed = webpush_channel.encrypt(body, keys, receiver.url)
    figures: dict[str, Any] = {
        "attempts_per_channel": ROUNDS * PER_ROUND,
        "push_verified_and_decrypted": valid,
    }
    for name, samples in timings.items():
        figures[f"{name}_attempt_ms_p50"] = round(statistics.median(samples), 3)
        figures[f"{name}_attempt_ms_p99"] = round(_percentile(samples, 0.99), 3)
    figures["attempt_p50_ratio_webpush_over_webhook"] = round(
        figures["webpush_attempt_ms_p50"] / figures["webhook_attempt_ms_p50"], 2
    )
    figures.update(_crypto_cost(key, browser, body))
    figures["push_message_plaintext_bytes"] = len(body)
    figures["push_message_encrypted_bytes"] = len(sealed)
    figures["webhook_body_bytes_same_signal"] = len(webhook_body)
    return figures
