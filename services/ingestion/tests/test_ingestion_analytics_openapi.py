"""OpenAPI of the computed market routes: their limits and error responses."""

from __future__ import annotations

from typing import Any

from ingestion_service.app import create_app
from ingestion_service.settings import IngestionSettings


def _document() -> dict[str, Any]:
    settings = IngestionSettings(
        environment="test", ingestion_public_reads=True, jwks_url="http://127.0.0.1:9/jwks"
    )
    return create_app(settings).openapi()


def _limits(schema: dict[str, Any]) -> tuple[Any, Any, Any]:
    return schema.get("minimum"), schema.get("maximum"), schema.get("default")


def test_limits_and_errors_are_documented() -> None:
    paths = _document()["paths"]
    indicators = paths["/api/v1/market/indicators/{symbol}"]["get"]
    params = {p["name"]: p["schema"] for p in indicators["parameters"]}
    assert _limits(params["period"]) == (5, 200, 14)
    assert {"200", "404", "422", "500", "503"} == set(indicators["responses"])
    movers = paths["/api/v1/market/movers"]["get"]
    assert _limits(movers["parameters"][0]["schema"]) == (5, 100, 10)
    quotes = paths["/api/v1/market/quotes"]["post"]
    assert {"200", "400", "413", "422", "429", "500", "503"} == set(quotes["responses"])


def test_the_quotes_body_states_its_bounds() -> None:
    document = _document()
    body = document["components"]["schemas"]["QuotesIn"]["properties"]["symbols"]
    assert (body["minItems"], body["maxItems"]) == (1, 100)
    assert body["items"]["pattern"] == "^[A-Za-z0-9]{1,20}$"
