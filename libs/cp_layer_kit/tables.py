"""Tables every layer service keeps in its own schema: stored results and the market read model.

A layer service's first migration calls :func:`create` after
``cp_common.db.platform_tables.create()``; the model registry's table comes from
``cp_models.registry`` (its own version table in the same schema).
"""

from __future__ import annotations

from alembic import op

RESULTS_DDL = """
-- One analysis per cascade run: a retried call finds its run here and is answered from it.
CREATE TABLE layer_results (
    analysis_id     UUID        PRIMARY KEY,
    cascade_run_id  TEXT        NOT NULL UNIQUE,
    as_of           TIMESTAMPTZ NOT NULL,
    model_version   TEXT        NOT NULL,
    inference_ms    DOUBLE PRECISION NOT NULL,
    response        BYTEA       NOT NULL,  -- the gRPC response as first answered
    view            JSONB       NOT NULL,  -- the REST representation
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT layer_results_run_id_format CHECK (cascade_run_id ~ '^[A-Za-z0-9._:-]{1,100}$')
);
CREATE INDEX layer_results_latest_idx ON layer_results (created_at DESC);
"""

READ_MODEL_DDL = """
-- The market as this layer sees it (copied from ingestion's gRPC API and events).
CREATE TABLE market_assets (
    symbol          TEXT        PRIMARY KEY,
    sector          TEXT        NOT NULL,
    name            TEXT        NOT NULL DEFAULT '',
    market_cap_rank INTEGER,
    market_cap_usd  DOUBLE PRECISION,
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE market_candles_1d (
    symbol       TEXT             NOT NULL,
    open_time    TIMESTAMPTZ      NOT NULL,
    open         DOUBLE PRECISION NOT NULL,
    high         DOUBLE PRECISION NOT NULL,
    low          DOUBLE PRECISION NOT NULL,
    close        DOUBLE PRECISION NOT NULL,
    volume       DOUBLE PRECISION NOT NULL,
    quote_volume DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (symbol, open_time)
);
-- The last snapshot of each UTC day (NaN = unknown).
CREATE TABLE market_snapshots_1d (
    day                    DATE             PRIMARY KEY,
    taken_at               TIMESTAMPTZ      NOT NULL,
    total_market_cap       DOUBLE PRECISION NOT NULL,
    btc_dominance          DOUBLE PRECISION NOT NULL,
    eth_dominance          DOUBLE PRECISION NOT NULL,
    alt_dominance          DOUBLE PRECISION NOT NULL,
    stablecoin_dominance   DOUBLE PRECISION NOT NULL,
    fear_greed             DOUBLE PRECISION NOT NULL,
    market_cap_change_24h  DOUBLE PRECISION NOT NULL
);
"""


def create() -> None:
    op.execute(RESULTS_DDL)
    op.execute(READ_MODEL_DDL)


def drop() -> None:
    for table in ("market_snapshots_1d", "market_candles_1d", "market_assets", "layer_results"):
        op.execute(f"DROP TABLE IF EXISTS {table}")
