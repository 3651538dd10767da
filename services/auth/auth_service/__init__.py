"""The auth service: accounts, passwords, access and refresh tokens, JWKS, admin user management."""

#: The PostgreSQL schema the service owns.
SCHEMA = "auth"
