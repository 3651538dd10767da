"""Local fleet tooling: embedded infrastructure servers, the service catalog and the supervisord runner.

- :mod:`cp_fleet.embedded` starts real PostgreSQL, Redis, a Kafka-protocol broker and Nginx.
- :mod:`cp_fleet.catalog` loads ``deploy/services.yaml``.
- :mod:`cp_fleet.supervisor_config` / :mod:`cp_fleet.nginx_config` render configuration from it.
- :mod:`cp_fleet.fleet` and :mod:`cp_fleet.cli` (``python -m cp_fleet``) run the whole fleet.
"""
