"""The admin service: watchlists, the review queue of Layer 3 suggestions, the audit log, system health."""

from pathlib import Path

#: The PostgreSQL schema the service owns.
SCHEMA = "admin"
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
