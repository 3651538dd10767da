"""The layer's local read model of the daily market.

* :mod:`~cp_layer_kit.market.store`: the tables (``market_assets``, ``market_candles_1d``,
  ``market_snapshots_1d``) in the layer's schema, and a NOTIFY on every change;
* :mod:`~cp_layer_kit.market.bootstrap`: fills them over ingestion's gRPC ``MarketDataService``
  at start-up and every ``LAYER_MARKET_RESYNC_S`` (new assets, a missed event);
* :mod:`~cp_layer_kit.market.events`: keeps them current from ``market.candles.v1`` (daily
  candles) and ``market.snapshots.v1`` (one consumer group per layer service: one replica
  writes each event, every replica hears the NOTIFY);
* :mod:`~cp_layer_kit.market.view`: in each replica, the model inputs of every day
  (``cp_models.datasets.build_datasets``), recomputed once per change in a thread, so a call
  only slices the rows of its day.
"""
