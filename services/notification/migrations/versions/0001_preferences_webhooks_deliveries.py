"""Preferences, webhook endpoints and deliveries (with their attempts), the active-signal read
model behind ``signals_init``, and the per-user notices (the inbox owners are told through)."""

from alembic import op

from cp_common.db import platform_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    platform_tables.create()
    op.execute(
        """
        CREATE TABLE preferences (
            user_id        TEXT             PRIMARY KEY,
            -- Empty: every symbol.
            symbols        TEXT[]           NOT NULL DEFAULT '{}',
            min_confidence DOUBLE PRECISION NOT NULL DEFAULT 0,
            channels       TEXT[]           NOT NULL DEFAULT '{websocket,webhook}',
            updated_at     TIMESTAMPTZ      NOT NULL DEFAULT now(),
            CONSTRAINT preferences_confidence_range CHECK (min_confidence BETWEEN 0 AND 1)
        );

        CREATE TABLE webhook_endpoints (
            id                   UUID        PRIMARY KEY,
            user_id              TEXT        NOT NULL,
            url                  TEXT        NOT NULL,
            description          TEXT        NOT NULL DEFAULT '',
            -- The signing key; returned once, at creation.
            secret               TEXT        NOT NULL,
            enabled              BOOLEAN     NOT NULL DEFAULT true,
            -- Dead-lettered deliveries in a row; reset by a successful one.
            consecutive_failures INTEGER     NOT NULL DEFAULT 0,
            disabled_reason      TEXT,
            disabled_at          TIMESTAMPTZ,
            created_at           TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        CREATE INDEX webhook_endpoints_user_idx ON webhook_endpoints (user_id);

        CREATE TABLE webhook_deliveries (
            id              UUID        PRIMARY KEY,
            endpoint_id     UUID        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
            user_id         TEXT        NOT NULL,
            event_id        UUID        NOT NULL,
            event_type      TEXT        NOT NULL,
            payload         JSONB       NOT NULL,
            -- pending -> delivered | dead (the dead letter: given up after the last attempt)
            status          TEXT        NOT NULL DEFAULT 'pending',
            attempts        INTEGER     NOT NULL DEFAULT 0,
            next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            locked_until    TIMESTAMPTZ,
            last_status     INTEGER,
            last_error      TEXT,
            created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
            finished_at     TIMESTAMPTZ,
            CONSTRAINT webhook_deliveries_once UNIQUE (endpoint_id, event_id),
            CONSTRAINT webhook_deliveries_status_known CHECK (status IN ('pending', 'delivered', 'dead'))
        );
        CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at)
            WHERE status = 'pending';
        CREATE INDEX webhook_deliveries_user_idx ON webhook_deliveries (user_id, created_at DESC);

        CREATE TABLE webhook_attempts (
            delivery_id  UUID        NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
            attempt      INTEGER     NOT NULL,
            attempted_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            status_code  INTEGER,
            error        TEXT,
            duration_ms  DOUBLE PRECISION NOT NULL,
            PRIMARY KEY (delivery_id, attempt)
        );

        CREATE TABLE active_signals (
            signal_id    TEXT        PRIMARY KEY,
            symbol       TEXT        NOT NULL,
            confidence   DOUBLE PRECISION NOT NULL,
            data         JSONB       NOT NULL,
            generated_at TIMESTAMPTZ NOT NULL
        );
        CREATE INDEX active_signals_recent_idx ON active_signals (generated_at DESC);

        CREATE TABLE notices (
            id         UUID        PRIMARY KEY,
            user_id    TEXT        NOT NULL,
            kind       TEXT        NOT NULL,
            message    TEXT        NOT NULL,
            data       JSONB       NOT NULL DEFAULT '{}'::jsonb,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        CREATE INDEX notices_user_idx ON notices (user_id, created_at DESC);
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE notices, active_signals, webhook_attempts, webhook_deliveries, "
        "webhook_endpoints, preferences"
    )
    platform_tables.drop()
