"""Revoked access tokens and account lockouts in PostgreSQL, so neither depends on Redis.

Redis keeps a copy of the revocations (the verifiers' fast path) that the service rebuilds from
``revoked_access_tokens`` whenever Redis comes back empty; lockouts are read from here directly.
"""

from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE revoked_access_tokens (
            jti        TEXT        PRIMARY KEY,
            expires_at TIMESTAMPTZ NOT NULL,
            reason     TEXT        NOT NULL,
            revoked_at TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        CREATE INDEX revoked_access_tokens_expiry_idx ON revoked_access_tokens (expires_at);

        -- account = SHA-256 of the normalised email (emails without an account are locked too)
        CREATE TABLE login_lockouts (
            account      TEXT        PRIMARY KEY,
            locked_until TIMESTAMPTZ NOT NULL,
            locked_at    TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        CREATE INDEX login_lockouts_expiry_idx ON login_lockouts (locked_until);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE login_lockouts; DROP TABLE revoked_access_tokens")
