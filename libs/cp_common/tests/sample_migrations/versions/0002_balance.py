"""Second migration: a running balance per symbol (proves migrations apply in order)."""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute("CREATE TABLE balances (symbol TEXT PRIMARY KEY, total DOUBLE PRECISION NOT NULL)")


def downgrade() -> None:
    op.execute("DROP TABLE balances")
