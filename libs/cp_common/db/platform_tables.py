"""Tables the shared runtime needs in every service schema that publishes or consumes events.

A service's first migration calls :func:`create` (and its downgrade :func:`drop`), so the
outbox and the processed-event table live beside the service's own data and share its
transactions.
"""

from __future__ import annotations

from alembic import op

OUTBOX_DDL = """
CREATE TABLE outbox (
    id           BIGSERIAL PRIMARY KEY,
    event_id     UUID        NOT NULL UNIQUE,
    topic        TEXT        NOT NULL,
    record_key   BYTEA,
    payload      BYTEA       NOT NULL,
    headers      JSONB       NOT NULL DEFAULT '{}'::jsonb,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at      TIMESTAMPTZ,
    attempts     INTEGER     NOT NULL DEFAULT 0,
    last_error   TEXT
);
CREATE INDEX outbox_unsent_idx ON outbox (id) WHERE sent_at IS NULL;
"""

PROCESSED_EVENTS_DDL = """
CREATE TABLE processed_events (
    event_id        UUID        NOT NULL,
    consumer_group  TEXT        NOT NULL,
    topic           TEXT        NOT NULL,
    processed_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, consumer_group)
);
CREATE INDEX processed_events_age_idx ON processed_events (processed_at);
"""


def create() -> None:
    op.execute(OUTBOX_DDL)
    op.execute(PROCESSED_EVENTS_DDL)


def drop() -> None:
    op.execute("DROP TABLE IF EXISTS processed_events")
    op.execute("DROP TABLE IF EXISTS outbox")
