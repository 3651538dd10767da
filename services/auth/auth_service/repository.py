"""SQL of the auth schema. Every function takes the connection so callers choose the transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from auth_service.domain.models import LiveAccessToken, RefreshTokenRecord, User, UserFilter
from cp_common.security import Role

#: Constant column list interpolated into queries (values always go in bind parameters).
_USER_COLUMNS = "id, email, role, is_active, created_at, updated_at, last_login_at, password_hash"


def _user(row: asyncpg.Record | None) -> User | None:
    if row is None:
        return None
    return User(
        id=str(row["id"]),
        email=row["email"],
        role=Role(row["role"]),
        is_active=row["is_active"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        last_login_at=row["last_login_at"],
        password_hash=row["password_hash"],
    )


def parse_user_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return None


# --- users ---------------------------------------------------------------------------------------


async def insert_user(conn: asyncpg.Connection, *, email: str, password_hash: str, role: Role) -> User | None:
    """The new user, or ``None`` if the email is taken."""
    query = (
        "INSERT INTO users (id, email, password_hash, role) VALUES ($1, $2, $3, $4) "  # noqa: S608
        f"ON CONFLICT (email) DO NOTHING RETURNING {_USER_COLUMNS}"
    )
    row = await conn.fetchrow(query, uuid.uuid4(), email, password_hash, role.value)
    return _user(row)


async def user_by_email(conn: asyncpg.Connection, email: str) -> User | None:
    query = f"SELECT {_USER_COLUMNS} FROM users WHERE email = $1"  # noqa: S608 - constant columns
    return _user(await conn.fetchrow(query, email))


async def user_by_id(conn: asyncpg.Connection, user_id: str, *, for_update: bool = False) -> User | None:
    parsed = parse_user_id(user_id)
    if parsed is None:
        return None
    lock = " FOR UPDATE" if for_update else ""
    query = f"SELECT {_USER_COLUMNS} FROM users WHERE id = $1{lock}"  # noqa: S608 - constant parts
    return _user(await conn.fetchrow(query, parsed))


def _filter_sql(where: UserFilter) -> tuple[str, list[object]]:
    clauses: list[str] = []
    args: list[object] = []
    if where.role is not None:
        args.append(where.role.value)
        clauses.append(f"role = ${len(args)}")
    if where.is_active is not None:
        args.append(where.is_active)
        clauses.append(f"is_active = ${len(args)}")
    if where.email_contains:
        args.append(where.email_contains)
        clauses.append(f"strpos(email, ${len(args)}) > 0")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


async def list_users(
    conn: asyncpg.Connection, where: UserFilter, *, limit: int, offset: int
) -> tuple[list[User], int]:
    """One page of users (oldest first) and the number of users matching ``where``."""
    condition, args = _filter_sql(where)
    # condition is built from fixed fragments; values are bind parameters
    total = await conn.fetchval(f"SELECT count(*) FROM users{condition}", *args)  # noqa: S608
    rows = await conn.fetch(
        f"SELECT {_USER_COLUMNS} FROM users{condition} ORDER BY created_at, id "  # noqa: S608
        f"LIMIT ${len(args) + 1} OFFSET ${len(args) + 2}",
        *args,
        limit,
        offset,
    )
    return [u for u in map(_user, rows) if u is not None], int(total)


async def count_active_admins(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM users WHERE role = 'admin' AND is_active"))


async def lock_admins(conn: asyncpg.Connection) -> None:
    """Serialise changes that could remove the last active admin (transaction-scoped lock)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('auth.last-admin'))")


async def set_role(conn: asyncpg.Connection, user_id: str, role: Role) -> User | None:
    query = f"UPDATE users SET role = $2, updated_at = now() WHERE id = $1 RETURNING {_USER_COLUMNS}"  # noqa: S608
    row = await conn.fetchrow(query, uuid.UUID(user_id), role.value)
    return _user(row)


