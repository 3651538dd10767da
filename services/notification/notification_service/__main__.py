"""``python -m notification_service [serve|migrate]``."""

from cp_common.service import main
from notification_service.app import SPEC
from notification_service.settings import NotificationSettings

raise SystemExit(main(SPEC, NotificationSettings))
