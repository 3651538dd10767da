"""The ingestion service: market data in (simulator, files, replay, live exchanges), validated,
stored in its own schema, published as events and served over gRPC and REST."""

from pathlib import Path

#: The PostgreSQL schema the service owns.
SCHEMA = "ingestion"
#: Alembic migrations of the ``ingestion`` schema.
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
