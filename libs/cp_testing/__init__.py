"""Pytest support shared by every test suite.

- :mod:`cp_testing.fixtures`: real embedded servers as session fixtures (loaded as a plugin).
- :mod:`cp_testing.apps`: ``running_app(spec, settings)``, a service's app run in-process.
- :mod:`cp_testing.waiting`: ``eventually(condition)``, waiting for a background effect.
- :mod:`cp_testing.fleets`: ``free_port_offset(catalog)`` and friends for port-shifted fleets.

Nothing is imported here, so loading the plugin early does not import the code under test
before coverage starts.
"""
