"""The factory's OpenAPI: error responses in the envelope schema, statuses by what an operation
takes, security left out for routes that are public under the app's settings."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from cp_common.http import create_app, ok
from cp_common.http.openapi import error_responses, public_scheme
from cp_common.http.params import PRINTABLE_PATTERN, text_query
from cp_common.security import current_principal
from cp_common.settings import ServiceSettings

ENVELOPE_REF = {"$ref": "#/components/schemas/ErrorEnvelope"}
_reader_scheme = public_scheme(
    HTTPBearer(auto_error=False, scheme_name="TestReader"), lambda settings: settings.is_local
)


async def _reader(credentials: HTTPAuthorizationCredentials | None = Depends(_reader_scheme)) -> None:
    return None


class Thing(BaseModel):
    name: str


def _document(environment: str = "local") -> dict[str, Any]:
    router = APIRouter()

    @router.get("/plain")
    async def plain() -> Any:
        return ok({})

    @router.get("/things/{thing_id}", responses=error_responses(409))
    async def one(
        thing_id: Annotated[int, Path(ge=1)],
        q: Annotated[str | None, text_query(max_length=20, description="filter")] = None,
        limit: Annotated[int, Query(ge=1, le=50)] = 10,
    ) -> Any:
        return ok({})

    @router.post("/things")
    async def create(thing: Thing, _: Any = Depends(current_principal)) -> Any:
        return ok({})

    @router.get("/reads")
    async def reads(_: None = Depends(_reader)) -> Any:
        return ok({})

    settings = ServiceSettings(
        service_name="test-openapi", environment=environment, jwks_url="http://127.0.0.1:9/jwks"
    )
    return create_app(settings, title="t", routers=[router]).openapi()


def _statuses(document: dict[str, Any], path: str, method: str = "get") -> set[str]:
    return set(document["paths"][path][method]["responses"])


def test_every_error_response_is_the_envelope() -> None:
    document = _document()
    schemas = document["components"]["schemas"]
    assert {"ErrorEnvelope", "ErrorDetail"} <= set(schemas)
    assert not {"HTTPValidationError", "ValidationError"} & set(schemas)
    assert set(schemas["ErrorEnvelope"]["required"]) == {"error", "error_code"}
    for item in document["paths"].values():
        for operation in item.values():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    assert response["content"] == {"application/json": {"schema": ENVELOPE_REF}}, status


def test_statuses_follow_what_an_operation_takes() -> None:
    document = _document()
    assert _statuses(document, "/plain") == {"200", "500", "503"}
    assert _statuses(document, "/things/{thing_id}") == {"200", "404", "409", "422", "500", "503"}
    assert _statuses(document, "/things", "post") == {"200", "400", "401", "403", "413", "422", "500", "503"}
    assert document["paths"]["/things"]["post"]["security"] == [{"HTTPBearer": []}]


def test_parameter_limits_are_in_the_document() -> None:
    parameters = {
        p["name"]: p["schema"] for p in _document()["paths"]["/things/{thing_id}"]["get"]["parameters"]
    }
    assert parameters["thing_id"]["minimum"] == 1
    assert parameters["limit"]["minimum"] == 1 and parameters["limit"]["maximum"] == 50
    text = parameters["q"]["anyOf"][0]
    assert text["maxLength"] == 20 and text["pattern"] == PRINTABLE_PATTERN


def test_a_public_scheme_declares_no_token_only_where_the_settings_make_it_public() -> None:
    local = _document("local")
    assert "security" not in local["paths"]["/reads"]["get"]
    assert _statuses(local, "/reads") == {"200", "500", "503"}
    assert "TestReader" not in local["components"]["securitySchemes"]
    production = _document("production")
    assert production["paths"]["/reads"]["get"]["security"] == [{"TestReader": []}]
    assert {"401", "403"} <= _statuses(production, "/reads")
