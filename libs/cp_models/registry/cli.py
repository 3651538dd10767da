"""``python -m cp_models.registry``: train and register the four layers' models, list, promote.

    train  [--data DIR] [--activate auto|always|never]   train all layers, store, promote
    ensure [--data DIR]                                  train only if a layer has no active model
    list   [--name NAME]                                 every version with status and metrics
    activate NAME VERSION                                explicit promotion
    deactivate NAME                                      take a layer's model out of service

The database is ``DATABASE_URL``, or the local fleet's embedded PostgreSQL (started for the
duration of the command when ``make up`` is not running).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import psycopg

from cp_common.db.pool import close_pool, create_pool
from cp_common.logging import configure_logging
from cp_models.registry.layers import BY_NAME, LAYER_MODELS, LayerModel
from cp_models.registry.store import ModelRegistry, ensure_registry_schema


@contextlib.contextmanager
def database_url() -> Iterator[str]:
    import os

    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    from cp_fleet.catalog import load_catalog
    from cp_fleet.embedded import EmbeddedInfra, default_state_dir
    from cp_fleet.layout import DEFAULT_CATALOG

    catalog = load_catalog(DEFAULT_CATALOG)
    port = catalog.infrastructure.postgres.port
    fleet_url = f"postgresql://postgres@127.0.0.1:{port}/cryptopredict"
    try:
        psycopg.connect(fleet_url, connect_timeout=2).close()
        yield fleet_url  # `make up` is running
        return
    except psycopg.OperationalError:
        pass
    with EmbeddedInfra(default_state_dir(), ports={"postgres": port}) as infra:
        yield infra.database_url()


def _window(metadata: dict[str, Any]) -> tuple[date | None, date | None]:
    window = metadata.get("data_window") or {}
    start, end = window.get("start"), window.get("end")
    return (date.fromisoformat(start) if start else None, date.fromisoformat(end) if end else None)


async def _registries(url: str) -> dict[str, tuple[ModelRegistry, Any]]:
    out = {}
    for model in LAYER_MODELS:
        await asyncio.to_thread(ensure_registry_schema, url, model.schema)
        pool = await create_pool(url, model.schema, register_metrics=False)
        out[model.name] = (ModelRegistry(pool, model.schema), pool)
    return out


async def _close(registries: dict[str, tuple[ModelRegistry, Any]]) -> None:
    for _, pool in registries.values():
        await close_pool(pool)


async def _missing_active(url: str) -> list[str]:
    registries = await _registries(url)
    try:
        return [name for name, (reg, _) in registries.items() if await reg.active(name) is None]
    finally:
        await _close(registries)


async def train(url: str, data_dir: Path | None, activate: str) -> list[dict[str, Any]]:
    from cp_models.training import train_all

    registries = await _registries(url)
    summary: list[dict[str, Any]] = []
    try:
        versions = {}
        for model in LAYER_MODELS:
            reg, _ = registries[model.name]
            versions[model.name] = await reg.start_training(model.name)
        try:
            artifacts = await asyncio.to_thread(train_all, data_dir)
        except Exception as exc:
            for model in LAYER_MODELS:
                await registries[model.name][0].fail_training(model.name, versions[model.name], repr(exc))
            raise
        meta = artifacts.metadata
        for model in LAYER_MODELS:
            reg, _ = registries[model.name]
            layer_meta = meta.get("layers", {}).get(model.name, {})
            metrics = layer_meta.get("holdout_metrics") or layer_meta.get("metrics") or {}
            await reg.finish_training(
                model.name,
                versions[model.name],
                artifacts.blobs[model.name],
                training_window=_window(meta),
                features=layer_meta.get("features") or layer_meta.get("channels") or [],
                hyper_parameters=meta.get("hyper_parameters", {}),
                metrics=metrics,
                metadata={k: v for k, v in meta.items() if k != "layers"} | {"layer": layer_meta},
            )
            activated = await _promote(reg, model, versions[model.name], activate)
            summary.append(
                {
                    "model": model.name,
                    "schema": model.schema,
                    "version": versions[model.name],
                    "activated": activated,
                    "metrics": metrics,
                }
            )
    finally:
        await _close(registries)
    return summary


async def _promote(reg: ModelRegistry, model: LayerModel, version: int, policy: str) -> bool:
    if policy == "always":
        await reg.activate(model.name, version)
        return True
    if policy == "never":
        return False
    return await reg.promote_if_not_worse(
        model.name, version, model.primary_metric, higher_is_better=model.higher_is_better
    )


async def list_versions(url: str, name: str | None) -> list[dict[str, Any]]:
    registries = await _registries(url)
    try:
        rows = []
        for model_name, (reg, _) in registries.items():
            if name and name != model_name:
                continue
            for v in await reg.list(model_name):
                rows.append(
                    {
                        "model": v.name,
                        "version": v.version,
                        "status": v.status,
                        "trained_on": [str(v.training_window_start), str(v.training_window_end)],
                        "metrics": v.metrics,
                        "created_at": v.created_at.isoformat(),
                    }
                )
        return rows
    finally:
        await _close(registries)


async def activate_version(url: str, name: str, version: int | None) -> None:
    """Activate ``version`` of ``name``, or deactivate ``name`` when ``version`` is None."""
    model = BY_NAME.get(name)
    if model is None:
        raise SystemExit(f"unknown model {name!r}; known: {', '.join(BY_NAME)}")
    await asyncio.to_thread(ensure_registry_schema, url, model.schema)
    pool = await create_pool(url, model.schema, register_metrics=False)
    try:
        registry = ModelRegistry(pool, model.schema)
        if version is None:
            await registry.deactivate(name)
        else:
            await registry.activate(name, version)
    finally:
        await close_pool(pool)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m cp_models.registry",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("train", "ensure"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--data", type=Path, default=None, help="a data directory (else: the simulator)")
    sub.choices["train"].add_argument("--activate", choices=["auto", "always", "never"], default="auto")
    listing = sub.add_parser("list")
    listing.add_argument("--name")
    act = sub.add_parser("activate")
    act.add_argument("name")
    act.add_argument("version", type=int)
    sub.add_parser("deactivate").add_argument("name")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging("model-registry", "WARNING")
    with database_url() as url:
        if args.command == "train":
            print(json.dumps(asyncio.run(train(url, args.data, args.activate)), indent=2, default=str))
        elif args.command == "ensure":
            missing = asyncio.run(_missing_active(url))
            if missing:
                print(f"no active model for {', '.join(missing)}: training", file=sys.stderr)
                print(json.dumps(asyncio.run(train(url, args.data, "auto")), indent=2, default=str))
            else:
                print("every layer has an active model", file=sys.stderr)
        elif args.command == "list":
            print(json.dumps(asyncio.run(list_versions(url, args.name)), indent=2, default=str))
        elif args.command == "deactivate":
            asyncio.run(activate_version(url, args.name, None))
            print(f"{args.name} has no active version", file=sys.stderr)
        else:
            asyncio.run(activate_version(url, args.name, args.version))
            print(f"{args.name} v{args.version} is active", file=sys.stderr)
    return 0
