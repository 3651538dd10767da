"""REST routes of the auth service (public under ``/api/v1/auth``, the JWKS, fleet health)."""
