"""Users, refresh-token families and refresh tokens; the outbox for users.v1 events."""

from alembic import op

from cp_common.db import platform_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    platform_tables.create()
    op.execute(
        """
        CREATE TABLE users (
            id                  UUID        PRIMARY KEY,
            email               TEXT        NOT NULL,
            password_hash       TEXT        NOT NULL,
            role                TEXT        NOT NULL,
            is_active           BOOLEAN     NOT NULL DEFAULT true,
            created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
            last_login_at       TIMESTAMPTZ,
            password_changed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            CONSTRAINT users_email_key UNIQUE (email),
            CONSTRAINT users_email_length CHECK (char_length(email) BETWEEN 3 AND 254),
            CONSTRAINT users_role_known CHECK (role IN ('admin', 'professional', 'casual'))
        );
        CREATE INDEX users_listing_idx ON users (created_at, id);
        CREATE INDEX users_role_idx ON users (role, is_active);

        -- One family per login; every refresh rotates the token inside its family.
        CREATE TABLE refresh_families (
            id            UUID        PRIMARY KEY,
            user_id       UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
            revoked_at    TIMESTAMPTZ,
            revoke_reason TEXT
        );
        CREATE INDEX refresh_families_live_idx ON refresh_families (user_id) WHERE revoked_at IS NULL;

        CREATE TABLE refresh_tokens (
            id                UUID        PRIMARY KEY,
            family_id         UUID        NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
            user_id           UUID        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
            token_hash        BYTEA       NOT NULL,
            -- the access token issued together with this refresh token (for logout/revocation)
            access_jti        TEXT        NOT NULL,
            access_expires_at TIMESTAMPTZ NOT NULL,
            created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
            expires_at        TIMESTAMPTZ NOT NULL,
            rotated_at        TIMESTAMPTZ,
            CONSTRAINT refresh_tokens_hash_key UNIQUE (token_hash)
        );
        CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
        CREATE INDEX refresh_tokens_jti_idx ON refresh_tokens (access_jti);
        CREATE INDEX refresh_tokens_live_access_idx ON refresh_tokens (user_id, access_expires_at);
        CREATE INDEX refresh_tokens_expiry_idx ON refresh_tokens (expires_at);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE refresh_tokens; DROP TABLE refresh_families; DROP TABLE users")
    platform_tables.drop()
