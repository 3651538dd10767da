"""The ingestion schema: bulk candle writes (COPY + upsert) and the read queries."""
