"""Catalog validation: the real deploy catalog loads, and mistakes are named precisely."""

from __future__ import annotations

from pathlib import Path

import pytest

from cp_fleet.catalog import Catalog, CatalogError, load_catalog
from cp_fleet.layout import DEFAULT_CATALOG


def _service(name: str, port: int, **extra: object) -> dict:
    return {"name": name, "command": f"python -m {name}_service", "http_port": port, **extra}


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "services.yaml"
    path.write_text(text)
    return path


def test_deploy_catalog_loads_with_the_fixed_ports() -> None:
    catalog = load_catalog(DEFAULT_CATALOG)
    assert catalog.gateway.port == 8080
    assert catalog.gateway.rate_limits.api.rate == "100r/s" and catalog.gateway.rate_limits.api.burst == 20
    assert catalog.gateway.rate_limits.websocket.rate == "10r/s"
    assert catalog.gateway.rate_limits.websocket.burst == 5
    ports = {catalog.infrastructure.port_of(name) for name in ("postgres", "redis", "kafka")}
    assert len(ports | {8080}) == 4


def test_command_string_is_split_and_ordering_follows_depends_on() -> None:
    catalog = Catalog.model_validate(
        {
            "services": [
                _service("orchestrator", 8107, depends_on=["layer1", "kafka"]),
                _service("layer1", 8103, depends_on=["postgres"]),
                _service("auth", 8101),
            ]
        }
    )
    assert catalog.service("orchestrator").command == ["python", "-m", "orchestrator_service"]
    waves = [[s.name for s in wave] for wave in catalog.start_order()]
    assert waves == [["layer1", "auth"], ["orchestrator"]]
    assert catalog.service("layer1").env_prefix == "LAYER1"


@pytest.mark.parametrize(
    ("services", "message"),
    [
        ([_service("a", 8101), _service("a", 8102)], "duplicate service names: a"),
        ([_service("a", 8101, depends_on=["ghost"])], "depends on unknown ghost"),
        (
            [_service("a", 8101, depends_on=["b"]), _service("b", 8102, depends_on=["a"])],
            "cycle: a -> b -> a",
        ),
        ([_service("a", 8080)], "port 8080 used by gateway and a.http_port"),
        ([_service("a", 8101, grpc_port=15432)], "port 15432 used by postgres and a.grpc_port"),
        ([_service("redis", 8101)], "reserved"),
        (
            [
                _service("a", 8101, public_prefixes=["/api/v1/x/"]),
                _service("b", 8102, public_prefixes=["/api/v1/x/"]),
            ],
            "route /api/v1/x/ claimed by a and b",
        ),
        ([_service("Bad_Name", 8101)], "services[0].name"),
        ([_service("a", 70000)], "services[0].http_port"),
        ([_service("a", 8101, public_prefixes=["api/v1/a"])], "services[0].public_prefixes[0]"),
        ([_service("a", 8101, env={"lower": "x"})], "services[0].env.lower"),
        ([_service("a", 8101, command=[])], "services[0].command"),
    ],
)
def test_mistakes_are_named(tmp_path: Path, services: list[dict], message: str) -> None:
    import yaml

    path = _write(tmp_path, yaml.safe_dump({"services": services}))
    with pytest.raises(CatalogError) as error:
        load_catalog(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)


def test_unknown_keys_are_rejected(tmp_path: Path) -> None:
    path = _write(tmp_path, "gateway:\n  prot: 8080\n")
    with pytest.raises(CatalogError, match=r"gateway\.prot: Extra inputs are not permitted"):
        load_catalog(path)


def test_not_yaml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="not valid YAML"):
        load_catalog(_write(tmp_path, "services: [\n"))
    with pytest.raises(CatalogError, match="cannot read catalog"):
        load_catalog(tmp_path / "missing.yaml")
    with pytest.raises(CatalogError, match="top level must be a mapping"):
        load_catalog(_write(tmp_path, "- a\n"))


def test_shifted_moves_every_port() -> None:
    catalog = Catalog.model_validate({"services": [_service("a", 8101, grpc_port=9101)]})
    moved = catalog.shifted(1000)
    assert moved.gateway.port == 9080
    assert moved.infrastructure.postgres.port == catalog.infrastructure.postgres.port + 1000
    assert (moved.services[0].http_port, moved.services[0].grpc_port) == (9101, 10101)
    with pytest.raises(CatalogError, match="port offset 60000"):
        catalog.shifted(60000)
