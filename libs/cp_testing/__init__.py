"""Pytest support shared by every test suite: real embedded servers as session fixtures."""
