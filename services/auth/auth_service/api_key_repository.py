"""SQL of API keys (``api_keys``) and the sessions their exchanges started (``api_key_sessions``)."""

from __future__ import annotations

import uuid
from datetime import datetime

import asyncpg

from auth_service.domain.api_keys import ApiKey
from cp_common.security import Role

_COLUMNS = "id, user_id, name, prefix, scope, max_role, created_at, expires_at, last_used_at, revoked_at"


def _key(row: asyncpg.Record) -> ApiKey:
    return ApiKey(
        id=str(row["id"]),
        user_id=str(row["user_id"]),
        name=row["name"],
        prefix=row["prefix"],
        scope=row["scope"],
        max_role=Role(row["max_role"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
    )


async def insert_key(
    conn: asyncpg.Connection,
    *,
    user_id: str,
    name: str,
    prefix: str,
    secret_hash: bytes,
    scope: str,
    max_role: Role,
    expires_at: datetime | None,
) -> ApiKey:
    row = await conn.fetchrow(
        "INSERT INTO api_keys (id, user_id, name, prefix, secret_hash, scope, max_role, expires_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING "
        "id, user_id, name, prefix, scope, max_role, created_at, expires_at, last_used_at, revoked_at",
        uuid.uuid4(),
        uuid.UUID(user_id),
        name,
        prefix,
        secret_hash,
        scope,
        max_role.value,
        expires_at,
    )
    return _key(row)


async def keys_of(conn: asyncpg.Connection | asyncpg.Pool, user_id: str) -> list[ApiKey]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM api_keys WHERE user_id = $1 ORDER BY created_at, id",  # noqa: S608
        uuid.UUID(user_id),
    )
    return [_key(r) for r in rows]


async def key_by_digest_for_update(conn: asyncpg.Connection, secret_hash: bytes) -> ApiKey | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM api_keys WHERE secret_hash = $1 FOR UPDATE",  # noqa: S608
        secret_hash,
    )
    return None if row is None else _key(row)


async def own_key_for_update(conn: asyncpg.Connection, user_id: str, key_id: uuid.UUID) -> ApiKey | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM api_keys WHERE id = $1 AND user_id = $2 FOR UPDATE",  # noqa: S608
        key_id,
        uuid.UUID(user_id),
    )
    return None if row is None else _key(row)


async def mark_revoked(conn: asyncpg.Connection, key_id: str) -> ApiKey:
    row = await conn.fetchrow(
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = $1 RETURNING "
        "id, user_id, name, prefix, scope, max_role, created_at, expires_at, last_used_at, revoked_at",
        uuid.UUID(key_id),
    )
    return _key(row)


async def mark_used(conn: asyncpg.Connection, key_id: str, at: datetime) -> None:
    await conn.execute("UPDATE api_keys SET last_used_at = $2 WHERE id = $1", uuid.UUID(key_id), at)


async def add_session(conn: asyncpg.Connection, key_id: str, family_id: str) -> None:
    await conn.execute(
        "INSERT INTO api_key_sessions (family_id, key_id) VALUES ($1, $2)",
        uuid.UUID(family_id),
        uuid.UUID(key_id),
    )


async def sessions_of(conn: asyncpg.Connection, key_id: str) -> list[str]:
    rows = await conn.fetch("SELECT family_id FROM api_key_sessions WHERE key_id = $1", uuid.UUID(key_id))
    return [str(r["family_id"]) for r in rows]
