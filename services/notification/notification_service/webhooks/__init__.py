"""Signed webhook deliveries: signing, the address policy (no SSRF) and the delivery worker."""
