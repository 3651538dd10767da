"""REST API of the orchestrator: analysis runs and the role dashboards."""
