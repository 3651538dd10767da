"""Run one server described by a :class:`ServerCommand` as a child process, and find leftovers.

The same :class:`ServerCommand` is rendered into a supervisord ``[program:x]`` section by
:mod:`cp_fleet.supervisor_config`; here it runs directly, for tests and :class:`EmbeddedInfra`.
Every child runs inside the state directory and gets ``CP_STATE_DIR`` in its environment;
:func:`processes_of_state_dir` uses both to prove nothing is left behind after a stop.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from cp_fleet.readiness import NotReady, ReadinessCheck
from cp_fleet.system_user import popen_identity

STATE_DIR_ENV = "CP_STATE_DIR"


@dataclass(frozen=True)
class ServerCommand:
    """Everything needed to run one server in the foreground and to know when it is ready."""

    name: str
    argv: tuple[str, ...]
    readiness: ReadinessCheck
    env: Mapping[str, str] = field(default_factory=dict)
    user: str | None = None  # system account to run as; None = the current user
    cwd: Path | None = None
    stop_signal: signal.Signals = signal.SIGTERM
    stop_as_group: bool = False  # send stop_signal to the whole process group, not just the leader
    stop_timeout_s: float = 20.0
    start_timeout_s: float = 60.0
    port: int | None = None  # TCP port it listens on: ready only if *this* process tree owns it

    def check_ready(self, pid: int) -> None:
        """Run the readiness probe and, with a ``port``, check that process ``pid`` (or a
        descendant) is the one listening on it; raise :class:`NotReady` otherwise."""
        self.readiness()
        if self.port is not None and not listens_on(pid, self.port):
            raise NotReady(f"port {self.port} is answered by another process")


class ServerStartError(RuntimeError):
    """A server exited or did not become ready in time; the message carries its log tail."""


def tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a text file ('' if it does not exist)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            data = handle.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ""
    return "\n".join(data.splitlines()[-lines:])


class ServerProcess:
    """A running server: ``start()`` + ``wait_ready()``, then ``stop()`` leaving no process behind."""

    def __init__(
        self, command: ServerCommand, log_path: Path, state_dir: Path, *, die_with_parent: bool = False
    ) -> None:
        """``die_with_parent``: the kernel sends the server its stop signal if the thread that
        started it dies (Linux ``PR_SET_PDEATHSIG``), so a killed test run leaves nothing behind.
        Only for servers started from a long-lived thread (the main thread, in tests)."""
        self.command = command
        self.log_path = log_path
        self.state_dir = state_dir
        self.die_with_parent = die_with_parent
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen else None

    def start(self) -> None:
        if self._popen is not None:
            raise RuntimeError(f"{self.command.name} already started")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.command.env, STATE_DIR_ENV: str(self.state_dir)}
        with self.log_path.open("ab") as log:
            self._popen = subprocess.Popen(
                list(self.command.argv),
                env=env,
                cwd=self.command.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: stop() can reach every descendant
                preexec_fn=_parent_death_signal(self.command.stop_signal) if self.die_with_parent else None,
                **popen_identity(self.command.user),
            )

    def wait_ready(self, timeout_s: float | None = None) -> float:
        """Block until the readiness probe passes; return the seconds it took."""
        assert self._popen is not None, "start() first"
        timeout_s = self.command.start_timeout_s if timeout_s is None else timeout_s
        started = time.monotonic()
        delay = 0.05
        last_error: Exception | None = None
        while True:
            code = self._popen.poll()
            if code is not None:
                raise ServerStartError(
                    f"{self.command.name} exited with code {code} before it was ready "
                    f"({self.command.readiness.description}).\n--- {self.log_path} ---\n"
                    f"{tail(self.log_path)}"
                )
            try:
                self.command.check_ready(self._popen.pid)
                return time.monotonic() - started
            except NotReady as exc:
                last_error = exc
            if time.monotonic() - started > timeout_s:
                self.stop()
                raise ServerStartError(
                    f"{self.command.name} not ready after {timeout_s:.0f}s "
                    f"({self.command.readiness.description}): {last_error}\n"
                    f"--- {self.log_path} ---\n{tail(self.log_path)}"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    def is_running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    def stop(self) -> None:
        """Stop the server and every process in its group; SIGKILL whatever outlives the timeout."""
        if self._popen is None:
            return
        popen, self._popen = self._popen, None
        group = popen.pid  # start_new_session made the leader's pid the group id
        if popen.poll() is None:
            try:
                if self.command.stop_as_group:
                    os.killpg(group, self.command.stop_signal)
                else:
                    popen.send_signal(self.command.stop_signal)
            except ProcessLookupError:
                pass
            try:
                popen.wait(timeout=self.command.stop_timeout_s)
            except subprocess.TimeoutExpired:
                _kill_group(group)
                popen.wait(timeout=10)
        _wait_group_gone(group, timeout_s=10)


def _parent_death_signal(sig: signal.Signals) -> Callable[[], None] | None:
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1

    def set_parent_death_signal() -> None:  # runs in the child, after the switch to its user
        libc.prctl(pr_set_pdeathsig, int(sig), 0, 0, 0)

    return set_parent_death_signal


def listens_on(pid: int, port: int) -> bool:
    """Whether process ``pid`` or one of its descendants has a listening TCP socket on ``port``."""
    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return False
    for proc in tree:
        try:
            for conn in proc.net_connections(kind="tcp"):
                if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                    return True
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return False


def _group_members(pgid: int) -> list[psutil.Process]:
    members = []
    for proc in psutil.process_iter(["status"]):
        try:
            if os.getpgid(proc.pid) == pgid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                members.append(proc)
        except (ProcessLookupError, psutil.Error):
            continue
    return members


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _wait_group_gone(pgid: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while _group_members(pgid):
        if time.monotonic() > deadline:
            _kill_group(pgid)
            time.sleep(0.2)
            survivors = _group_members(pgid)
            if survivors:
                raise RuntimeError(f"processes survived SIGKILL: {[p.pid for p in survivors]}")
            return
        time.sleep(0.1)


def processes_of_state_dir(state_dir: Path) -> list[psutil.Process]:
    """Live processes started for ``state_dir``.

    A process belongs to it if its working directory is inside ``state_dir`` (every server runs
    there, and their forked children inherit it) or if ``CP_STATE_DIR`` in its environment names it.
    Both are needed: Redis, Nginx and PostgreSQL's children rewrite their process title over the
    memory that ``/proc/<pid>/environ`` shows, so the environment alone misses them.
    """
    wanted = Path(state_dir).resolve()
    found = []
    for proc in psutil.process_iter(["status"]):
        if proc.pid == os.getpid() or proc.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        try:
            if _belongs_to(proc, wanted):
                found.append(proc)
        except (psutil.AccessDenied, psutil.NoSuchProcess, psutil.ZombieProcess, OSError):
            continue
    return found


def _belongs_to(proc: psutil.Process, state_dir: Path) -> bool:
    cwd = Path(proc.cwd())
    if cwd == state_dir or state_dir in cwd.parents:
        return True
    return proc.environ().get(STATE_DIR_ENV) == str(state_dir)
