"""Signals and their outcomes, paper executions, per-user risk settings, feedback and the live
accuracy of each piece of evidence; the layer kit's tables (stored runs, the market read model
the tracker walks signals over); outbox for signals.v1."""

from alembic import op

from cp_common.db import platform_tables
from cp_layer_kit import tables as layer_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    platform_tables.create()
    layer_tables.create()
    op.execute(
        """
        CREATE TABLE signals (
            id                 UUID             PRIMARY KEY,
            cascade_run_id     TEXT             NOT NULL,
            symbol             TEXT             NOT NULL,
            signal_type        TEXT             NOT NULL,
            status             TEXT             NOT NULL DEFAULT 'active',
            -- the close the decision was taken at; entry fills at the next bar's open
            entry_price        DOUBLE PRECISION NOT NULL,
            target_price       DOUBLE PRECISION NOT NULL,
            stop_loss          DOUBLE PRECISION NOT NULL,
            -- |target - entry| and |entry - stop| (the risk checks use them)
            target_distance    DOUBLE PRECISION NOT NULL,
            stop_distance      DOUBLE PRECISION NOT NULL,
            horizon_bars       INTEGER          NOT NULL,
            confidence         DOUBLE PRECISION,
            probability        DOUBLE PRECISION,
            agreement          DOUBLE PRECISION,
            risk_level         TEXT             NOT NULL,
            risk_reward_ratio  DOUBLE PRECISION NOT NULL,
            position_size      DOUBLE PRECISION NOT NULL,
            time_horizon_hours INTEGER          NOT NULL,
            decision_date      DATE             NOT NULL,
            generated_at       TIMESTAMPTZ      NOT NULL,
            expires_at         TIMESTAMPTZ      NOT NULL,
            ai_analysis        TEXT             NOT NULL DEFAULT '',
            market_regime      TEXT,
            market_context     JSONB            NOT NULL DEFAULT '{}'::jsonb,
            votes              JSONB            NOT NULL DEFAULT '[]'::jsonb,
            model_version      TEXT             NOT NULL,
            entry_fill_price   DOUBLE PRECISION,
            entry_filled_at    TIMESTAMPTZ,
            exit_price         DOUBLE PRECISION,
            closed_at          TIMESTAMPTZ,
            gross_return       DOUBLE PRECISION,
            net_return         DOUBLE PRECISION,
            bars_held          INTEGER,
            close_reason       TEXT,
            created_at         TIMESTAMPTZ      NOT NULL DEFAULT now(),
            updated_at         TIMESTAMPTZ      NOT NULL DEFAULT now(),
            CONSTRAINT signals_run_symbol_key UNIQUE (cascade_run_id, symbol),
            CONSTRAINT signals_type_known CHECK (signal_type IN ('long', 'short')),
            CONSTRAINT signals_status_known
                CHECK (status IN ('active', 'target_hit', 'stopped_out', 'expired', 'cancelled'))
        );
        CREATE INDEX signals_active_symbol_idx ON signals (symbol) WHERE status = 'active';
        CREATE INDEX signals_listing_idx ON signals (status, generated_at DESC, id DESC);
        CREATE INDEX signals_closed_idx ON signals (closed_at) WHERE closed_at IS NOT NULL;

        CREATE TABLE user_risk_settings (
            user_id            TEXT             PRIMARY KEY,
            paper_equity       DOUBLE PRECISION NOT NULL,
            max_position_size  DOUBLE PRECISION NOT NULL,
            max_open_positions INTEGER          NOT NULL,
            max_risk_per_trade DOUBLE PRECISION NOT NULL,
            updated_at         TIMESTAMPTZ      NOT NULL DEFAULT now()
        );

        CREATE TABLE executions (
            id            UUID             PRIMARY KEY,
            user_id       TEXT             NOT NULL,
            signal_id     UUID             NOT NULL REFERENCES signals (id),
            symbol        TEXT             NOT NULL,
            side          TEXT             NOT NULL,
            size          DOUBLE PRECISION NOT NULL,
            notional      DOUBLE PRECISION NOT NULL,
            quantity      DOUBLE PRECISION NOT NULL,
            entry_price   DOUBLE PRECISION NOT NULL,
            executed_at   TIMESTAMPTZ      NOT NULL DEFAULT now(),
            status        TEXT             NOT NULL DEFAULT 'open',
            exit_price    DOUBLE PRECISION,
            closed_at     TIMESTAMPTZ,
            net_return    DOUBLE PRECISION,
            realised_pnl  DOUBLE PRECISION,
            CONSTRAINT executions_user_signal_key UNIQUE (user_id, signal_id),
            CONSTRAINT executions_status_known CHECK (status IN ('open', 'closed'))
        );
        CREATE INDEX executions_user_idx ON executions (user_id, executed_at DESC);
        CREATE INDEX executions_open_signal_idx ON executions (signal_id) WHERE status = 'open';

        CREATE TABLE feedback (
            signal_id  UUID        NOT NULL REFERENCES signals (id),
            user_id    TEXT        NOT NULL,
            rating     INTEGER     NOT NULL CHECK (rating BETWEEN 1 AND 5),
            useful     BOOLEAN,
            comment    TEXT        NOT NULL DEFAULT '',
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (signal_id, user_id)
        );

        -- One row per (closed signal, voter that took a side): was the voter right?
        CREATE TABLE evidence_outcomes (
            signal_id UUID        NOT NULL REFERENCES signals (id),
            voter     TEXT        NOT NULL,
            correct   BOOLEAN     NOT NULL,
            closed_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (signal_id, voter)
        );
        CREATE INDEX evidence_outcomes_recent_idx ON evidence_outcomes (voter, closed_at DESC);

        -- Rolling live accuracy per voter and the weight it implies (max(min_weight, accuracy)).
        CREATE TABLE evidence_accuracy (
            voter      TEXT             PRIMARY KEY,
            samples    INTEGER          NOT NULL,
            accuracy   DOUBLE PRECISION NOT NULL,
            weight     DOUBLE PRECISION NOT NULL,
            updated_at TIMESTAMPTZ      NOT NULL DEFAULT now()
        );
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE evidence_accuracy, evidence_outcomes, feedback, executions, user_risk_settings, signals"
    )
    layer_tables.drop()
    platform_tables.drop()
