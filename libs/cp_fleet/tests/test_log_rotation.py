"""The gateway's access log is rotated by size while real Nginx writes it: nothing is lost, the
backups are bounded, and Nginx reopens the new file after the signal."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from cp_fleet.catalog import Catalog
from cp_fleet.embedded import find_free_port
from cp_fleet.log_rotation import RotationPolicy, backup_path, check_once, rotate
from cp_fleet.nginx_config import render_gateway_config


def test_rotate_shifts_backups_and_drops_the_oldest(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    for generation in range(4):
        log.write_text(f"generation {generation}\n")
        rotate(log, backups=2)
        assert log.read_text() == ""
    assert backup_path(log, 1).read_text() == "generation 3\n"
    assert backup_path(log, 2).read_text() == "generation 2\n"
    assert not backup_path(log, 3).exists()


def test_a_small_file_is_left_alone(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text("x" * 100)
    assert not check_once(log, RotationPolicy(max_bytes=100, backups=1), pid_file=None)
    assert not check_once(tmp_path / "missing.log", RotationPolicy(max_bytes=1, backups=1), pid_file=None)
    with pytest.raises(ValueError):
        RotationPolicy(max_bytes=0, backups=1)


def _lines(paths: list[Path]) -> list[dict]:
    return [json.loads(line) for path in paths if path.exists() for line in path.read_text().splitlines()]


def test_nginx_keeps_logging_across_rotations_without_losing_lines(run_nginx) -> None:
    port = find_free_port()
    catalog = Catalog.model_validate(
        {"gateway": {"port": port, "rate_limits": {"api": {"rate": "1000r/s", "burst": 1000}}}}
    )
    nginx = run_nginx(render_gateway_config(catalog, access_log=Path("access.log")), port)
    log = nginx.prefix_dir / "access.log"
    pid_file = nginx.prefix_dir / "nginx.pid"
    policy = RotationPolicy(max_bytes=4096, backups=3)
    sent = 0
    rotations = 0
    try:
        with httpx.Client(base_url=nginx.url) as client:

            def send() -> None:
                nonlocal sent
                assert client.get(f"/nope/{sent}").status_code == 404
                sent += 1

            for _ in range(8):
                for _ in range(20):  # about 6 KB of access lines
                    send()
                time.sleep(0.3)  # a line is written when its request ends
                if check_once(log, policy, pid_file):
                    rotations += 1
                    deadline = time.monotonic() + 5  # the master reopens, then workers follow
                    while log.stat().st_size == 0 and time.monotonic() < deadline:
                        send()
                        time.sleep(0.1)
        time.sleep(0.3)
    finally:
        nginx.stop()
    files = [backup_path(log, i) for i in range(policy.backups, 0, -1)] + [log]
    assert rotations >= 3
    assert not backup_path(log, policy.backups + 1).exists()
    for path in files:  # what came in up to one check past the limit
        assert path.stat().st_size <= policy.max_bytes * 2, path
    assert log.stat().st_size > 0  # Nginx writes to the new file
    numbered = [int(record["path"].rsplit("/", 1)[1]) for record in _lines(files)]
    # the backups and the live file hold the latest requests, each once, without a gap
    assert sorted(numbered) == list(range(sent - len(numbered), sent))
    assert len(numbered) < sent  # the oldest lines were dropped with the oldest backup
