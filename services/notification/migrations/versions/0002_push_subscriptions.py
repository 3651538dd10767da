"""Browser push subscriptions, and web push deliveries in the deliveries table.

Web push deliveries share ``webhook_deliveries`` (and ``webhook_attempts``) with webhooks, so one
worker, one retry policy and one dead letter serve both channels: a row is either a webhook
delivery (``endpoint_id``) or a web push delivery (``subscription_id``). A removed subscription
keeps its deliveries' history (``ON DELETE SET NULL``).
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE push_subscriptions (
            id              UUID        PRIMARY KEY,
            user_id         TEXT        NOT NULL,
            -- The push service URL of one browser; a browser re-subscribing moves it.
            endpoint        TEXT        NOT NULL UNIQUE,
            -- base64url: the browser's P-256 public key (65 bytes) and auth secret (16 bytes).
            p256dh          TEXT        NOT NULL,
            auth            TEXT        NOT NULL,
            expiration_time TIMESTAMPTZ,
            created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        CREATE INDEX push_subscriptions_user_idx ON push_subscriptions (user_id);

        ALTER TABLE webhook_deliveries
            ADD COLUMN channel TEXT NOT NULL DEFAULT 'webhook',
            ADD COLUMN subscription_id UUID REFERENCES push_subscriptions (id) ON DELETE SET NULL,
            ALTER COLUMN endpoint_id DROP NOT NULL,
            ADD CONSTRAINT webhook_deliveries_push_once UNIQUE (subscription_id, event_id),
            ADD CONSTRAINT webhook_deliveries_channel_known CHECK (channel IN ('webhook', 'webpush')),
            ADD CONSTRAINT webhook_deliveries_webhook_target CHECK (
                channel <> 'webhook' OR endpoint_id IS NOT NULL);

        ALTER TABLE preferences ALTER COLUMN channels SET DEFAULT '{webhook,webpush,websocket}';
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE preferences ALTER COLUMN channels SET DEFAULT '{websocket,webhook}';
        DELETE FROM webhook_deliveries WHERE channel <> 'webhook';
        ALTER TABLE webhook_deliveries
            DROP CONSTRAINT webhook_deliveries_webhook_target,
            DROP CONSTRAINT webhook_deliveries_channel_known,
            DROP CONSTRAINT webhook_deliveries_push_once,
            ALTER COLUMN endpoint_id SET NOT NULL,
            DROP COLUMN subscription_id,
            DROP COLUMN channel;
        DROP TABLE push_subscriptions;
        """
    )
