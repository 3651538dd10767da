"""``python -m layer3_asset_service [serve|migrate]``."""

from cp_common.service import main
from layer3_asset_service.app import SPEC
from layer3_asset_service.settings import Layer3Settings

raise SystemExit(main(SPEC, Layer3Settings))
