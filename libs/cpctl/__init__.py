"""``cpctl``: the terminal way to the CryptoPredict public API (through the gateway only)."""
