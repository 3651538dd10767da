"""Cascade runs, each layer's latest result (the bounded-staleness fallback) and the claims of
scheduled slots (one replica runs each)."""

from alembic import op

from cp_common.db import platform_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    platform_tables.create()
    op.execute(
        """
        CREATE TABLE cascade_runs (
            run_id              TEXT        PRIMARY KEY,
            trigger             TEXT        NOT NULL,
            mode                TEXT        NOT NULL,
            status              TEXT        NOT NULL,
            symbols             TEXT[]      NOT NULL DEFAULT '{}',
            started_at          TIMESTAMPTZ NOT NULL,
            finished_at         TIMESTAMPTZ,
            attempts            INTEGER     NOT NULL DEFAULT 1,
            layers              JSONB       NOT NULL DEFAULT '[]'::jsonb,
            model_versions      JSONB       NOT NULL DEFAULT '{}'::jsonb,
            degraded_layers     TEXT[]      NOT NULL DEFAULT '{}',
            cascade_confidence  DOUBLE PRECISION,
            signal_count        INTEGER     NOT NULL DEFAULT 0,
            error               TEXT        NOT NULL DEFAULT '',
            -- the whole answer (orchestrator.v1.RunCascadeResponse), for /runs/{id} and the dashboards
            response            BYTEA,
            CONSTRAINT cascade_runs_status_known
                CHECK (status IN ('running', 'succeeded', 'degraded', 'failed')),
            CONSTRAINT cascade_runs_trigger_known CHECK (trigger IN ('schedule', 'market_event', 'manual')),
            CONSTRAINT cascade_runs_mode_known CHECK (mode IN ('full', 'quick'))
        );
        CREATE INDEX cascade_runs_started_idx ON cascade_runs (started_at DESC);
        CREATE INDEX cascade_runs_finished_ok_idx ON cascade_runs (finished_at DESC)
            WHERE status IN ('succeeded', 'degraded');

        CREATE TABLE layer_latest (
            layer        SMALLINT    PRIMARY KEY,
            run_id       TEXT        NOT NULL,
            response     BYTEA       NOT NULL,
            produced_at  TIMESTAMPTZ NOT NULL,
            CONSTRAINT layer_latest_layer_known CHECK (layer BETWEEN 1 AND 4)
        );

        CREATE TABLE schedule_claims (
            slot        BIGINT      PRIMARY KEY,
            claimed_by  TEXT        NOT NULL,
            claimed_at  TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE schedule_claims; DROP TABLE layer_latest; DROP TABLE cascade_runs;")
