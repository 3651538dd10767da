"""Pytest plugin (loaded via ``-p cp_testing.fixtures``): session-scoped real servers."""
