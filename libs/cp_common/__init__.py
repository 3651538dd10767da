"""Shared runtime for every CryptoPredict service.

Settings, logging, metrics, tracing, the FastAPI app factory, gRPC helpers, Kafka
(outbox, idempotent consumers, DLQ), PostgreSQL (pool, migrations), Redis helpers and
JWT verification. Services import from here instead of re-implementing any of it.
"""
