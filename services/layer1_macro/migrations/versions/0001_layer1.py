"""Layer 1: stored results and the market read model (cp_layer_kit), the outbox."""

from cp_common.db import platform_tables
from cp_layer_kit import tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    platform_tables.create()
    tables.create()


def downgrade() -> None:
    tables.drop()
    platform_tables.drop()
