"""``python -m layer4_timing_service [serve|migrate]``."""

from cp_common.service import main
from layer4_timing_service.app import SPEC
from layer4_timing_service.settings import TimingSettings

raise SystemExit(main(SPEC, TimingSettings))
