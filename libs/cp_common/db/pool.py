"""asyncpg pool bound to one service schema (database per service, schema per service)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import asyncpg

from cp_common.metrics import DB_POOLS


def plain_dsn(database_url: str) -> str:
    """asyncpg wants ``postgresql://``; accept SQLAlchemy-style ``postgresql+driver://`` too."""
    scheme, sep, rest = database_url.partition("://")
    return f"postgresql://{rest}" if sep and scheme.startswith("postgres") else database_url


async def create_pool(
    database_url: str,
    schema: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    command_timeout: float = 30.0,
    register_metrics: bool = True,
) -> asyncpg.Pool:
    """A pool whose connections resolve unqualified names in ``schema`` first."""
    pool = await asyncpg.create_pool(
        plain_dsn(database_url),
        min_size=min_size,
        max_size=max_size,
        command_timeout=command_timeout,
        server_settings={"search_path": f"{schema},public", "application_name": schema},
    )
    if register_metrics:
        DB_POOLS.add(pool, schema)
    return pool


async def close_pool(pool: asyncpg.Pool) -> None:
    DB_POOLS.remove(pool)
    await pool.close()


def pool_ready_check(pool: asyncpg.Pool) -> Callable[[], Awaitable[None]]:
    async def check() -> None:
        async with pool.acquire() as conn:
            await conn.fetchval("SELECT 1")

    return check
