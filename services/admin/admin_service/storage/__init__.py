"""SQL of the ``admin`` schema, one module per table group; functions take a connection or pool."""
