"""REST routes: watchlists and suggestions under ``/api/v1/layer3``, admin reads under
``/api/v1/admin``, and the admin dashboard."""
