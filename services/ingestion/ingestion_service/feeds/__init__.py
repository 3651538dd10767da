"""Market-data feeds: where candles, snapshots and assets come from (one per ``INGESTION_SOURCE``)."""
