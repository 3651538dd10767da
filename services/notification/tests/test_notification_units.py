"""Pure functions: webhook signatures, the address policy, settings, stream ids, JSON of events."""

from __future__ import annotations

import ipaddress
import time

import pytest

from cp_common.settings import SettingsError, load_settings
from cryptopredict.common.v1 import signals_pb2 as common_signals
from notification_service.bus import id_key, valid_id
from notification_service.proto_json import to_plain
from notification_service.settings import NotificationSettings
from notification_service.webhooks import addresses, signing


def test_a_signature_verifies_only_for_the_same_secret_body_and_a_recent_time() -> None:
    body = b'{"type":"new_signal"}'
    header = signing.signature_header("whsec_a", body, timestamp=1_700_000_000)
    assert signing.verify("whsec_a", header, body, now=1_700_000_100)
    assert not signing.verify("whsec_b", header, body, now=1_700_000_100)
    assert not signing.verify("whsec_a", header, body + b"x", now=1_700_000_100)
    assert not signing.verify("whsec_a", header, body, now=1_700_000_000 + 3600)  # replayed later
    assert not signing.verify("whsec_a", "t=abc,v1=00", body)
    assert not signing.verify("whsec_a", "", body)
    assert signing.verify("whsec_a", signing.signature_header("whsec_a", body), body)
    assert signing.new_secret() != signing.new_secret()


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.0.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:10.0.0.1", False),
    ],
)
def test_only_global_unicast_addresses_are_public(address: str, public: bool) -> None:
    assert addresses.is_public(ipaddress.ip_address(address)) is public


async def test_urls_are_checked_for_scheme_credentials_and_addresses() -> None:
    target = await addresses.check("https://93.184.216.34:8443/hook?x=1", allow_private=False)
    assert target.port == 8443 and target.host == "93.184.216.34"
    for url in ("ftp://93.184.216.34/", "http://u:p@93.184.216.34/", "http:///nohost", "http://[::1]/"):
        with pytest.raises(addresses.AddressRefused):
            await addresses.check(url, allow_private=False)
    assert (await addresses.check("http://127.0.0.1:9/", allow_private=True)).port == 9
    with pytest.raises(addresses.AddressRefused):
        await addresses.check("http://" + "a" * 3000, allow_private=True)


def test_private_webhooks_are_allowed_locally_only(monkeypatch: pytest.MonkeyPatch) -> None:
    assert NotificationSettings(environment="local").webhooks_allow_private is True
    assert NotificationSettings(environment="production").webhooks_allow_private is False
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("NOTIFICATION_WEBHOOK_ALLOW_PRIVATE", "true")
    with pytest.raises(SettingsError, match="NOTIFICATION_WEBHOOK_ALLOW_PRIVATE"):
        load_settings(NotificationSettings)


def test_stream_ids_compare_numerically_and_garbage_is_refused() -> None:
    assert id_key("1700000000000-10") > id_key("1700000000000-9")
    assert valid_id("1700000000000-0") and valid_id("0-0")
    assert not valid_id("abc") and not valid_id("1-x") and not valid_id("-1-0")


def test_events_become_plain_json_with_lower_case_enums_and_iso_times() -> None:
    signal = common_signals.Signal(signal_id="s", signal_type=common_signals.SIGNAL_TYPE_SHORT)
    signal.generated_at.FromSeconds(int(time.time()))
    plain = to_plain(signal)
    assert plain["signal_type"] == "short" and plain["status"] is None
    assert plain["generated_at"].endswith("Z") and plain["expires_at"] is None
    assert plain["votes"] == []
