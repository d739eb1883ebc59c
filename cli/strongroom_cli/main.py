"""The `strongroom` command. This module only wires subcommands to argparse; each lives in
``strongroom_cli.commands``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from strongroom_cli import keytargets, public_keys
from strongroom_cli.commands import (
    agent_rotate,
    audit_query,
    dev,
    grant_import,
    key_backup,
    rotate,
    seal,
)

# Errors a user can cause: printed as one line, exit status 2, no traceback.
USER_ERRORS: tuple[type[Exception], ...] = (
    seal.InputError,
    public_keys.PublicKeyError,
    audit_query.AuditQueryError,
    agent_rotate.AgentRotateError,
    dev.DevModeError,
    keytargets.TargetError,
    rotate.RotateError,
    key_backup.KeyBackupError,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="strongroom",
        description="Strongroom: credentials for third-party APIs, never in your app's process.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    dev.add_parser(commands)
    seal.add_parser(commands)
    grant = commands.add_parser("grant", help="work with Grants")
    grant_import.add_parser(grant.add_subparsers(dest="grant_command", required=True))
    audit = commands.add_parser("audit", help="read audit records")
    audit_query.add_parser(audit.add_subparsers(dest="audit_command", required=True))
    agent = commands.add_parser("agent", help="work with Agents (API keys)")
    agent_rotate.add_parser(agent.add_subparsers(dest="agent_command", required=True))
    rotate.add_parser(commands)
    key_backup.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except USER_ERRORS as e:
        print(f"strongroom {args.command}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
