"""FastAPI dependencies: the components and the dashboards' roles."""

from __future__ import annotations

from fastapi import Request

from cp_common.security import Role, require_roles
from orchestrator_service.components import Components

COMPONENTS_KEY = "orchestrator"

professional_or_admin = require_roles(Role.PROFESSIONAL, Role.ADMIN)
any_role = require_roles(Role.CASUAL, Role.PROFESSIONAL, Role.ADMIN)


def components(request: Request) -> Components:
    return request.app.state.runtime.extras[COMPONENTS_KEY]
