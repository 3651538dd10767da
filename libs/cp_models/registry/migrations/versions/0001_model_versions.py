"""The model registry: versioned artifacts with their provenance, metrics and status."""

from alembic import op

revision = "registry_0001"
down_revision = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE model_versions (
            id                    BIGSERIAL PRIMARY KEY,
            name                  TEXT        NOT NULL,
            version               INTEGER     NOT NULL,
            status                TEXT        NOT NULL
                CHECK (status IN ('training', 'active', 'inactive', 'error')),
            artifact              BYTEA,
            artifact_sha256       TEXT,
            artifact_bytes        INTEGER,
            training_window_start DATE,
            training_window_end   DATE,
            features              JSONB       NOT NULL DEFAULT '[]'::jsonb,
            hyper_parameters      JSONB       NOT NULL DEFAULT '{}'::jsonb,
            metrics               JSONB       NOT NULL DEFAULT '{}'::jsonb,
            metadata              JSONB       NOT NULL DEFAULT '{}'::jsonb,
            error                 TEXT,
            created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
            activated_at          TIMESTAMPTZ,
            UNIQUE (name, version)
        );
        -- at most one active version per model name
        CREATE UNIQUE INDEX model_versions_one_active ON model_versions (name) WHERE status = 'active';
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE model_versions")
