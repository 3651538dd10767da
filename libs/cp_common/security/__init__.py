"""Access-token verification (JWT against the auth service's JWKS) and role checks."""

from cp_common.security.jwt_verifier import JwtVerifier
from cp_common.security.principal import Principal, Role
from cp_common.security.roles import current_principal, require_roles

__all__ = ["JwtVerifier", "Principal", "Role", "current_principal", "require_roles"]
