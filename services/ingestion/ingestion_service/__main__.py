"""``python -m ingestion_service [serve|migrate|backfill|status]``."""

import sys

from cp_common.service import main
from ingestion_service.app import SPEC
from ingestion_service.cli import COMMANDS
from ingestion_service.cli import main as cli_main
from ingestion_service.settings import IngestionSettings

if len(sys.argv) > 1 and sys.argv[1] in COMMANDS:
    raise SystemExit(cli_main(sys.argv[1:]))
raise SystemExit(main(SPEC, IngestionSettings))