async def set_active(conn: asyncpg.Connection, user_id: str, active: bool) -> User | None:
    query = f"UPDATE users SET is_active = $2, updated_at = now() WHERE id = $1 RETURNING {_USER_COLUMNS}"  # noqa: S608
    row = await conn.fetchrow(query, uuid.UUID(user_id), active)
    return _user(row)


async def set_password_hash(conn: asyncpg.Connection, user_id: str, password_hash: str) -> None:
    await conn.execute(
        "UPDATE users SET password_hash = $2, password_changed_at = now(), updated_at = now() WHERE id = $1",
        uuid.UUID(user_id),
        password_hash,
    )


async def touch_last_login(conn: asyncpg.Connection, user_id: str, at: datetime) -> None:
    await conn.execute("UPDATE users SET last_login_at = $2 WHERE id = $1", uuid.UUID(user_id), at)


# --- refresh tokens ------------------------------------------------------------------------------


async def create_family(conn: asyncpg.Connection, user_id: str) -> str:
    family_id = uuid.uuid4()
    await conn.execute(
        "INSERT INTO refresh_families (id, user_id) VALUES ($1, $2)", family_id, uuid.UUID(user_id)
    )
    return str(family_id)


async def insert_refresh_token(
    conn: asyncpg.Connection,
    *,
    family_id: str,
    user_id: str,
    token_hash: bytes,
    access_jti: str,
    access_expires_at: datetime,
    expires_at: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, access_jti, access_expires_at, "
        "expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        uuid.uuid4(),
        uuid.UUID(family_id),
        uuid.UUID(user_id),
        token_hash,
        access_jti,
        access_expires_at,
        expires_at,
    )


async def refresh_token_for_update(conn: asyncpg.Connection, token_hash: bytes) -> RefreshTokenRecord | None:
    """The token with this hash and its family state, row-locked until the transaction ends."""
    row = await conn.fetchrow(
        "SELECT t.id, t.family_id, t.user_id, t.access_jti, t.expires_at, t.rotated_at, f.revoked_at "
        "FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id "
        "WHERE t.token_hash = $1 FOR UPDATE OF t, f",
        token_hash,
    )
    if row is None:
        return None
    return RefreshTokenRecord(
        id=str(row["id"]),
        family_id=str(row["family_id"]),
        user_id=str(row["user_id"]),
        access_jti=row["access_jti"],
        expires_at=row["expires_at"],
        rotated_at=row["rotated_at"],
        family_revoked_at=row["revoked_at"],
    )


async def mark_rotated(conn: asyncpg.Connection, token_id: str) -> None:
    await conn.execute("UPDATE refresh_tokens SET rotated_at = now() WHERE id = $1", uuid.UUID(token_id))


async def family_of_access_token(conn: asyncpg.Connection, user_id: str, jti: str) -> str | None:
    family = await conn.fetchval(
        "SELECT family_id FROM refresh_tokens WHERE access_jti = $1 AND user_id = $2",
        jti,
        uuid.UUID(user_id),
    )
    return None if family is None else str(family)


async def family_of_refresh_token(conn: asyncpg.Connection, user_id: str, token_hash: bytes) -> str | None:
    family = await conn.fetchval(
        "SELECT family_id FROM refresh_tokens WHERE token_hash = $1 AND user_id = $2",
        token_hash,
        uuid.UUID(user_id),
    )
    return None if family is None else str(family)


async def revoke_families(
    conn: asyncpg.Connection, family_ids: Sequence[str], reason: str
) -> list[LiveAccessToken]:
    """Revoke the families; returns the access tokens issued in them that have not expired."""
    ids = [uuid.UUID(f) for f in family_ids]
    await conn.execute(
        "UPDATE refresh_families SET revoked_at = now(), revoke_reason = $2 "
        "WHERE id = ANY($1::uuid[]) AND revoked_at IS NULL",
        ids,
        reason,
    )
    rows = await conn.fetch(
        "SELECT access_jti, access_expires_at FROM refresh_tokens "
        "WHERE family_id = ANY($1::uuid[]) AND access_expires_at > now()",
        ids,
    )
    return [LiveAccessToken(r["access_jti"], r["access_expires_at"]) for r in rows]


