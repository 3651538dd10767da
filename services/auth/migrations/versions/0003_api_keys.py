"""API keys for scripts and bots, and the sessions their exchanges start.

A key is stored as the SHA-256 of its secret (shown once). Every exchange of a key for an access
token starts a refresh family of its own (with a refresh token nobody is given), so the flows that
already revoke families and live access tokens (deactivation, password change, logout) cover
API-key tokens too; ``api_key_sessions`` ties those families to their key for revoking a key.
"""

from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE api_keys (
            id            UUID        PRIMARY KEY,
            user_id       UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            name          TEXT        NOT NULL,
            prefix        TEXT        NOT NULL,
            secret_hash   BYTEA       NOT NULL,
            scope         TEXT        NOT NULL,
            max_role      TEXT        NOT NULL,
            created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
            expires_at    TIMESTAMPTZ,
            last_used_at  TIMESTAMPTZ,
            revoked_at    TIMESTAMPTZ,
            CONSTRAINT api_keys_secret_hash_key UNIQUE (secret_hash),
            CONSTRAINT api_keys_name_length CHECK (char_length(name) BETWEEN 1 AND 100),
            CONSTRAINT api_keys_scope_known CHECK (scope IN ('read', 'read execute')),
            CONSTRAINT api_keys_role_known CHECK (max_role IN ('admin', 'professional', 'casual'))
        );
        CREATE INDEX api_keys_user_idx ON api_keys (user_id, created_at);

        CREATE TABLE api_key_sessions (
            family_id UUID PRIMARY KEY REFERENCES refresh_families (id) ON DELETE CASCADE,
            key_id    UUID NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE
        );
        CREATE INDEX api_key_sessions_key_idx ON api_key_sessions (key_id);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE api_key_sessions; DROP TABLE api_keys")
