"""Rules without servers: password policy, email normalisation, key schedule and key files."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from jwt import PyJWK

from auth_service.domain.emails import normalize_email
from auth_service.domain.keyring import KeyRing
from auth_service.domain.keys import (
    KeyConfigurationError,
    SigningKey,
    generate_key,
    kid_created_at,
    load_keys,
    prune,
    schedule,
)
from auth_service.domain.passwords import PasswordHasher, PasswordPolicy
from auth_service.domain.tokens import AccessTokenIssuer
from cp_common.errors import BadRequest

# --- passwords -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Ab1!", "at least 8 characters"),
        ("abcdefg1!", "upper-case"),
        ("ABCDEFG1!", "lower-case"),
        ("Abcdefgh!", "digit"),
        ("Abcdefgh1", "symbol"),
        ("Abcdef 12", "symbol"),
        ("Abcdefg1!\x00", "control characters"),
        ("A" * 100 + "b1!" + "c" * 30, "at most 128"),
    ],
)
def test_policy_names_each_broken_rule(password: str, problem: str) -> None:
    problems = PasswordPolicy().problems(password)
    assert any(problem in p for p in problems), problems
    with pytest.raises(BadRequest) as error:
        PasswordPolicy().check(password)
    assert password not in error.value.message


def test_policy_accepts_a_strong_password_and_refuses_the_email() -> None:
    assert PasswordPolicy().problems("Correct-Horse-9") == []
    assert PasswordPolicy().problems("Zürich-Straße-9") == []
    assert "must not be the email address" in PasswordPolicy().problems(
        "Me@Example.com1", email="me@example.com1"
    )


async def test_hasher_verifies_and_flags_old_parameters() -> None:
    hasher = PasswordHasher(time_cost=1, memory_kib=8192, parallelism=1)
    stored = await hasher.hash("Correct-Horse-9")
    assert stored.startswith("$argon2id$") and "Correct-Horse-9" not in stored
    assert (await hasher.verify(stored, "Correct-Horse-9")).valid
    assert not (await hasher.verify(stored, "correct-horse-9")).valid
    assert not (await hasher.verify("not a hash", "Correct-Horse-9")).valid
    stronger = PasswordHasher(time_cost=2, memory_kib=8192, parallelism=1)
    result = await stronger.verify(stored, "Correct-Horse-9")
    assert result.valid and result.needs_rehash
    await hasher.verify_dummy("anything")


# --- emails ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("  Alice@Example.COM ", "alice@example.com"),
        ("bob.smith+tag@sub.example.org", "bob.smith+tag@sub.example.org"),
        ("\uff43\uff41\uff52\uff4f\uff4c@example.com", "carol@example.com"),  # full-width (NFKC)
        ("dave@bücher.de", "dave@xn--bcher-kva.de"),
    ],
)
def test_emails_are_normalised(raw: str, normalized: str) -> None:
    assert normalize_email(raw) == normalized


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "plain",
        "a@b",
        "a@@example.com",
        "a b@example.com",
        ".a@example.com",
        "a..b@example.com",
        "a@-example.com",
        "a@example.c0m",
        "a@example",
        "x" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
        "a@exa_mple.com",
        "<script>@example.com",
    ],
)
def test_invalid_emails_are_refused(raw: str) -> None:
    with pytest.raises(BadRequest, match="Invalid email address"):
        normalize_email(raw)


# --- keys ------------------------------------------------------------------------------------------

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
DELAY = timedelta(minutes=2)
RETENTION = timedelta(minutes=16)


def _key(tmp_path: Path, at: datetime, algorithm: str = "EdDSA") -> SigningKey:
    return generate_key(tmp_path, algorithm, now=at)


def test_key_files_are_private_and_named_by_creation_time(tmp_path: Path) -> None:
    key = _key(tmp_path, T0)
    path = tmp_path / f"{key.kid}.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert kid_created_at(key.kid) == T0
    assert key.kid.startswith("20250301T120000Z-")
    [loaded] = load_keys(tmp_path)
    assert loaded.kid == key.kid and loaded.algorithm == "EdDSA"
    jwk = loaded.public_jwk()
    assert jwk["kid"] == key.kid and jwk["alg"] == "EdDSA" and jwk["use"] == "sig" and "d" not in jwk


def test_rsa_keys_sign_rs256(tmp_path: Path) -> None:
    key = _key(tmp_path, T0, "RS256")
    jwk = load_keys(tmp_path)[0].public_jwk()
    assert jwk["kty"] == "RSA" and jwk["alg"] == "RS256" and "d" not in jwk
    token = jwt.encode({"x": 1}, key.private_key, algorithm="RS256")
    assert jwt.decode(token, PyJWK(jwk).key, algorithms=["RS256"]) == {"x": 1}


def test_bad_key_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "..data").mkdir()  # Kubernetes secret volume internals are ignored
    (tmp_path / "README").write_text("not a key")
    assert load_keys(tmp_path) == []
    (tmp_path / "badly-named.pem").write_text("x")
    with pytest.raises(KeyConfigurationError, match="does not follow"):
        load_keys(tmp_path)
    (tmp_path / "badly-named.pem").unlink()
    (tmp_path / "20250101T000000Z-abcd.pem").write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n")
    with pytest.raises(KeyConfigurationError, match="not a readable"):
        load_keys(tmp_path)
    with pytest.raises(KeyConfigurationError, match="does not exist"):
        load_keys(tmp_path / "missing")


def test_schedule_publishes_before_signing_and_keeps_retired_keys_for_the_token_lifetime(
    tmp_path: Path,
) -> None:
    first = _key(tmp_path, T0)
    second = _key(tmp_path, T0 + timedelta(days=30))
    keys = load_keys(tmp_path)

    def at(moment: datetime):
        return schedule(keys, now=moment, activation_delay=DELAY, retention=RETENTION)

    before_rotation = at(T0 + timedelta(days=30, seconds=30))
    assert before_rotation.active.kid == first.kid
    assert [k.kid for k in before_rotation.pending] == [second.kid]
    assert {k["kid"] for k in before_rotation.jwks()["keys"]} == {first.kid, second.kid}

    rotated = at(T0 + timedelta(days=30) + DELAY)
    assert rotated.active.kid == second.kid
    assert [k.kid for k in rotated.retired] == [first.kid]  # its tokens are still verifiable

    later = at(T0 + timedelta(days=30) + DELAY + RETENTION)
    assert (
        later.active.kid == second.kid
        and later.retired == ()
        and [k.kid for k in later.expired] == [first.kid]
    )
    assert [k["kid"] for k in later.jwks()["keys"]] == [second.kid]
    assert prune(tmp_path, later.expired) == [first.kid]
    assert [k.kid for k in load_keys(tmp_path)] == [second.kid]


def test_the_very_first_key_signs_at_once(tmp_path: Path) -> None:
    only = _key(tmp_path, T0)
    current = schedule(load_keys(tmp_path), now=T0, activation_delay=DELAY, retention=RETENTION)
    assert current.active.kid == only.kid and current.pending == ()
    with pytest.raises(KeyConfigurationError):
        schedule([], now=T0, activation_delay=DELAY, retention=RETENTION)


def test_keyring_generates_a_first_key_only_when_allowed(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys", activation_delay=DELAY, retention=RETENTION, generate_algorithm="EdDSA")
    ring.load()
    assert len(ring.jwks()["keys"]) == 1
    assert stat.S_IMODE((tmp_path / "keys").stat().st_mode) == 0o700
    strict = KeyRing(tmp_path / "empty", activation_delay=DELAY, retention=RETENTION)
    (tmp_path / "empty").mkdir()
    with pytest.raises(KeyConfigurationError, match="no signing key"):
        strict.load()


def test_keyring_reload_picks_up_rotation_and_survives_a_bad_file(tmp_path: Path) -> None:
    now = [T0]
    ring = KeyRing(tmp_path, activation_delay=DELAY, retention=RETENTION, clock=lambda: now[0])
    first = _key(tmp_path, T0)
    ring.load()
    issuer = AccessTokenIssuer(
        ring, issuer="iss", audience="aud", ttl=timedelta(minutes=15), clock=lambda: now[0]
    )
    old_token = issuer.issue(user_id="u1", email="u1@example.com", role="casual").token

    second = _key(tmp_path, T0 + timedelta(hours=1))
    now[0] = T0 + timedelta(hours=1, seconds=10)
    ring.reload()
    assert ring.signing_key().kid == first.kid  # published first, not yet signing
    now[0] += DELAY
    assert ring.signing_key().kid == second.kid
    new_token = issuer.issue(user_id="u1", email="u1@example.com", role="casual").token
    assert jwt.get_unverified_header(new_token)["kid"] == second.kid
    published = {k["kid"]: k for k in ring.jwks()["keys"]}
    assert set(published) == {first.kid, second.kid}
    options = {"verify_exp": False, "verify_iat": False}
    assert (
        jwt.decode(
            old_token, PyJWK(published[first.kid]).key, algorithms=["EdDSA"], audience="aud", options=options
        )["sub"]
        == "u1"
    )

    (tmp_path / "20990101T000000Z-dead.pem").write_text("garbage")
    ring.reload()  # logs and keeps the loaded keys
    assert ring.signing_key().kid == second.kid


# --- keytool ---------------------------------------------------------------------------------------


def test_keytool_rotate_list_prune(tmp_path: Path, capsys) -> None:
    from auth_service.keytool import main
    from auth_service.settings import AuthSettings

    settings = AuthSettings(environment="test", auth_signing_keys_dir=tmp_path, auth_access_token_ttl_s=60)
    old = generate_key(tmp_path, now=datetime.now(UTC) - timedelta(days=2))
    older = generate_key(tmp_path, now=datetime.now(UTC) - timedelta(days=3))
    assert main(["rotate", "--algorithm", "RS256"], settings) == 0
    created = capsys.readouterr().out
    assert "published now, signs from" in created
    assert main(["list"], settings) == 0
    listing = capsys.readouterr().out.splitlines()
    states = {line.split()[0]: line.split()[-1] for line in listing}
    assert states[old.kid] == "active" and states[older.kid] == "expired"
    assert sorted(states.values()) == ["active", "expired", "pending"]
    assert main(["prune"], settings) == 0
    assert capsys.readouterr().out.strip() == f"deleted {older.kid}"
    assert {k.kid for k in load_keys(tmp_path)} == {old.kid} | {k for k in states if states[k] == "pending"}
    assert main(["--dir", str(tmp_path / "nowhere"), "list"], settings) == 1
