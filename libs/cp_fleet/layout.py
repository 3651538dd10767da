"""Where one fleet instance keeps its files: everything lives under its state directory."""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CATALOG = REPO_ROOT / "deploy" / "services.yaml"

# sockaddr_un.sun_path holds 108 bytes; stay well below it.
_MAX_SOCKET_PATH = 100


@dataclass(frozen=True)
class FleetLayout:
    state_dir: Path

    @property
    def logs_dir(self) -> Path:
        return self.state_dir / "logs"

    def log_path(self, program: str) -> Path:
        return self.logs_dir / f"{program}.log"

    @property
    def supervisord_conf(self) -> Path:
        return self.state_dir / "supervisord.conf"

    @property
    def supervisord_pid(self) -> Path:
        return self.state_dir / "supervisord.pid"

    @property
    def supervisord_log(self) -> Path:
        return self.log_path("supervisord")

    @property
    def supervisor_socket(self) -> Path:
        """``<state>/supervisor.sock``, or a short path in the temp dir if that would be too long."""
        preferred = self.state_dir / "supervisor.sock"
        if len(str(preferred)) <= _MAX_SOCKET_PATH:
            return preferred
        digest = hashlib.sha256(str(self.state_dir).encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"cp-supervisor-{digest}.sock"

    @property
    def postgres_data(self) -> Path:
        return self.state_dir / "postgres" / "data"

    @property
    def redis_dir(self) -> Path:
        return self.state_dir / "redis"

    @property
    def kafka_dir(self) -> Path:
        return self.state_dir / "kafka"

    @property
    def gateway_dir(self) -> Path:
        """Nginx's prefix directory (pid file, temp files) and its rendered ``nginx.conf``."""
        return self.state_dir / "gateway"

    @property
    def gateway_conf(self) -> Path:
        return self.gateway_dir / "nginx.conf"

    @property
    def gateway_access_log(self) -> Path:
        return self.log_path("gateway-access")

    def service_dir(self, name: str) -> Path:
        """A service's working directory (its processes are found by it, see processes.py)."""
        return self.state_dir / "run" / name
