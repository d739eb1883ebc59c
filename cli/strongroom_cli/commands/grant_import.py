"""`strongroom grant import`: seal an OAuth2 token response into a Grant manifest, so OAuth
grants exist before the connect flow does. Prints the Grant as YAML for `kubectl apply` or the
dev folder."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from strongroom_cli import sealing_client
from strongroom_cli.commands import seal
from strongroom_core import tokens

PRINCIPAL_KINDS = ("user", "group", "system", "agent")


def add_parser(grant_parsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = grant_parsers.add_parser(
        "import",
        help="seal an OAuth2 token response into a Grant manifest",
        description=(
            "Read an OAuth2 token response (JSON with access_token, refresh_token, expires_in, "
            "...) from stdin or --token-response, seal it client-side and print a Grant."
        ),
    )
    seal.add_key_source(parser)
    parser.add_argument("--namespace", "-n", default="default")
    parser.add_argument("--name", required=True, help="the Grant's name")
    parser.add_argument("--app", required=True, help="the Grant's appRef")
    parser.add_argument("--provider", required=True, help="the Grant's providerRef")
    parser.add_argument("--principal", required=True, help="KIND:ID, e.g. user:alice")
    parser.add_argument("--scopes", default="", help="comma-separated scopes the grant holds")
    parser.add_argument("--token-response", type=Path, help="file with the token response JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    kind, _, principal_id = args.principal.partition(":")
    if kind not in PRINCIPAL_KINDS or not principal_id:
        raise seal.InputError(
            f"--principal {args.principal!r}: expected KIND:ID with KIND one of "
            + ", ".join(PRINCIPAL_KINDS)
        )
    raw = args.token_response.read_text() if args.token_response else sys.stdin.read()
    response = _token_response(raw)
    sealed = sealing_client.seal_credential(
        seal.public_key(args),
        namespace=args.namespace,
        grant=args.name,
        provider=args.provider,
        credential=tokens.wrap_token_response(response),
    )
    manifest: dict[str, Any] = {
        "apiVersion": "strongroom.dev/v1alpha1",
        "kind": "Grant",
        "metadata": {"name": args.name, "namespace": args.namespace},
        "spec": {
            "appRef": args.app,
            "providerRef": args.provider,
            "principal": {"kind": kind, "id": principal_id},
            "scopes": [s for s in args.scopes.split(",") if s],
            "credential": {"sealedValue": sealed},
        },
    }
    sys.stdout.write(yaml.safe_dump(manifest, sort_keys=False))
    return 0


def _token_response(raw: str) -> dict[str, Any]:
    try:
        document = json.loads(raw)
    except ValueError:
        raise seal.InputError("token response: not valid JSON") from None
    if not isinstance(document, dict) or not document:
        raise seal.InputError("token response: expected a non-empty JSON object")
    # Field checks need the Provider's token-response mapping: the control plane applies it when
    # it reconciles the Grant and reports a missing field in the Grant's status.
    return document
