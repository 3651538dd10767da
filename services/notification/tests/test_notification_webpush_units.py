"""Web push parts without the service: VAPID keys (configured, generated once, 0600, shared by
processes starting together), the push message size, subscription key rules, and the local push
service's checks failing when they should (so the delivery tests' "verified" means something)."""

from __future__ import annotations

import base64
import stat
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic import command
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from py_vapid import Vapid

from cp_common.db.migrations import alembic_config, current_revision, upgrade
from cp_testing.webpush import LocalPushService, PushRefused, TestBrowser, b64url
from notification_service import MIGRATIONS_DIR, SCHEMA
from notification_service import repository as repo
from notification_service.settings import NotificationSettings
from notification_service.webpush import channel, payload, subscriptions, vapid


def _settings(tmp_path: Path, **overrides: Any) -> NotificationSettings:
    return NotificationSettings(environment="test", CP_STATE_DIR=tmp_path, **overrides)


def _pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_a_generated_key_is_written_once_with_mode_0600_and_read_back(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    first = vapid.VapidKey.from_settings(settings)
    path = tmp_path / "notification" / "vapid-private.pem"
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    again = vapid.VapidKey.from_settings(_settings(tmp_path))  # a restart
    assert again.public_key == first.public_key
    assert len(base64.urlsafe_b64decode(first.public_key + "=")) == 65
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_processes_generating_at_once_end_up_with_one_key(tmp_path: Path) -> None:
    path = tmp_path / "shared" / "vapid.pem"
    keys: list[str] = []
    lock = threading.Lock()

    def start() -> None:
        key = vapid.load_or_generate(path)
        with lock:
            keys.append(_pem(key))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 8 and len(set(keys)) == 1 and keys[0] == path.read_text()
    assert list(path.parent.iterdir()) == [path]


def test_a_configured_key_is_used_in_every_accepted_form(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    expected = vapid.VapidKey(key, "mailto:a@example.com").public_key
    raw = key.private_numbers().private_value.to_bytes(32, "big")
    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    for form in (_pem(key), b64url(raw), b64url(der), base64.urlsafe_b64encode(der).decode()):
        loaded = vapid.VapidKey.from_settings(_settings(tmp_path, notification_vapid_private_key=form))
        assert loaded.public_key == expected
    assert not (tmp_path / "notification").exists()  # nothing generated when one is configured


def test_bad_keys_and_subjects_are_refused_at_start(tmp_path: Path) -> None:
    other_curve = ec.generate_private_key(ec.SECP384R1())
    edwards = ed25519.Ed25519PrivateKey.generate()
    edwards_pem = edwards.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    for bad in ("not a key!", b64url(b"\x01" * 20), _pem(other_curve), edwards_pem, "-----BEGIN nonsense"):
        with pytest.raises(vapid.VapidKeyError):
            vapid.VapidKey.from_settings(_settings(tmp_path, notification_vapid_private_key=bad))
    with pytest.raises(ValueError, match="vapid_subject"):
        _settings(tmp_path, notification_vapid_subject="ops@example.com")
    with pytest.raises(vapid.VapidKeyError, match="SUBJECT"):
        vapid.VapidKey.from_settings(_settings(tmp_path, notification_vapid_subject="mailto:ops@nodot"))
    with pytest.raises(ValueError, match="HTTP_LOOPBACK"):
        NotificationSettings(environment="production", notification_push_allow_http_loopback=True)


def test_the_push_message_keeps_the_alert_and_stays_small() -> None:
    data = {
        "signal_id": "s-1",
        "symbol": "BTC",
        "crypto_symbol": "BTC",
        "signal_type": "long",
        "status": "active",
        "confidence": 0.8,
        "entry_price": 100.0,
        "ai_analysis": "x" * 10_000,
    }
    message = payload.push_payload({"type": "new_signal", "event_id": "e", "timestamp": "t", "data": data})
    assert message["title"] == "New signal: BTC LONG" and message["body"] == "confidence 80%, status active"
    assert "ai_analysis" not in message["data"] and message["data"]["entry_price"] == 100.0
    huge = {**data, "symbol": "B" * 4_000}
    small = payload.push_payload({"type": "signal_update", "event_id": "e", "timestamp": "t", "data": huge})
    assert set(small["data"]) == {"signal_id", "symbol"} and small["title"].startswith("Signal update")


def test_subscription_keys_must_be_what_browsers_send() -> None:
    browser = TestBrowser("https://push.example.com/x")
    keys = browser.subscription()["keys"]
    assert subscriptions.check_p256dh(keys["p256dh"]) == keys["p256dh"]
    assert subscriptions.check_auth(keys["auth"]) == keys["auth"]
    assert subscriptions.check_auth(keys["auth"] + "==") == keys["auth"] + "=="  # padding allowed
    compressed = browser.private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint
    )
    for bad in (b64url(compressed), b64url(b"\x04" + b"\x00" * 64), "", "abc$", keys["auth"]):
        with pytest.raises(ValueError):
            subscriptions.check_p256dh(bad)
    for bad in (b64url(b"\x00" * 17), "é" * 22, keys["p256dh"], "===="):
        with pytest.raises(ValueError):
            subscriptions.check_auth(bad)


def test_the_local_push_service_refuses_what_a_real_one_would() -> None:
    """The checks the delivery tests rely on: wrong key, audience, expiry, subject, encoding."""
    server_key = ec.generate_private_key(ec.SECP256R1())
    signer = vapid.VapidKey(server_key, "mailto:ops@example.com")
    push = LocalPushService(signer.public_key)
    try:
        endpoint = f"{push.origin}/push/x"
        good = signer.authorization(endpoint)["Authorization"]
        assert push.verify_vapid(good)["aud"] == push.origin
        stranger = vapid.VapidKey(ec.generate_private_key(ec.SECP256R1()), "mailto:ops@example.com")
        forged_k = good.replace(f"k={signer.public_key}", f"k={stranger.public_key}")
        refused = [
            stranger.authorization(endpoint)["Authorization"],  # signed by another key
            forged_k,  # another key claimed for our signature
            signer.authorization("http://127.0.0.1:1/push/x")["Authorization"],  # another audience
            signer.authorization(endpoint, now=time.time() - 13 * 3600)["Authorization"],  # expired
            Vapid(server_key).sign(
                {"aud": push.origin, "sub": "mailto:a@example.com", "exp": int(time.time()) + 30 * 3600}
            )["Authorization"],  # valid for more than 24 h
            "WebPush " + good.split("t=")[1].split(",")[0],
            "vapid k=" + signer.public_key,
        ]
        for header in refused:
            with pytest.raises(PushRefused):
                push.verify_vapid(header)
    finally:
        push._sock.close()
    browser, other = TestBrowser(endpoint), TestBrowser(endpoint)
    keys = repo.PushKeys(uuid.uuid4(), browser.p256dh, browser.subscription()["keys"]["auth"])
    sealed = channel.encrypt(b'{"hello": "browser"}', keys, endpoint)
    assert browser.decrypt(sealed) == b'{"hello": "browser"}'
    with pytest.raises(Exception):  # noqa: B017 - whatever http_ece raises, it must not decrypt
        other.decrypt(sealed)


def test_the_migration_keeps_existing_webhook_deliveries_and_downgrades(fresh_database) -> None:
    url = fresh_database("notification_migration")
    upgrade(url, SCHEMA, MIGRATIONS_DIR, revision="0001")
    endpoint, delivery = uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO notification.webhook_endpoints (id, user_id, url, secret) "
            "VALUES (%s, 'u', 'https://example.com/h', 'whsec_x')",
            (endpoint,),
        )
        conn.execute(
            "INSERT INTO notification.webhook_deliveries (id, endpoint_id, user_id, event_id, event_type, "
            "payload) VALUES (%s, %s, 'u', %s, 'new_signal', '{}')",
            (delivery, endpoint, uuid.uuid4()),
        )
    upgrade(url, SCHEMA, MIGRATIONS_DIR)
    assert current_revision(url, SCHEMA) == "0002"
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT channel, subscription_id FROM notification.webhook_deliveries WHERE id = %s", (delivery,)
        ).fetchone()
        assert row == ("webhook", None)
        with pytest.raises(psycopg.errors.CheckViolation):  # a webhook delivery needs its endpoint
            conn.execute(
                "INSERT INTO notification.webhook_deliveries (id, user_id, event_id, event_type, payload) "
                "VALUES (%s, 'u', %s, 'new_signal', '{}')",
                (uuid.uuid4(), uuid.uuid4()),
            )
    command.downgrade(alembic_config(url, SCHEMA, MIGRATIONS_DIR), "0001")
    assert current_revision(url, SCHEMA) == "0001"
    upgrade(url, SCHEMA, MIGRATIONS_DIR)
    assert current_revision(url, SCHEMA) == "0002"
