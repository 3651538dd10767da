"""FastAPI dependencies: the service's components and the verified caller."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from cp_common.security import Principal, current_principal
from notification_service.components import COMPONENTS_KEY, NotificationComponents


def components(connection: HTTPConnection) -> NotificationComponents:
    """The components, for HTTP requests and WebSockets alike."""
    found: NotificationComponents = connection.app.state.runtime.extras[COMPONENTS_KEY]
    return found


def _components(request: Request) -> NotificationComponents:
    return components(request)


ComponentsDep = Annotated[NotificationComponents, Depends(_components)]
CallerDep = Annotated[Principal, Depends(current_principal)]
