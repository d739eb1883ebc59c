"""`strongroom seal`: seal a managed secret for one Grant, client-side (like kubeseal).

The secret is read from standard input or a file, never from the command line (where it would
land in shell history and process listings).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from strongroom_cli import public_keys, sealing_client


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "seal",
        help="seal a managed secret for a Grant (reads the secret from stdin)",
        description=(
            "Seal a secret to the control plane's public key, bound to namespace, grant and "
            "provider. Put the output in the Grant's spec.credential.sealedValue."
        ),
    )
    add_key_source(parser)
    parser.add_argument("--namespace", "-n", default="default", help="the Grant's namespace")
    parser.add_argument("--grant", required=True, help="the Grant's name")
    parser.add_argument("--provider", required=True, help="the Grant's providerRef")
    parser.add_argument("--field", default="token", help="field name of a single secret value")
    parser.add_argument(
        "--json", action="store_true", help="the input is a JSON object of string fields"
    )
    parser.add_argument("--from-file", type=Path, help="read the secret from this file")
    parser.set_defaults(handler=run)


def add_key_source(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--public-key", type=Path, help="PEM file of the control plane's key")
    source.add_argument("--server", help="control-plane URL to fetch the public key from")
    parser.add_argument(
        "--ca-file", type=Path, help="CA bundle to verify the control plane's certificate"
    )


def public_key(args: argparse.Namespace) -> str:
    if args.public_key is not None:
        return public_keys.from_file(args.public_key)
    return public_keys.from_server(args.server, ca_file=getattr(args, "ca_file", None))


def run(args: argparse.Namespace) -> int:
    raw = args.from_file.read_text() if args.from_file else sys.stdin.read()
    credential = _credential(raw, field=args.field, as_json=args.json)
    sealed = sealing_client.seal_credential(
        public_key(args),
        namespace=args.namespace,
        grant=args.grant,
        provider=args.provider,
        credential=credential,
    )
    print(sealed)
    return 0


class InputError(ValueError):
    """The secret given to `strongroom seal` is unusable; never includes the secret."""


def _credential(raw: str, *, field: str, as_json: bool) -> dict[str, str]:
    if not as_json:
        value = raw.rstrip("\r\n")
        if not value:
            raise InputError("input: empty secret (pipe it on stdin or use --from-file)")
        return {field: value}
    try:
        document = json.loads(raw)
    except ValueError:
        raise InputError("input: --json given but the input is not valid JSON") from None
    if not isinstance(document, dict) or not document:
        raise InputError("input: --json expects a non-empty JSON object of string fields")
    for name, value in document.items():
        if not isinstance(value, str):
            raise InputError(f"input.{name}: expected a string")
    return document
