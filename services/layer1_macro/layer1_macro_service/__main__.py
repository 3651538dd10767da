"""``python -m layer1_macro_service [serve|migrate]``."""

from cp_common.service import main
from layer1_macro_service.app import SPEC
from layer1_macro_service.settings import Layer1Settings

raise SystemExit(main(SPEC, Layer1Settings))
