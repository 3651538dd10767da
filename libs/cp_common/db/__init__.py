"""PostgreSQL: an asyncpg pool per service schema, and alembic migrations."""

from cp_common.db.migrations import upgrade
from cp_common.db.pool import create_pool, pool_ready_check

__all__ = ["create_pool", "pool_ready_check", "upgrade"]
