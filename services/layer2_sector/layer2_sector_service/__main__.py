"""``python -m layer2_sector_service [serve|migrate]``."""

from cp_common.service import main
from layer2_sector_service.app import SPEC
from layer2_sector_service.settings import Layer2Settings

raise SystemExit(main(SPEC, Layer2Settings))
