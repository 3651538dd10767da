"""Layer 3: stored results and the market read model (cp_layer_kit), open suggestions, the outbox."""

from alembic import op

from cp_common.db import platform_tables
from cp_layer_kit import tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    platform_tables.create()
    tables.create()
    op.execute(
        """
        -- Published suggestions not yet approved or rejected: not proposed again meanwhile.
        CREATE TABLE open_suggestions (
            symbol          TEXT             NOT NULL,
            suggestion_type INTEGER          NOT NULL,  -- cryptopredict.common.v1.SuggestionType
            suggestion_id   UUID             NOT NULL UNIQUE,
            confidence      DOUBLE PRECISION NOT NULL,
            opened_at       TIMESTAMPTZ      NOT NULL DEFAULT now(),
            PRIMARY KEY (symbol, suggestion_type)
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS open_suggestions")
    tables.drop()
    platform_tables.drop()
