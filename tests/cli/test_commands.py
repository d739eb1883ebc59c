"""`strongroom seal`, `strongroom grant import` and `strongroom audit query` against a running dev
mode: what they produce is served by the sidecar, and what they refuse is named."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from pathlib import Path

import pytest
import yaml

import strongroom
from strongroom_cli import main as cli
from strongroom_cli.devmode import environment
from tests import canary


async def run_cli(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    """Run the command in a worker thread (it may do blocking HTTP against this loop's servers)."""

    def call() -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        saved = sys.stdin, sys.stdout, sys.stderr
        sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
        try:
            code = cli.main(argv)
        finally:
            sys.stdin, sys.stdout, sys.stderr = saved
        return code, out.getvalue(), err.getvalue()

    return await asyncio.to_thread(call)


PROVIDER_AND_GRANT = """
apiVersion: strongroom.dev/v1alpha1
kind: Provider
metadata: {{name: {provider}, namespace: default}}
spec:
  appRef: demo
  type: {type}
  allowedHosts: ["{host}"]
{extra}
---
apiVersion: strongroom.dev/v1alpha1
kind: Grant
metadata: {{name: {grant}, namespace: default}}
spec:
  appRef: demo
  providerRef: {provider}
  principal: {{kind: system, id: demo}}
  credential: {{sealedValue: "{sealed}"}}
"""


async def _served(env: environment.DevEnvironment, grant: str) -> dict[str, object]:
    async with strongroom.AsyncApp(env.sidecar_url) as app:
        for _ in range(100):
            try:
                response = await app.get(f"{env.echo_url}/check", grant=grant)
                return dict(response.json())
            except (strongroom.GrantNotFound, strongroom.PolicyDenied):
                await asyncio.sleep(0.05)
    raise AssertionError(f"grant {grant} never served")


def _host(env: environment.DevEnvironment) -> str:
    return env.echo_url.removeprefix("http://")


async def test_a_secret_sealed_with_strongroom_seal_is_injected_by_the_sidecar(
    dev_env: environment.DevEnvironment,
) -> None:
    public_key = dev_env.options.state_dir / "sealing-key.pub.pem"
    code, sealed, err = await run_cli(
        ["seal", "--public-key", str(public_key), "--grant", "sealed-echo", "--provider", "plain"],
        stdin=dev_env._echo_credential + "\n",
    )
    assert code == 0, err
    assert sealed.startswith("srs1.")
    assert dev_env._echo_credential not in sealed
    (dev_env.options.folder / "sealed.yaml").write_text(
        PROVIDER_AND_GRANT.format(
            provider="plain",
            type="secret",
            host=_host(dev_env),
            extra="",
            grant="sealed-echo",
            sealed=sealed.strip(),
        )
    )
    await dev_env.reload()
    assert (await _served(dev_env, "sealed-echo"))["credential_ok"] is True


async def test_seal_fetches_the_public_key_from_a_running_control_plane(
    dev_env: environment.DevEnvironment,
) -> None:
    code, sealed, err = await run_cli(
        ["seal", "--server", dev_env.control_plane_url, "--grant", "g", "--provider", "p"],
        stdin=canary.new(),
    )
    assert code == 0, err
    assert sealed.startswith("srs1.")


async def test_a_sealed_value_replayed_into_another_grant_is_refused_by_name(
    dev_env: environment.DevEnvironment,
) -> None:
    public_key = dev_env.options.state_dir / "sealing-key.pub.pem"
    _, sealed, _ = await run_cli(
        ["seal", "--public-key", str(public_key), "--grant", "original", "--provider", "plain"],
        stdin=canary.new(),
    )
    (dev_env.options.folder / "replayed.yaml").write_text(
        PROVIDER_AND_GRANT.format(
            provider="plain",
            type="secret",
            host=_host(dev_env),
            extra="",
            grant="thief",
            sealed=sealed.strip(),
        )
    )
    await dev_env.reload()
    outcome = dev_env.report[("Grant", "default", "thief")]
    assert outcome.state == "Invalid"
    assert "spec.credential.sealedValue: cannot be opened" in outcome.message


async def test_a_sealed_secret_missing_a_declared_field_is_refused_naming_the_field(
    dev_env: environment.DevEnvironment,
) -> None:
    public_key = dev_env.options.state_dir / "sealing-key.pub.pem"
    _, sealed, _ = await run_cli(
        [
            *("seal", "--public-key", str(public_key), "--json"),
            *("--grant", "pair", "--provider", "twofield"),
        ],
        stdin=json.dumps({"api_key": canary.new()}),
    )
    extra = (
        "  secret: {fields: [api_key, app_key]}\n"
        "  injections:\n"
        "    - {type: header, name: DD-API-KEY, format: '{api_key}'}\n"
        "    - {type: header, name: DD-APPLICATION-KEY, format: '{app_key}'}"
    )
    (dev_env.options.folder / "pair.yaml").write_text(
        PROVIDER_AND_GRANT.format(
            provider="twofield",
            type="secret",
            host=_host(dev_env),
            extra=extra,
            grant="pair",
            sealed=sealed.strip(),
        )
    )
    await dev_env.reload()
    outcome = dev_env.report[("Grant", "default", "pair")]
    assert outcome.state == "Invalid"
    assert "missing field 'app_key'" in outcome.message
    assert "api_key" not in outcome.message.replace("'api_key'", "")


async def test_grant_import_seals_a_token_response_that_the_sidecar_injects(
    dev_env: environment.DevEnvironment,
) -> None:
    refresh = canary.new("refresh")
    response = {
        "authed_user": {"access_token": dev_env._echo_credential, "refresh_token": refresh},
        "expires_in": 3600,
    }
    code, manifest, err = await run_cli(
        [
            *("grant", "import", "--server", dev_env.control_plane_url),
            *("--name", "imported", "--app", "demo", "--provider", "nested"),
            *("--principal", "system:importer", "--scopes", "chat:write"),
        ],
        stdin=json.dumps(response),
    )
    assert code == 0, err
    assert dev_env._echo_credential not in manifest
    assert refresh not in manifest
    grant = yaml.safe_load(manifest)
    assert grant["spec"]["principal"] == {"kind": "system", "id": "importer"}
    provider = f"""apiVersion: strongroom.dev/v1alpha1
kind: Provider
metadata: {{name: nested, namespace: default}}
spec:
  appRef: demo
  type: oauth2
  allowedHosts: ["{_host(dev_env)}"]
  oauth2:
    tokenURL: https://oauth.example.com/token
    clientId: demo
    clientAuthMethod: none
    tokenResponse:
      accessToken: authed_user.access_token
      refreshToken: authed_user.refresh_token
"""
    (dev_env.options.folder / "imported.yaml").write_text(provider + "---\n" + manifest)
    await dev_env.reload()
    assert dev_env.report[("Grant", "default", "imported")].ok
    assert (await _served(dev_env, "imported"))["credential_ok"] is True
    record = await dev_env.storage.get_grant("default", "imported")
    assert record is not None
    assert record.token_expires_at is not None


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["seal", "--grant", "g", "--provider", "p"], "x", "one of the arguments"),
        (["seal", "--public-key", "/nope.pem", "--grant", "g", "--provider", "p"], "x", "/nope"),
        (
            [
                *("grant", "import", "--public-key", "KEY", "--name", "n", "--app", "a"),
                *("--provider", "p", "--principal", "robot"),
            ],
            "{}",
            "--principal 'robot': expected KIND:ID",
        ),
        (["seal", "--public-key", "KEY", "--grant", "g", "--provider", "p"], "", "empty secret"),
        (
            ["seal", "--public-key", "KEY", "--json", "--grant", "g", "--provider", "p"],
            '{"token": 5}',
            "input.token: expected a string",
        ),
        (["audit", "query", "--limit", "0", "--state-dir", "/nonexistent"], "", "--limit 0"),
        (
            ["audit", "query", "--state-dir", "/nonexistent"],
            "",
            "no --server given and no running dev mode",
        ),
    ],
)
async def test_bad_input_gets_an_error_naming_the_argument(
    dev_env: environment.DevEnvironment, argv: list[str], stdin: str, message: str
) -> None:
    key = str(dev_env.options.state_dir / "sealing-key.pub.pem")
    argv = [key if a == "KEY" else a for a in argv]
    try:
        code, _, err = await run_cli(argv, stdin=stdin)
    except SystemExit as exit_:  # argparse's own usage errors
        code, err = int(exit_.code or 0), ""
        assert code == 2
        return
    assert code == 2
    assert message in err


