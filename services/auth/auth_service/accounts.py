"""Accounts: registration and the admin operations (list, change role, deactivate, reactivate).

Every change that other services care about writes a ``users.v1`` event to the outbox in the
same transaction. Changes that could leave the fleet without an active admin are refused; they
are serialised by a transaction-scoped advisory lock so two admins cannot demote each other at
the same moment.
"""

from __future__ import annotations

import asyncpg

from auth_service import repository as repo
from auth_service.audit import SecurityEvent, record
from auth_service.components import AuthComponents
from auth_service.domain.emails import normalize_email
from auth_service.domain.models import User, UserFilter
from auth_service.events import UserChange, publish_user_changed
from cp_common.errors import Conflict, NotFound, RateLimited
from cp_common.security import Principal, Role

EMAIL_TAKEN = "An account with this email already exists"
LAST_ADMIN = "The last active admin cannot be demoted or deactivated"
USER_NOT_FOUND = "User not found"
REGISTER_THROTTLED = "Too many registrations from this address; try again later"


class Accounts:
    def __init__(self, components: AuthComponents) -> None:
        self.c = components

    async def register(self, raw_email: str, password: str, ip: str, *, role: Role = Role.CASUAL) -> User:
        allowed, _ = await self.c.register_limiter.hit(ip)
        if not allowed:
            record(SecurityEvent.CLIENT_THROTTLED, reason="register", client_ip=ip)
            raise RateLimited(REGISTER_THROTTLED)
        return await self.create(raw_email, password, role=role, event=SecurityEvent.REGISTERED, client_ip=ip)

    async def create(
        self, raw_email: str, password: str, *, role: Role, event: SecurityEvent, **audit: str
    ) -> User:
        email = normalize_email(raw_email)
        self.c.policy.check(password, email=email)
        password_hash = await self.c.hasher.hash(password)
        async with self.c.pool.acquire() as conn, conn.transaction():
            user = await repo.insert_user(conn, email=email, password_hash=password_hash, role=role)
            if user is None:
                raise Conflict(EMAIL_TAKEN)
            await publish_user_changed(conn, user, UserChange.REGISTERED)
        record(event, user_id=user.id, role=user.role.value, **audit)
        return user

    async def get(self, user_id: str) -> User:
        user = await repo.user_by_id(self.c.pool, user_id)
        if user is None:
            raise NotFound(USER_NOT_FOUND)
        return user

    async def list_users(self, where: UserFilter, *, limit: int, offset: int) -> tuple[list[User], int]:
        async with self.c.pool.acquire() as conn:
            return await repo.list_users(conn, where, limit=limit, offset=offset)

    async def _locked_target(self, conn: asyncpg.Connection, user_id: str) -> User:
        await repo.lock_admins(conn)
        user = await repo.user_by_id(conn, user_id, for_update=True)
        if user is None:
            raise NotFound(USER_NOT_FOUND)
        return user

    async def _refuse_last_admin(self, conn: asyncpg.Connection, user: User) -> None:
        if user.role is Role.ADMIN and user.is_active and await repo.count_active_admins(conn) <= 1:
            raise Conflict(LAST_ADMIN)

    async def change_role(self, actor: Principal, user_id: str, role: Role) -> User:
        """Set the role; the user's live access tokens are denylisted so the old role stops
        working now (their refresh tokens stay valid and yield tokens with the new role)."""
        async with self.c.pool.acquire() as conn, conn.transaction():
            user = await self._locked_target(conn, user_id)
            if user.role is role:
                return user
            if role is not Role.ADMIN:
                await self._refuse_last_admin(conn, user)
            updated = await repo.set_role(conn, user.id, role)
            assert updated is not None
            await publish_user_changed(conn, updated, UserChange.ROLE_CHANGED, actor=actor, before=user)
            live = await repo.live_access_tokens(conn, user.id)
            await self.c.revoke_access(conn, live, "role_changed")
        self.c.me_answers.invalidate()
        record(
            SecurityEvent.ROLE_CHANGED,
            actor_id=actor.user_id,
            user_id=user.id,
            from_role=user.role.value,
            to_role=role.value,
        )
        return updated

    async def set_active(self, actor: Principal, user_id: str, active: bool) -> User:
        """Deactivate (every session revoked, live access tokens denylisted) or reactivate."""
        async with self.c.pool.acquire() as conn, conn.transaction():
            user = await self._locked_target(conn, user_id)
            if user.is_active is active:
                return user
            if not active:
                await self._refuse_last_admin(conn, user)
                await repo.revoke_all_families(conn, user.id, "deactivated")
                live = await repo.live_access_tokens(conn, user.id)
                await self.c.revoke_access(conn, live, "deactivated")
            updated = await repo.set_active(conn, user.id, active)
            assert updated is not None
            change = UserChange.REACTIVATED if active else UserChange.DEACTIVATED
            await publish_user_changed(conn, updated, change, actor=actor, before=user)
        self.c.me_answers.invalidate()
        event = SecurityEvent.REACTIVATED if active else SecurityEvent.DEACTIVATED
        record(event, actor_id=actor.user_id, user_id=user.id)
        return updated
