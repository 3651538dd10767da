"""skaffold.yaml: v4 schema, every catalog service built (git-commit tags) and deployed."""

from __future__ import annotations

from typing import Any

import yaml

from cp_fleet.catalog import load_catalog
from cp_tools import chart as chart_tool

from .rendering import CHART_DIR, REPO_ROOT


def _documents() -> list[dict[str, Any]]:
    return list(yaml.safe_load_all((REPO_ROOT / "skaffold.yaml").read_text()))


def test_every_catalog_service_is_built_deployed_and_a_module() -> None:
    catalog = load_catalog(chart_tool.CATALOG_PATH)
    main, *modules = _documents()
    assert main["apiVersion"].startswith("skaffold/v4")
    images = {a["image"] for a in main["build"]["artifacts"]}
    release = main["manifests"]["helm"]["releases"][0]
    module_names = {m["metadata"]["name"] for m in modules}
    for service in catalog.services:
        image = f"cryptopredict-{service.name}"
        assert image in images, service.name
        assert f"services.{service.name}.image.tag" in release["setValueTemplates"], service.name
        assert service.name in module_names, service.name
    assert main["build"]["tagPolicy"] == {"gitCommit": {"variant": "AbbrevCommitSha"}}


def test_profiles_point_at_values_files_that_exist() -> None:
    main = _documents()[0]
    assert {p["name"] for p in main["profiles"]} == {"dev", "prod", "minimal"}
    for profile in main["profiles"]:
        for patch in profile["patches"]:
            for path in patch["value"]:
                assert (REPO_ROOT / path).is_file(), path
    assert (CHART_DIR / "values-dev.yaml").is_file()


def test_set_value_templates_name_keys_the_chart_accepts() -> None:
    main = _documents()[0]
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    for key in main["manifests"]["helm"]["releases"][0]["setValueTemplates"]:
        head, name, *_ = key.split(".")
        assert head in ("services", "training")
        if head == "services":
            assert name in values["catalogServices"], key
