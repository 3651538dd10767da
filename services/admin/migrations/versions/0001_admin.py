"""Watchlists and items, the suggestion queue and its reviews, the append-only audit log, and
the read models fed by events (latest Layer 3 score per asset, latest cascade run)."""

from alembic import op

from cp_common.db import platform_tables

revision = "0001"
down_revision = None

APPEND_ONLY_AUDIT = """
-- The audit log is append-only for everyone, the service's own role included: rows can be
-- inserted and read, never changed or removed.
CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_update_or_delete
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM CURRENT_USER;
"""


def upgrade() -> None:
    platform_tables.create()
    op.execute(
        """
        CREATE TABLE watchlists (
            id             BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            kind           TEXT        NOT NULL,
            name           TEXT        NOT NULL,
            owner_user_id  UUID,
            created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT watchlists_kind_known CHECK (kind IN ('admin', 'personal')),
            CONSTRAINT watchlists_owner CHECK ((kind = 'personal') = (owner_user_id IS NOT NULL)),
            CONSTRAINT watchlists_name_length CHECK (char_length(name) BETWEEN 1 AND 80)
        );
        CREATE INDEX watchlists_owner_idx ON watchlists (owner_user_id) WHERE owner_user_id IS NOT NULL;
        -- The admin watchlist the cascade works on; tiers are per item.
        INSERT INTO watchlists (kind, name) VALUES ('admin', 'Admin watchlist');

        CREATE TABLE watchlist_items (
            id              BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            watchlist_id    BIGINT      NOT NULL REFERENCES watchlists (id) ON DELETE CASCADE,
            symbol          TEXT        NOT NULL,
            tier            SMALLINT    NOT NULL,
            status          TEXT        NOT NULL DEFAULT 'active',
            priority_order  INTEGER     NOT NULL DEFAULT 0,
            added_by        UUID,
            added_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT watchlist_items_symbol_key UNIQUE (watchlist_id, symbol),
            CONSTRAINT watchlist_items_tier_known CHECK (tier IN (1, 2)),
            CONSTRAINT watchlist_items_status_known CHECK (status IN ('active', 'paused'))
        );
        CREATE INDEX watchlist_items_order_idx ON watchlist_items (watchlist_id, tier, priority_order, id);

        CREATE TABLE suggestions (
            id               UUID        PRIMARY KEY,
            symbol           TEXT        NOT NULL,
            suggestion_type  TEXT        NOT NULL,
            confidence       DOUBLE PRECISION NOT NULL,
            ai_reasoning     TEXT        NOT NULL DEFAULT '',
            supporting_data  JSONB       NOT NULL DEFAULT '{}'::jsonb,
            model_version    TEXT        NOT NULL DEFAULT '',
            cascade_run_id   TEXT        NOT NULL DEFAULT '',
            suggested_at     TIMESTAMPTZ NOT NULL,
            received_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
            expires_at       TIMESTAMPTZ NOT NULL,
            status           TEXT        NOT NULL DEFAULT 'pending',
            reviewed_at      TIMESTAMPTZ,
            CONSTRAINT suggestions_status_known
                CHECK (status IN ('pending', 'approved', 'rejected', 'deferred', 'expired')),
            CONSTRAINT suggestions_confidence_range CHECK (confidence BETWEEN 0 AND 1)
        );
        CREATE INDEX suggestions_queue_idx ON suggestions (status, confidence DESC, suggested_at);
        CREATE INDEX suggestions_expiry_idx ON suggestions (expires_at)
            WHERE status IN ('pending', 'deferred');

        CREATE TABLE suggestion_reviews (
            id              UUID        PRIMARY KEY,
            suggestion_id   UUID        NOT NULL REFERENCES suggestions (id),
            decision        TEXT        NOT NULL,
            reviewer_id     UUID        NOT NULL,
            reviewer_email  TEXT        NOT NULL,
            note            TEXT        NOT NULL DEFAULT '',
            reviewed_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT suggestion_reviews_decision_known CHECK (decision IN ('approve', 'reject', 'defer'))
        );
        CREATE INDEX suggestion_reviews_suggestion_idx ON suggestion_reviews (suggestion_id, reviewed_at);

        CREATE TABLE audit_log (
            id              BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            occurred_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
            source          TEXT        NOT NULL,
            actor_user_id   UUID,
            actor_email     TEXT        NOT NULL DEFAULT '',
            actor_role      TEXT        NOT NULL DEFAULT '',
            action          TEXT        NOT NULL,
            target_type     TEXT        NOT NULL,
            target_id       TEXT        NOT NULL,
            before          JSONB,
            after           JSONB,
            request_id      TEXT        NOT NULL DEFAULT ''
        );
        CREATE INDEX audit_log_time_idx ON audit_log (occurred_at DESC, id DESC);
        CREATE INDEX audit_log_actor_idx ON audit_log (actor_user_id, occurred_at DESC);
        CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id, occurred_at DESC);

        -- Read models fed by events of other services.
        CREATE TABLE asset_scores (
            symbol          TEXT        PRIMARY KEY,
            ai_score        DOUBLE PRECISION NOT NULL,
            confidence      DOUBLE PRECISION NOT NULL,
            recommendation  TEXT        NOT NULL DEFAULT '',
            model_version   TEXT        NOT NULL DEFAULT '',
            analyzed_at     TIMESTAMPTZ NOT NULL
        );
        CREATE TABLE cascade_runs (
            run_id          TEXT        PRIMARY KEY,
            status          TEXT        NOT NULL,
            trigger         TEXT        NOT NULL,
            started_at      TIMESTAMPTZ,
            finished_at     TIMESTAMPTZ,
            cascade_confidence DOUBLE PRECISION,
            signals_generated  INTEGER NOT NULL DEFAULT 0,
            suggestions_created INTEGER NOT NULL DEFAULT 0,
            updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        CREATE INDEX cascade_runs_recent_idx ON cascade_runs (started_at DESC);
        """
    )
    op.execute(APPEND_ONLY_AUDIT)


def downgrade() -> None:
    op.execute(
        "DROP TABLE cascade_runs; DROP TABLE asset_scores; DROP TABLE audit_log; "
        "DROP FUNCTION audit_log_is_append_only(); DROP TABLE suggestion_reviews; "
        "DROP TABLE suggestions; DROP TABLE watchlist_items; DROP TABLE watchlists"
    )
    platform_tables.drop()
