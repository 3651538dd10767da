"""Developer tools run from the Makefile: protobuf code generation and buf (lint, breaking)."""
