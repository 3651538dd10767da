"""The append-only audit log: one row per admin action (here and in auth's user administration).

Rows are only ever inserted; the schema refuses UPDATE, DELETE and TRUNCATE (a trigger, and the
privileges revoked from the service's own role), so no code path here tries either.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from cp_common.context import request_id_var
from cp_common.security import Principal


@dataclass(frozen=True)
class Actor:
    """Who did it: a verified caller, or the actor named in another service's event."""

    user_id: str | None
    email: str
    role: str

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        return cls(principal.user_id, principal.email, principal.role.value)


@dataclass(frozen=True)
class AuditFilter:
    actor_user_id: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    source: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def record(
    conn: asyncpg.Connection,
    *,
    source: str,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    request_id: str | None = None,
    occurred_at: datetime | None = None,
) -> int:
    """Append one entry inside the caller's transaction; returns its id."""
    return await conn.fetchval(
        "INSERT INTO audit_log (occurred_at, source, actor_user_id, actor_email, actor_role, action, "
        "target_type, target_id, before, after, request_id) "
        "VALUES (coalesce($1, now()), $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        occurred_at,
        source,
        uuid.UUID(actor.user_id) if actor.user_id else None,
        actor.email,
        actor.role,
        action,
        target_type,
        target_id,
        _json(before),
        _json(after),
        request_id if request_id is not None else (request_id_var.get() or ""),
    )


def _json(value: dict[str, Any] | None) -> str | None:
    return None if value is None else json.dumps(value, default=str, sort_keys=True)


def _where(where: AuditFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    for column, value in (
        ("actor_user_id", uuid.UUID(where.actor_user_id) if where.actor_user_id else None),
        ("action", where.action),
        ("target_type", where.target_type),
        ("target_id", where.target_id),
        ("source", where.source),
    ):
        if value is not None:
            args.append(value)
            clauses.append(f"{column} = ${len(args)}")
    if where.since is not None:
        args.append(where.since)
        clauses.append(f"occurred_at >= ${len(args)}")
    if where.until is not None:
        args.append(where.until)
        clauses.append(f"occurred_at < ${len(args)}")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


async def search(
    pool: asyncpg.Pool, where: AuditFilter, *, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """Entries matching ``where``, newest first, and how many match in total."""
    condition, args = _where(where)
    async with pool.acquire() as conn:
        total = await conn.fetchval(f"SELECT count(*) FROM audit_log{condition}", *args)  # noqa: S608
        rows = await conn.fetch(
            f"SELECT * FROM audit_log{condition} ORDER BY occurred_at DESC, id DESC "  # noqa: S608
            f"LIMIT ${len(args) + 1} OFFSET ${len(args) + 2}",
            *args,
            limit,
            offset,
        )
    return [entry(row) for row in rows], total


def entry(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": row["id"],
        "occurred_at": row["occurred_at"],
        "source": row["source"],
        "actor": {
            "user_id": str(row["actor_user_id"]) if row["actor_user_id"] else None,
            "email": row["actor_email"],
            "role": row["actor_role"],
        },
        "action": row["action"],
        "target_type": row["target_type"],
        "target_id": row["target_id"],
        "before": json.loads(row["before"]) if row["before"] is not None else None,
        "after": json.loads(row["after"]) if row["after"] is not None else None,
        "request_id": row["request_id"],
    }