async def revoke_all_families(
    conn: asyncpg.Connection, user_id: str, reason: str, *, keep_family: str | None = None
) -> list[LiveAccessToken]:
    """Revoke every live family of the user (but ``keep_family``); returns their live access tokens."""
    rows = await conn.fetch(
        "SELECT id FROM refresh_families WHERE user_id = $1 AND revoked_at IS NULL",
        uuid.UUID(user_id),
    )
    families = [str(r["id"]) for r in rows if str(r["id"]) != keep_family]
    if not families:
        return []
    return await revoke_families(conn, families, reason)


async def live_access_tokens(conn: asyncpg.Connection, user_id: str) -> list[LiveAccessToken]:
    """Access tokens issued to the user that have not expired yet (in live or revoked families)."""
    rows = await conn.fetch(
        "SELECT access_jti, access_expires_at FROM refresh_tokens "
        "WHERE user_id = $1 AND access_expires_at > now()",
        uuid.UUID(user_id),
    )
    return [LiveAccessToken(r["access_jti"], r["access_expires_at"]) for r in rows]


async def delete_expired_refresh_tokens(conn: asyncpg.Connection, older_than: datetime) -> int:
    """Remove tokens expired before ``older_than`` and the families left empty."""
    result = await conn.execute("DELETE FROM refresh_tokens WHERE expires_at < $1", older_than)
    await conn.execute(
        "DELETE FROM refresh_families f WHERE NOT EXISTS "
        "(SELECT 1 FROM refresh_tokens t WHERE t.family_id = f.id)"
    )
    return int(result.split()[-1])


# --- revoked access tokens (the source of truth behind the Redis denylist) ----------------------


async def insert_revocations(
    conn: asyncpg.Connection, tokens: Sequence[LiveAccessToken], reason: str
) -> None:
    await conn.executemany(
        "INSERT INTO revoked_access_tokens (jti, expires_at, reason) VALUES ($1, $2, $3) "
        "ON CONFLICT (jti) DO NOTHING",
        [(t.jti, t.expires_at, reason) for t in tokens],
    )


async def revocations_expiring_after(conn: asyncpg.Connection, after: datetime) -> list[LiveAccessToken]:
    rows = await conn.fetch("SELECT jti, expires_at FROM revoked_access_tokens WHERE expires_at > $1", after)
    return [LiveAccessToken(r["jti"], r["expires_at"]) for r in rows]


async def delete_expired_revocations(conn: asyncpg.Connection, older_than: datetime) -> int:
    result = await conn.execute("DELETE FROM revoked_access_tokens WHERE expires_at < $1", older_than)
    return int(result.split()[-1])


# --- account lockouts ------------------------------------------------------------------------------


async def lock_account(conn: asyncpg.Connection, account: str, until: datetime) -> bool:
    """Lock ``account`` until ``until`` unless a lock already holds; ``True`` if this call locked it."""
    locked = await conn.fetchval(
        "INSERT INTO login_lockouts (account, locked_until) VALUES ($1, $2) "
        "ON CONFLICT (account) DO UPDATE SET locked_until = EXCLUDED.locked_until, locked_at = now() "
        "WHERE login_lockouts.locked_until <= now() RETURNING true",
        account,
        until,
    )
    return bool(locked)


async def is_account_locked(conn: asyncpg.Connection, account: str) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT true FROM login_lockouts WHERE account = $1 AND locked_until > now()", account
        )
    )


async def delete_expired_lockouts(conn: asyncpg.Connection, older_than: datetime) -> int:
    result = await conn.execute("DELETE FROM login_lockouts WHERE locked_until < $1", older_than)
    return int(result.split()[-1])
