"""A sample service's first migration: platform tables plus one table the handler writes."""

from alembic import op

from cp_common.db import platform_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    platform_tables.create()
    op.execute(
        """
        CREATE TABLE ledger (
            id        BIGSERIAL PRIMARY KEY,
            event_id  UUID NOT NULL,
            symbol    TEXT NOT NULL,
            amount    DOUBLE PRECISION NOT NULL
        )
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE ledger")
    platform_tables.drop()
