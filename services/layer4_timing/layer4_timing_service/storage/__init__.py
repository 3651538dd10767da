"""The service's tables in the ``layer4_timing`` schema, one module per table family."""
