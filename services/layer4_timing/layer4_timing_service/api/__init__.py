"""Public REST API under ``/api/v1/layer4`` (seeds section 1.5): signals, paper trading, the
live record."""
