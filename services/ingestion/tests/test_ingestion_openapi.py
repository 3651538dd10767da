"""Ingestion's OpenAPI describes what it answers: parameter limits, error envelopes, and a token
only where reads are not public."""

from __future__ import annotations

from typing import Any

from ingestion_service.app import create_app
from ingestion_service.settings import IngestionSettings

CANDLES = "/api/v1/market/candles/{symbol}"


def _document(public: bool) -> dict[str, Any]:
    settings = IngestionSettings(
        environment="test", ingestion_public_reads=public, jwks_url="http://127.0.0.1:9/jwks"
    )
    return create_app(settings).openapi()


def _parameters(document: dict[str, Any], path: str) -> dict[str, Any]:
    return {p["name"]: p["schema"] for p in document["paths"][path]["get"]["parameters"]}


def test_parameter_limits_and_choices_are_documented() -> None:
    document = _document(public=True)
    candles = _parameters(document, CANDLES)
    assert candles["symbol"]["pattern"] == "^[A-Za-z0-9]{1,20}$"
    assert candles["interval"]["enum"] == ["1h", "4h", "1d"] and candles["interval"]["default"] == "1d"
    assert (candles["limit"]["minimum"], candles["limit"]["maximum"], candles["limit"]["default"]) == (
        1,
        1000,
        500,
    )
    assert "2100-01-01" in candles["start"]["description"]
    assets = _parameters(document, "/api/v1/market/assets")
    assert assets["limit"]["maximum"] == 500
    assert "defi" in assets["sector"]["enum"]
    responses = document["paths"][CANDLES]["get"]["responses"]
    assert {"200", "404", "422", "500", "503"} == set(responses)


def test_public_reads_declare_no_token_and_private_reads_do() -> None:
    public, private = _document(public=True), _document(public=False)
    for path, item in public["paths"].items():
        for operation in item.values():
            assert "security" not in operation, path
            assert not {"401", "403"} & set(operation["responses"]), path
    for path, item in private["paths"].items():
        if path == "/api/v1/health":  # the fleet's health, which every service answers: public
            assert "security" not in item["get"]
            continue
        for operation in item.values():
            assert operation["security"] == [{"MarketReader": []}], path
            assert {"401", "403"} <= set(operation["responses"]), path
