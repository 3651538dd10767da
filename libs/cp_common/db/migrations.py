"""Run a service's alembic migrations into its own schema, safely from many replicas.

``upgrade()`` takes a PostgreSQL advisory lock keyed on the schema before creating the schema
or touching the version table, so two replicas (or a CLI and a starting service) that migrate
at the same time run one after the other, and the second finds nothing to do. Running it
twice is a no-op. Each service's ``migrations/env.py`` just calls :func:`run_env`.
"""

from __future__ import annotations

import re
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import create_engine, pool, text

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def sqlalchemy_url(database_url: str) -> str:
    _, sep, rest = database_url.partition("://")
    return f"postgresql+psycopg://{rest}" if sep else database_url


def _check_schema(schema: str) -> str:
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"invalid schema name {schema!r}")
    return schema


def alembic_config(
    database_url: str, schema: str, migrations_dir: Path, version_table: str = "alembic_version"
) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url).replace("%", "%%"))
    config.attributes["schema"] = _check_schema(schema)
    config.attributes["version_table"] = _check_schema(version_table)
    return config


def upgrade(
    database_url: str,
    schema: str,
    migrations_dir: Path,
    revision: str = "head",
    *,
    version_table: str = "alembic_version",
) -> None:
    """Bring ``schema`` up to ``revision`` (blocking; call via ``asyncio.to_thread`` from async code).

    ``version_table`` lets a shared component (e.g. the model registry) keep its own migration
    history inside a service's schema, independent of the service's own migrations.
    """
    command.upgrade(alembic_config(database_url, schema, migrations_dir, version_table), revision)


def current_revision(database_url: str, schema: str) -> str | None:
    engine = create_engine(sqlalchemy_url(database_url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            exists = conn.execute(
                text("SELECT to_regclass(:t)"), {"t": f"{_check_schema(schema)}.alembic_version"}
            ).scalar()
            if exists is None:
                return None
            # schema is validated by _check_schema above
            query = f'SELECT version_num FROM "{schema}".alembic_version'  # noqa: S608
            return conn.execute(text(query)).scalar()
    finally:
        engine.dispose()


def run_env() -> None:
    """Body of every service's ``migrations/env.py`` (online mode only)."""
    config = context.config
    schema = _check_schema(config.attributes["schema"])
    version_table = _check_schema(config.attributes.get("version_table", "alembic_version"))
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("alembic config has no sqlalchemy.url (use cp_common.db.migrations.upgrade)")
    engine = create_engine(url, poolclass=pool.NullPool)
    lock_key = f"cryptopredict.migrations.{schema}"  # one lock per schema, whatever the history
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(hashtext(:k))"), {"k": lock_key})
        try:
            connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            connection.execute(text(f'SET search_path TO "{schema}", public'))
            connection.commit()
            context.configure(
                connection=connection,
                version_table_schema=schema,
                version_table=version_table,
                target_metadata=None,
                transaction_per_migration=True,
            )
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": lock_key})
            connection.commit()
    engine.dispose()