async def test_audit_query_prints_the_newest_records_as_json_lines(
    dev_env: environment.DevEnvironment,
) -> None:
    async with strongroom.AsyncApp(dev_env.sidecar_url) as app:
        for index in range(3):
            await app.get(f"{dev_env.echo_url}/n{index}?token=SECRETQUERY", grant="echo-demo")
    lines: list[str] = []
    for _ in range(100):  # delivery to the collector is asynchronous
        code, out, err = await run_cli(
            [
                "audit",
                "query",
                "--json",
                "--limit",
                "2",
                "--state-dir",
                str(dev_env.options.state_dir),
            ]
        )
        assert code == 0, err
        lines = out.splitlines()
        if len(lines) == 2 and json.loads(lines[0])["path"].startswith("/n2"):
            break
        await asyncio.sleep(0.05)
    events = [json.loads(line) for line in lines]
    assert [e["path"] for e in events] == ["/n2?token=REDACTED", "/n1?token=REDACTED"]
    assert all(e["grant"] == "echo-demo" and e["decision"] == "allow" for e in events)


async def test_audit_query_with_a_wrong_token_says_so(
    dev_env: environment.DevEnvironment, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("not-the-admin-token")
    code, _, err = await run_cli(
        ["audit", "query", "--server", dev_env.control_plane_url, "--token-file", str(token_file)]
    )
    assert code == 2
    assert "HTTP 401" in err
    assert "not-the-admin-token" not in err
