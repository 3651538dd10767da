"""``python -m auth_service [serve|migrate]``."""

from auth_service.app import SPEC
from auth_service.settings import AuthSettings
from cp_common.service import main

raise SystemExit(main(SPEC, AuthSettings))
