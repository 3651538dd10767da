"""Login, refresh, logout and password change: the flows that issue and revoke tokens.

Login answers every failure that concerns the credentials (unknown email, wrong password,
locked account) with the same 401 and message, after the same work (one argon2 verification,
against a dummy hash when there is no account), so the answer never reveals whether an email has
an account or is locked. Only a client IP over its failure budget gets a different answer (429).

Refresh tokens rotate on every use; a token presented after it was rotated means two parties
hold it, so the whole family (that login's chain of tokens) is revoked and its live access
tokens are denylisted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from auth_service import repository as repo
from auth_service.audit import (
    TOKENS_ISSUED,
    LoginOutcome,
    SecurityEvent,
    email_fingerprint,
    login_attempt,
    record,
)
from auth_service.components import AuthComponents
from auth_service.domain.emails import normalize_email_or_none
from auth_service.domain.models import LiveAccessToken, User
from auth_service.domain.passwords import Verification
from auth_service.domain.tokens import (
    MAX_REFRESH_TOKEN_LENGTH,
    AccessToken,
    new_refresh_token,
    refresh_token_digest,
)
from cp_common.errors import BadRequest, RateLimited, Unauthorized
from cp_common.security import Principal

INVALID_CREDENTIALS = "Invalid email or password"
ACCOUNT_DEACTIVATED = "Account is deactivated"
INVALID_REFRESH = "Invalid refresh token"
REFRESH_REUSED = "Refresh token was already used; the session has been revoked"
CLIENT_THROTTLED = "Too many failed logins from this address; try again later"


@dataclass(frozen=True)
class TokenPair:
    user_id: str
    access: AccessToken
    refresh_token: str
    refresh_expires_at: datetime

    def as_response(self) -> dict[str, object]:
        now = datetime.now(UTC)
        return {
            "access_token": self.access.token,
            "token_type": "Bearer",
            "expires_in": max(int((self.access.expires_at - now).total_seconds()), 0),
            "refresh_token": self.refresh_token,
            "refresh_expires_in": max(int((self.refresh_expires_at - now).total_seconds()), 0),
        }


class Sessions:
    def __init__(self, components: AuthComponents) -> None:
        self.c = components

    # --- issuing ------------------------------------------------------------------------------

    async def _issue(self, conn: asyncpg.Connection, user: User, family_id: str) -> TokenPair:
        access = self.c.issuer.issue(user_id=user.id, email=user.email, role=user.role.value)
        refresh = new_refresh_token()
        refresh_expires_at = access.issued_at + timedelta(seconds=self.c.settings.auth_refresh_token_ttl_s)
        await repo.insert_refresh_token(
            conn,
            family_id=family_id,
            user_id=user.id,
            token_hash=refresh_token_digest(refresh),
            access_jti=access.jti,
            access_expires_at=access.expires_at,
            expires_at=refresh_expires_at,
        )
        TOKENS_ISSUED.labels("access").inc()
        TOKENS_ISSUED.labels("refresh").inc()
        return TokenPair(user.id, access, refresh, refresh_expires_at)

    async def _start_session(self, conn: asyncpg.Connection, user: User) -> TokenPair:
        family_id = await repo.create_family(conn, user.id)
        return await self._issue(conn, user, family_id)

    # --- login --------------------------------------------------------------------------------

    async def login(self, raw_email: str, password: str, ip: str) -> tuple[User, TokenPair]:
        retry_after = await self.c.throttle.client_retry_after(ip)
        if retry_after is not None:
            login_attempt(LoginOutcome.CLIENT_THROTTLED)
            record(SecurityEvent.CLIENT_THROTTLED, client_ip=ip, retry_after_s=retry_after)
            raise RateLimited(CLIENT_THROTTLED)
        email = normalize_email_or_none(raw_email)
        # An invalid address is throttled like any unknown one (under its lower-cased spelling).
        account = email or raw_email.strip().lower()[:320]
        user = await repo.user_by_email(self.c.pool, email) if email else None
        locked = await self.c.throttle.is_locked(account)
        if user is not None:
            verification = await self.c.hasher.verify(user.password_hash, password)
        else:
            await self.c.hasher.verify_dummy(password)
            verification = Verification(valid=False)
        subject = {"user_id": user.id} if user else {"email_hash": email_fingerprint(account)}

        if locked:
            await self.c.throttle.record_client_failure(ip)
            login_attempt(LoginOutcome.LOCKED)
            record(SecurityEvent.LOGIN_FAILED, reason="locked", client_ip=ip, **subject)
            raise Unauthorized(INVALID_CREDENTIALS)
        if user is None or not verification.valid:
            locked_now = await self.c.throttle.record_failure(account, ip)
            login_attempt(LoginOutcome.INVALID_CREDENTIALS)
            reason = "unknown_account" if user is None else "wrong_password"
            record(SecurityEvent.LOGIN_FAILED, reason=reason, client_ip=ip, **subject)
            if locked_now:
                record(
                    SecurityEvent.ACCOUNT_LOCKED,
                    client_ip=ip,
                    lockout_s=self.c.throttle.policy.lockout_s,
                    **subject,
                )
            raise Unauthorized(INVALID_CREDENTIALS)
        if not user.is_active:
            login_attempt(LoginOutcome.INACTIVE)
            record(SecurityEvent.LOGIN_FAILED, reason="inactive", client_ip=ip, user_id=user.id)
            raise Unauthorized(ACCOUNT_DEACTIVATED)

        await self.c.throttle.record_success(account)
        rehash = await self.c.hasher.hash(password) if verification.needs_rehash else None
        now = datetime.now(UTC)
        async with self.c.pool.acquire() as conn, conn.transaction():
            if rehash is not None:
                await repo.set_password_hash(conn, user.id, rehash)
            await repo.touch_last_login(conn, user.id, now)
            tokens = await self._start_session(conn, user)
        self.c.me_answers.invalidate()  # last_login_at changed
        login_attempt(LoginOutcome.SUCCESS)
        record(SecurityEvent.LOGIN_SUCCEEDED, user_id=user.id, client_ip=ip)
        return user, tokens

    # --- refresh ------------------------------------------------------------------------------

    async def refresh(self, presented: str, ip: str) -> TokenPair:
        if not presented or len(presented) > MAX_REFRESH_TOKEN_LENGTH:
            raise Unauthorized(INVALID_REFRESH)
        failure: str | None = None
        tokens: TokenPair | None = None
        async with self.c.pool.acquire() as conn, conn.transaction():
            stored = await repo.refresh_token_for_update(conn, refresh_token_digest(presented))
            if stored is None or stored.family_revoked_at is not None:
                failure = INVALID_REFRESH
            elif stored.rotated_at is not None:
                revoked = await repo.revoke_families(conn, [stored.family_id], "reuse_detected")
                await self.c.revoke_access(conn, revoked, "reuse_detected")
                failure = REFRESH_REUSED
                record(
                    SecurityEvent.REFRESH_TOKEN_REUSED,
                    user_id=stored.user_id,
                    family_id=stored.family_id,
                    client_ip=ip,
                )
            elif stored.expires_at <= datetime.now(UTC):
                failure = INVALID_REFRESH
            else:
                user = await repo.user_by_id(conn, stored.user_id)
                if user is None or not user.is_active:
                    revoked = await repo.revoke_families(conn, [stored.family_id], "account_inactive")
                    await self.c.revoke_access(conn, revoked, "account_inactive")
                    failure = ACCOUNT_DEACTIVATED
                else:
                    await repo.mark_rotated(conn, stored.id)
                    tokens = await self._issue(conn, user, stored.family_id)
        if failure is not None or tokens is None:
            raise Unauthorized(failure or INVALID_REFRESH)
        record(SecurityEvent.TOKEN_REFRESHED, user_id=tokens.user_id, client_ip=ip)
        return tokens

    # --- logout -------------------------------------------------------------------------------

    async def logout(self, principal: Principal, presented_refresh: str | None, ip: str) -> None:
        """Revoke the session of this access token (and of ``presented_refresh``, if it is the
        caller's), and denylist the access token itself."""
        async with self.c.pool.acquire() as conn, conn.transaction():
            families = {await repo.family_of_access_token(conn, principal.user_id, principal.jti)}
            if presented_refresh and len(presented_refresh) <= MAX_REFRESH_TOKEN_LENGTH:
                digest = refresh_token_digest(presented_refresh)
                families.add(await repo.family_of_refresh_token(conn, principal.user_id, digest))
            live = [f for f in families if f is not None]
            revoked = await repo.revoke_families(conn, live, "logout") if live else []
            own = LiveAccessToken(principal.jti, principal.expires_at)
            await self.c.revoke_access(conn, [*revoked, own], "logout")
        record(SecurityEvent.LOGGED_OUT, user_id=principal.user_id, client_ip=ip, sessions=len(live))

    # --- password change ----------------------------------------------------------------------

    async def change_password(
        self, principal: Principal, current_password: str, new_password: str, ip: str
    ) -> TokenPair:
        """Check the current password (throttled like a login), store the new one, end every
        other session and start a new one for the caller."""
        user = await repo.user_by_id(self.c.pool, principal.user_id)
        if user is None or not user.is_active:
            raise Unauthorized(ACCOUNT_DEACTIVATED)
        if await self.c.throttle.client_retry_after(ip) is not None:
            raise RateLimited(CLIENT_THROTTLED)
        locked = await self.c.throttle.is_locked(user.email)
        verification = await self.c.hasher.verify(user.password_hash, current_password)
        if locked or not verification.valid:
            if not locked:
                await self.c.throttle.record_failure(user.email, ip)
            record(SecurityEvent.LOGIN_FAILED, reason="password_change", user_id=user.id, client_ip=ip)
            raise Unauthorized("Current password is incorrect")
        self.c.policy.check(new_password, email=user.email)
        if new_password == current_password:
            raise BadRequest("The new password must differ from the current one")
        new_hash = await self.c.hasher.hash(new_password)
        async with self.c.pool.acquire() as conn, conn.transaction():
            await repo.set_password_hash(conn, user.id, new_hash)
            revoked = await repo.revoke_all_families(conn, user.id, "password_changed")
            own = LiveAccessToken(principal.jti, principal.expires_at)
            await self.c.revoke_access(conn, [*revoked, own], "password_changed")
            tokens = await self._start_session(conn, user)
        record(SecurityEvent.PASSWORD_CHANGED, user_id=user.id, client_ip=ip, sessions_ended=len(revoked))
        return tokens
