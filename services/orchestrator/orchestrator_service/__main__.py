"""``python -m orchestrator_service [serve|migrate]``."""

from cp_common.service import main
from orchestrator_service.app import SPEC
from orchestrator_service.settings import OrchestratorSettings

raise SystemExit(main(SPEC, OrchestratorSettings))
