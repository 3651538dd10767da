from cp_common.db.migrations import run_env

run_env()
