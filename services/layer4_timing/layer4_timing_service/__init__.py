"""The Layer 4 timing service: signals from the cascade's context, tracked until they close,
paper-traded by users, and an honest live record of how they did."""

from pathlib import Path

#: The PostgreSQL schema the service owns.
SCHEMA = "layer4_timing"
#: Alembic migrations of the ``layer4_timing`` schema.
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
