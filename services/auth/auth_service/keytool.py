"""``python -m auth_service.keytool``: inspect and rotate the signing keys of a key directory.

    python -m auth_service.keytool list              # every key and its state now
    python -m auth_service.keytool rotate            # add a new key (published now, signs later)
    python -m auth_service.keytool prune             # delete keys no token can need any more

The directory, algorithm, activation delay and retention come from the same ``AUTH_*``
variables the service reads (``--dir`` overrides the directory). The running service picks up
changes within ``AUTH_KEYS_RELOAD_INTERVAL_S``; no restart is needed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from auth_service.components import build_keyring
from auth_service.domain.keys import KeyConfigurationError, generate_key, load_keys, prune, schedule
from auth_service.settings import AuthSettings
from cp_common.settings import SettingsError, load_settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m auth_service.keytool", description="Inspect and rotate the signing keys."
    )
    parser.add_argument(
        "--dir", type=Path, default=None, help="key directory (default: AUTH_SIGNING_KEYS_DIR)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="keys with their state: active, pending, retired, expired")
    rotate = commands.add_parser("rotate", help="create a new key; it signs after the activation delay")
    rotate.add_argument("--algorithm", choices=("EdDSA", "RS256"), default=None)
    commands.add_parser("prune", help="delete expired keys (retired longer than the token lifetime)")
    return parser


def main(argv: Sequence[str] | None = None, settings: AuthSettings | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = settings or load_settings(AuthSettings)
    except SettingsError as exc:
        print(f"keytool: {exc}", file=sys.stderr)
        return 2
    if args.dir is not None:
        settings = settings.model_copy(update={"auth_signing_keys_dir": args.dir})
    directory = settings.signing_keys_dir
    try:
        if args.command == "rotate":
            key = generate_key(directory, args.algorithm or settings.auth_signing_algorithm)
            activates = key.created_at + build_keyring(settings).activation_delay
            print(f"created {key.kid} ({key.algorithm}); published now, signs from {activates.isoformat()}")
            return 0
        keys = load_keys(directory)
        if not keys:
            print(f"no keys in {directory}", file=sys.stderr)
            return 1
        ring = build_keyring(settings)  # the service's activation delay and retention
        plan = schedule(
            keys, now=datetime.now(UTC), activation_delay=ring.activation_delay, retention=ring.retention
        )
        if args.command == "prune":
            for kid in prune(directory, plan.expired):
                print(f"deleted {kid}")
            return 0
        states = [
            ("active", [plan.active]),
            ("pending", plan.pending),
            ("retired", plan.retired),
            ("expired", plan.expired),
        ]
        for state, group in states:
            for key in group:
                print(f"{key.kid}  {key.algorithm:<6} {state}")
        return 0
    except KeyConfigurationError as exc:
        print(f"keytool: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
