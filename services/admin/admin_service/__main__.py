"""``python -m admin_service [serve|migrate]``."""

from admin_service.app import SPEC
from admin_service.settings import AdminSettings
from cp_common.service import main

raise SystemExit(main(SPEC, AdminSettings))
