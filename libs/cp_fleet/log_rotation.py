"""Size-bounded rotation of a log file written by Nginx, the one log supervisord cannot rotate
(Nginx writes its access log itself, not through supervisord's pipes).

Run by supervisord as the ``gateway-logs`` program (``python -m cp_fleet.log_rotation``): every
``--interval`` seconds, a file larger than ``--max-bytes`` is rotated the way logrotate does it
for Nginx: ``f.2 -> f.3`` ... ``f -> f.1``, a new empty ``f`` with the old owner and mode, then
``SIGUSR1`` to the Nginx master (from ``--pid-file``), which reopens its logs. Nginx keeps writing
to the renamed file until it has reopened, so no line is lost. On disk a file then takes at most
``(backups + 1) * max_bytes`` plus what is written during one interval.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("cp_fleet.log_rotation")


@dataclass(frozen=True)
class RotationPolicy:
    max_bytes: int
    backups: int

    def __post_init__(self) -> None:
        if self.max_bytes < 1 or self.backups < 1:
            raise ValueError("max_bytes and backups must be at least 1")


def backup_path(path: Path, index: int) -> Path:
    return path.with_name(f"{path.name}.{index}")


def rotate(path: Path, backups: int) -> None:
    """Shift ``path`` into the numbered backups (the oldest is dropped) and create it anew, empty,
    with the old owner and mode (the server may run as another user and cannot create it)."""
    status = path.stat()
    for index in range(backups, 1, -1):
        newer = backup_path(path, index - 1)
        if newer.exists():
            os.replace(newer, backup_path(path, index))
    os.replace(path, backup_path(path, 1))
    descriptor = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_APPEND, status.st_mode & 0o777)
    os.close(descriptor)
    if (status.st_uid, status.st_gid) != (os.getuid(), os.getgid()):
        os.chown(path, status.st_uid, status.st_gid)


def signal_reopen(pid_file: Path) -> bool:
    """Ask the process in ``pid_file`` to reopen its logs (Nginx: USR1); False if it is not running."""
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, signal.SIGUSR1)
    except (OSError, ValueError):
        return False
    return True


def check_once(path: Path, policy: RotationPolicy, pid_file: Path | None) -> bool:
    """Rotate ``path`` if it has grown past the limit; True if it did."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return False
    if size <= policy.max_bytes:
        return False
    rotate(path, policy.backups)
    reopened = signal_reopen(pid_file) if pid_file is not None else False
    log.info("rotated %s at %d bytes (reopen signalled: %s)", path, size, reopened)
    return True


def watch(
    paths: Sequence[Path],
    policy: RotationPolicy,
    *,
    pid_file: Path | None,
    interval_s: float,
    stop: threading.Event,
) -> None:
    while not stop.is_set():
        for path in paths:
            try:
                check_once(path, policy, pid_file)
            except OSError as exc:  # keep watching; the next round tries again
                log.warning("cannot rotate %s: %s", path, exc)
        stop.wait(interval_s)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cp_fleet.log_rotation", description=__doc__.splitlines()[0]
    )
    parser.add_argument("paths", nargs="+", type=Path, help="log files to keep bounded")
    parser.add_argument("--max-bytes", type=int, required=True)
    parser.add_argument("--backups", type=int, required=True)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between size checks")
    parser.add_argument(
        "--pid-file", type=Path, default=None, help="process to send SIGUSR1 after a rotation"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    policy = RotationPolicy(args.max_bytes, args.backups)
    log.info(
        "keeping %s under %d bytes x %d backups",
        ", ".join(map(str, args.paths)),
        policy.max_bytes,
        policy.backups,
    )
    watch(args.paths, policy, pid_file=args.pid_file, interval_s=args.interval, stop=stop)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
