"""The orchestrator: runs the L1 -> L4 cascade under per-layer deadlines and circuit breakers."""

from pathlib import Path

#: The PostgreSQL schema the service owns.
SCHEMA = "orchestrator"
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
