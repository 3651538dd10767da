"""``python -m cp_fleet``: run the local fleet (``up``, ``down``, ``status``, ``logs``, ...).

Options may also come from the environment: ``CP_STATE_DIR`` (state directory, default
``<repo>/.state``), ``CP_PORT_OFFSET`` (added to every port in the catalog, to run a second fleet
beside a developer's) and ``CP_CATALOG`` (default ``deploy/services.yaml``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from cp_fleet.catalog import CatalogError, load_catalog
from cp_fleet.embedded import default_state_dir
from cp_fleet.fleet import Fleet, FleetError
from cp_fleet.layout import DEFAULT_CATALOG
from cp_fleet.processes import tail


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cp_fleet", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="state directory (env CP_STATE_DIR; default <repo>/.state)",
    )
    parser.add_argument(
        "--port-offset",
        type=int,
        default=None,
        help="added to every catalog port (env CP_PORT_OFFSET; default 0)",
    )
    parser.add_argument(
        "--catalog",
        type=Path,
        default=None,
        help="service catalog (env CP_CATALOG; default deploy/services.yaml)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("up", help="start infrastructure, services and gateway; wait until ready")
    commands.add_parser("down", help="stop everything and check that no process is left")
    commands.add_parser("status", help="state, pid, port and readiness of each program")
    logs = commands.add_parser("logs", help="show the log of one program (or the tail of all)")
    logs.add_argument("name", nargs="?")
    logs.add_argument("-n", "--lines", type=int, default=40)
    logs.add_argument("-f", "--follow", action="store_true", help="keep printing new lines")
    for verb in ("start", "stop", "restart"):
        one = commands.add_parser(verb, help=f"{verb} one program by name (start waits until ready)")
        one.add_argument("name")
    render = commands.add_parser("render", help="write supervisord.conf and the gateway's nginx.conf")
    render.add_argument("--check", action="store_true", help="also validate nginx.conf with nginx -t")
    return parser


def make_fleet(args: argparse.Namespace) -> Fleet:
    catalog_path = args.catalog or Path(os.environ.get("CP_CATALOG", DEFAULT_CATALOG))
    state_dir = args.state_dir or default_state_dir()
    offset = args.port_offset
    if offset is None:
        raw = os.environ.get("CP_PORT_OFFSET", "0")
        try:
            offset = int(raw)
        except ValueError:
            raise FleetError(f"CP_PORT_OFFSET must be an integer, got {raw!r}") from None
    catalog = load_catalog(catalog_path).shifted(offset)
    return Fleet(catalog, state_dir)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        fleet = make_fleet(args)
        return COMMANDS[args.command](fleet, args)
    except (FleetError, CatalogError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def cmd_up(fleet: Fleet, args: argparse.Namespace) -> int:
    started = time.monotonic()
    print(f"starting the fleet (state in {fleet.layout.state_dir})")
    try:
        fleet.up()
    except FleetError:
        print("the fleet is partly up; inspect with `status`/`logs`, stop it with `down`", file=sys.stderr)
        raise
    print(f"\nready in {time.monotonic() - started:.1f}s\n")
    print(f"  gateway      {fleet.gateway_url}   (health: {fleet.gateway_url}/health)")
    for service in fleet.catalog.services:
        grpc = f", gRPC 127.0.0.1:{service.grpc_port}" if service.grpc_port else ""
        print(f"  {service.name:<12} http://127.0.0.1:{service.http_port}{grpc}")
    for variable, value in fleet.infra_env().items():
        print(f"  {variable}={value}")
    print(f"\n  logs: {fleet.layout.logs_dir}/<name>.log   stop: python -m cp_fleet down")
    return 0


def cmd_down(fleet: Fleet, args: argparse.Namespace) -> int:
    killed = fleet.down()
    for line in killed:
        print(f"warning: killed straggler {line}", file=sys.stderr)
    print("fleet stopped; no process left")
    return 0


def cmd_status(fleet: Fleet, args: argparse.Namespace) -> int:
    rows = fleet.status()
    print(f"{'NAME':<16} {'KIND':<15} {'STATE':<12} {'PID':>7} {'PORT':>6}  READY")
    for row in rows:
        ready = {True: "yes", False: f"no: {row.detail}", None: "-"}[row.ready]
        pid, port = row.pid or "-", row.port or "-"
        print(f"{row.name:<16} {row.kind:<15} {row.state:<12} {pid:>7} {port:>6}  {ready}")
    return 0 if all(row.ready for row in rows) else 3


def cmd_logs(fleet: Fleet, args: argparse.Namespace) -> int:
    if args.name is None:
        for name in [*fleet.programs, "supervisord"]:
            print(f"==> {fleet.layout.log_path(name)} <==\n{tail(fleet.layout.log_path(name), args.lines)}\n")
        return 0
    if args.name not in fleet.programs and args.name not in ("supervisord", "gateway-access"):
        raise FleetError(f"no program {args.name!r}; known: {', '.join(fleet.programs)}")
    path = fleet.layout.log_path(args.name)
    text = tail(path, args.lines)
    if text:
        print(text)
    if args.follow:
        follow(path)
    return 0


def follow(path: Path) -> None:
    position = path.stat().st_size if path.exists() else 0
    while True:
        if path.exists():
            size = path.stat().st_size
            if size < position:  # rotated
                position = 0
            if size > position:
                with path.open("rb") as handle:
                    handle.seek(position)
                    sys.stdout.write(handle.read().decode("utf-8", errors="replace"))
                    sys.stdout.flush()
                    position = handle.tell()
        time.sleep(0.5)


def cmd_start(fleet: Fleet, args: argparse.Namespace) -> int:
    fleet.start(args.name)
    return 0


def cmd_stop(fleet: Fleet, args: argparse.Namespace) -> int:
    fleet.stop(args.name)
    print(f"{args.name} stopped")
    return 0


def cmd_restart(fleet: Fleet, args: argparse.Namespace) -> int:
    fleet.restart(args.name)
    return 0


def cmd_render(fleet: Fleet, args: argparse.Namespace) -> int:
    paths = fleet.render()
    if args.check:
        fleet.prepare()  # creates the gateway's directories and runs nginx -t
        print("nginx -t: configuration is valid")
    for path in paths:
        print(path)
    return 0


COMMANDS = {
    "up": cmd_up,
    "down": cmd_down,
    "status": cmd_status,
    "logs": cmd_logs,
    "start": cmd_start,
    "stop": cmd_stop,
    "restart": cmd_restart,
    "render": cmd_render,
}
