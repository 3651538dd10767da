"""REST routes under ``/api/v1/market``."""
