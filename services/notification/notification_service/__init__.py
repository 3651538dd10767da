"""The notification service: real-time delivery over WebSockets and signed webhooks."""

from pathlib import Path

#: The PostgreSQL schema the service owns.
SCHEMA = "notification"
MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
