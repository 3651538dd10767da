"""Auth rules without I/O frameworks: passwords, emails, keys, tokens, throttling, models."""
