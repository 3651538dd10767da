"""``python -m cpctl``."""

from cpctl.main import run

run()
