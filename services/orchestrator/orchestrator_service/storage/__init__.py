"""PostgreSQL storage of the orchestrator: runs, each layer's latest result, schedule claims."""
