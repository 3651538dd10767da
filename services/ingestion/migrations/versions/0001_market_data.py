"""Sectors, assets, candles (1h/4h/1d), market snapshots, feed state and import runs; the outbox."""

from alembic import op

from cp_common.db import platform_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    platform_tables.create()
    op.execute(
        """
        -- The sector taxonomy (synchronised from the code at start-up).
        CREATE TABLE sectors (
            sector    TEXT    PRIMARY KEY,
            name      TEXT    NOT NULL,
            position  INTEGER NOT NULL,
            CONSTRAINT sectors_sector_format CHECK (sector ~ '^[a-z0-9_]{1,40}$')
        );

        CREATE TABLE assets (
            symbol          TEXT        PRIMARY KEY,
            name            TEXT        NOT NULL,
            sector          TEXT        REFERENCES sectors (sector),
            market_cap_rank INTEGER,
            coingecko_id    TEXT,
            sector_tags     TEXT        NOT NULL DEFAULT '',
            source          TEXT        NOT NULL,
            updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT assets_symbol_format CHECK (symbol ~ '^[A-Z0-9]{1,20}$'),
            CONSTRAINT assets_rank_positive CHECK (market_cap_rank > 0)
        );
        -- the universe: top N by rank, overall and per sector
        CREATE INDEX assets_rank_idx ON assets (market_cap_rank, symbol);
        CREATE INDEX assets_sector_rank_idx ON assets (sector, market_cap_rank, symbol);

        -- Closed candles only. One row per (symbol, interval, open_time); the primary key also
        -- serves "latest N per symbol" (backward scan) and range reads.
        CREATE TABLE candles (
            symbol        TEXT             NOT NULL,
            interval      TEXT             NOT NULL,
            open_time     TIMESTAMPTZ      NOT NULL,
            open          DOUBLE PRECISION NOT NULL,
            high          DOUBLE PRECISION NOT NULL,
            low           DOUBLE PRECISION NOT NULL,
            close         DOUBLE PRECISION NOT NULL,
            volume        DOUBLE PRECISION NOT NULL,
            quote_volume  DOUBLE PRECISION,
            market_cap    DOUBLE PRECISION,
            quote         TEXT             NOT NULL,
            source        TEXT             NOT NULL,
            quality_flags TEXT             NOT NULL DEFAULT '',
            ingested_at   TIMESTAMPTZ      NOT NULL DEFAULT now(),
            updated_at    TIMESTAMPTZ      NOT NULL DEFAULT now(),
            PRIMARY KEY (symbol, interval, open_time),
            CONSTRAINT candles_interval_known CHECK (interval IN ('1h', '4h', '1d')),
            CONSTRAINT candles_prices_positive CHECK (open > 0 AND high > 0 AND low > 0 AND close > 0),
            CONSTRAINT candles_range CHECK (low <= high),
            CONSTRAINT candles_volume CHECK (volume >= 0)
        );
        -- No secondary index: every read is by symbol (the key's prefix); an index on
        -- (interval, open_time) cost a quarter of the bulk-load speed for the rare scans it served.

        CREATE TABLE market_snapshots (
            taken_at             TIMESTAMPTZ      PRIMARY KEY,
            total_market_cap     DOUBLE PRECISION,
            total_volume_24h     DOUBLE PRECISION,
            btc_dominance        DOUBLE PRECISION,
            eth_dominance        DOUBLE PRECISION,
            stablecoin_dominance DOUBLE PRECISION,
            usdt_market_cap      DOUBLE PRECISION,
            fear_greed           DOUBLE PRECISION,
            fear_greed_label     TEXT,
            stale_market_cap     BOOLEAN          NOT NULL DEFAULT false,
            source               TEXT             NOT NULL,
            ingested_at          TIMESTAMPTZ      NOT NULL DEFAULT now(),
            updated_at           TIMESTAMPTZ      NOT NULL DEFAULT now(),
            CONSTRAINT snapshots_caps_positive CHECK (total_market_cap > 0),
            CONSTRAINT snapshots_percentages CHECK (
                btc_dominance BETWEEN 0 AND 100 AND eth_dominance BETWEEN 0 AND 100
                AND stablecoin_dominance BETWEEN 0 AND 100 AND fear_greed BETWEEN 0 AND 100
            )
        );

        -- Small per-feed state (e.g. the synthetic market's origin), so a restart resumes.
        CREATE TABLE feed_state (
            feed        TEXT        PRIMARY KEY,
            state       JSONB       NOT NULL,
            updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
        );

        -- One row per backfill (CLI or feed): what was read, stored and rejected.
        CREATE TABLE import_runs (
            id           BIGSERIAL   PRIMARY KEY,
            source       TEXT        NOT NULL,
            started_at   TIMESTAMPTZ NOT NULL,
            finished_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
            summary      JSONB       NOT NULL
        );
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE import_runs; DROP TABLE feed_state; DROP TABLE market_snapshots; "
        "DROP TABLE candles; DROP TABLE assets; DROP TABLE sectors"
    )
    platform_tables.drop()
