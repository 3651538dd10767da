"""The whole fleet the chaos and fuzz tests of this package share (fixture in ``conftest.py``).

The whole ``deploy/services.yaml`` catalog under supervisord, ports shifted, in a temporary state
dir, so a new service joins the suite by its catalog entry. The secrets the tests use are kept
in ``ChaosFleet.secrets`` for the log scan that closes the package (``test_gateway_fuzz.py``).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cp_fleet.catalog import Catalog, ServiceEntry, load_catalog
from cp_fleet.fleet import Fleet
from cp_fleet.layout import DEFAULT_CATALOG
from cp_testing.fleets import FleetHandle, clean_environ, free_port_offset

from .delivery import Delivery

CATALOG = load_catalog(DEFAULT_CATALOG)
#: Seconds from the fault to every affected service being ready again, by service or server.
RECOVERY_SECONDS: dict[str, float] = {}
#: Events published around each fault (:mod:`.delivery`), by service or server.
DELIVERY: dict[str, Delivery] = {}
#: Start-up allowance per service in the test fleet (the catalog's own may be shorter).
START_TIMEOUT_S = 240


@dataclass
class ChaosFleet(FleetHandle):
    secrets: list[str] = field(default_factory=list)

    def readiness_url(self, service: ServiceEntry) -> str:
        return f"http://127.0.0.1:{service.http_port}{service.readiness_path}"

    def pid(self, name: str) -> int | None:
        return next(s.pid for s in self.fleet.status() if s.name == name)

    def admin_password(self) -> str:
        password = (self.state_dir / "auth-bootstrap-admin-password").read_text().strip()
        self.secrets.append(password)
        return password


@contextmanager
def running_fleet() -> Iterator[ChaosFleet]:
    """Start the shifted whole-catalog fleet; stop it and remove its state dir afterwards."""
    data = CATALOG.model_dump(mode="json")
    for service in data["services"]:
        # eight services starting at once on a busy 2-core machine: a layer service's imports
        # alone can take over a minute of wall time there
        service["ready_timeout_s"] = max(service.get("ready_timeout_s") or 0, START_TIMEOUT_S)
        # the automatic broker-loss step (on by default, see docs/runtime.md) is what this suite tests
        service.setdefault("env", {})["OUTBOX_BROKER_WATCH"] = "true"
    base = Catalog.model_validate(data)
    # below the ephemeral port range (32768+), which a busy machine's connections fill
    offset = free_port_offset(base, start=1700, stop=13000, step=227)
    state_dir = Path(tempfile.mkdtemp(prefix="cp-chaos-fleet-")).resolve()
    state_dir.chmod(0o755)
    fleet = Fleet(base.shifted(offset), state_dir, environ=clean_environ())
    try:
        started = time.monotonic()
        fleet.up(log=lambda line: None)
        print(f"\nchaos fleet ({len(CATALOG.services)} services) up in {time.monotonic() - started:.1f}s")
        yield ChaosFleet(fleet)
        print(fault_table())
    finally:
        fleet.down()
        shutil.rmtree(state_dir, ignore_errors=True)


def fault_table() -> str:
    """One line per fault: recovery seconds and the events published around it, lost, duplicated."""
    lines = ["fault          recovery_s  events  pairs  lost  duplicated"]
    for name in [*RECOVERY_SECONDS, *(n for n in DELIVERY if n not in RECOVERY_SECONDS)]:
        seconds = f"{RECOVERY_SECONDS[name]:.1f}" if name in RECOVERY_SECONDS else "-"
        d = DELIVERY.get(name)
        counts = (
            f"{d.events:6d}  {d.pairs:5d}  {d.lost:4d}  {d.duplicated:10d}"
            if d
            else "     -      -     -           -"
        )
        lines.append(f"{name:<14} {seconds:>10}  {counts}")
    return "\n".join(lines)


def envelope_problem(content_type: str, text: str) -> str | None:
    """Why an answer (its content type and body) is not the standard JSON envelope, or None."""
    if "html" in content_type:
        return "an HTML page"
    try:
        body = json.loads(text)
    except ValueError:
        return f"not JSON: {text[:80]!r}"
    if not isinstance(body, dict) or not isinstance(body.get("success"), bool) or "timestamp" not in body:
        return f"not the envelope: {str(body)[:80]}"
    if body["success"] is False and not {"error", "error_code"} <= body.keys():
        return f"error without error/error_code: {str(body)[:80]}"
    return None
