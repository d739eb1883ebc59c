"""`strongroom dev`: bad resources are reported by name and field while the rest keep serving;
several Apps need --app; edits are picked up; an immutable change keeps the served version."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest

import strongroom
from strongroom_cli.commands import dev
from strongroom_cli.devmode import environment
from tests.devfixtures import options

BAD_DOCUMENTS = {
    "malformed.yaml": "apiVersion: strongroom.dev/v1alpha1\nkind: Grant\nmetadata: {name: [\n",
    "missing.yaml": """
apiVersion: strongroom.dev/v1alpha1
kind: Provider
metadata: {name: half, namespace: default}
spec:
  appRef: demo
  type: oauth2
  allowedHosts: [api.example.com]
  oauth2: {clientId: x}
""",
    "wrongtype.yaml": """
apiVersion: strongroom.dev/v1alpha1
kind: Grant
metadata: {name: typed, namespace: default}
spec: {appRef: demo, providerRef: echo, principal: {kind: system, id: 7}, scopes: "all"}
""",
    "unknownprovider.yaml": """
apiVersion: strongroom.dev/v1alpha1
kind: Grant
metadata: {name: orphan, namespace: default}
spec: {appRef: demo, providerRef: nowhere, principal: {kind: system, id: x}}
""",
    "noapp.yaml": """
apiVersion: strongroom.dev/v1alpha1
kind: Provider
metadata: {name: homeless, namespace: default}
spec: {appRef: ghost, type: secret, allowedHosts: [api.example.com]}
""",
}


async def test_bad_resources_are_reported_by_name_and_field_and_the_rest_keep_serving(
    dev_folder: Path, tmp_path: Path, echo_port: int
) -> None:
    for name, text in BAD_DOCUMENTS.items():
        (dev_folder / name).write_text(text)
    env = await environment.DevEnvironment.start(options(dev_folder, tmp_path / "s", echo_port))
    try:
        problems = "\n".join(env.loaded.problems)
        assert "malformed.yaml:" in problems
        assert "missing.yaml:1: document 0 (Provider half):" in problems
        assert "spec.oauth2.tokenURL: required" in problems
        assert "(Grant typed): spec.principal.id: must be a string" in problems
        assert "spec.scopes: must be a list" in problems
        assert 'Grant default/orphan: spec.providerRef: Provider "nowhere"' in problems
        assert 'Provider default/homeless: spec.appRef: App "ghost"' in problems
        async with strongroom.AsyncApp(env.sidecar_url) as app:
            response = await app.get(f"{env.echo_url}/still-here", grant="echo-demo")
        assert response.json()["credential_ok"] is True
    finally:
        await env.stop()


async def test_the_banner_lists_every_resource_and_every_problem(
    dev_folder: Path, tmp_path: Path, echo_port: int
) -> None:
    (dev_folder / "missing.yaml").write_text(BAD_DOCUMENTS["missing.yaml"])
    env = await environment.DevEnvironment.start(options(dev_folder, tmp_path / "s", echo_port))
    try:
        out = io.StringIO()
        dev.print_banner(env, out)
    finally:
        await env.stop()
    text = out.getvalue()
    assert "[ok] Grant default/echo-demo" in text
    assert "[Pending] Grant default/stripe-billing: spec.credential: none yet" in text
    assert "[invalid] " in text
    assert "spec.oauth2.tokenURL: required" in text
    assert f"{env.sidecar_url}/proxy" in text


def _second_app(folder: Path) -> None:
    (folder / "other-app.yaml").write_text(
        "apiVersion: strongroom.dev/v1alpha1\nkind: App\n"
        "metadata: {name: other, namespace: default}\nspec: {serviceAccounts: [other]}\n"
    )


async def test_several_apps_need_app_and_the_error_lists_them(
    dev_folder: Path, tmp_path: Path, echo_port: int
) -> None:
    _second_app(dev_folder)
    with pytest.raises(environment.DevModeError) as caught:
        await environment.DevEnvironment.start(options(dev_folder, tmp_path / "s", echo_port))
    assert "default/demo, default/other" in str(caught.value)
    assert "--app" in str(caught.value)


async def test_app_picks_the_app_whose_sidecar_runs(
    dev_folder: Path, tmp_path: Path, echo_port: int
) -> None:
    _second_app(dev_folder)
    with pytest.raises(environment.DevModeError, match="--app nope: no such App"):
        await environment.DevEnvironment.start(
            options(dev_folder, tmp_path / "s", echo_port, app="nope")
        )
    env = await environment.DevEnvironment.start(
        options(dev_folder, tmp_path / "s", echo_port, app="demo")
    )
    try:
        assert env.app.key == ("default", "demo")
    finally:
        await env.stop()


async def test_a_folder_without_an_app_is_refused_with_a_hint(
    tmp_path: Path, echo_port: int
) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    with pytest.raises(environment.DevModeError, match="defines no valid App"):
        await environment.DevEnvironment.start(options(folder, tmp_path / "s", echo_port))


async def _until_ready(env: environment.DevEnvironment, grant: str) -> bool:
    async with strongroom.AsyncApp(env.sidecar_url) as app:
        for _ in range(100):
            try:
                response = await app.get(f"{env.echo_url}/x", grant=grant)
                return bool(response.json()["credential_ok"])
            except strongroom.GrantNotFound:
                await asyncio.sleep(0.05)
    return False


async def test_a_reload_serves_new_grants_and_keeps_an_immutable_change_out(
    dev_env: environment.DevEnvironment,
) -> None:
    folder = dev_env.options.folder
    (folder / "late.yaml").write_text(
        "apiVersion: strongroom.dev/v1alpha1\nkind: Grant\n"
        "metadata: {name: late-echo, namespace: default}\n"
        "spec: {appRef: demo, providerRef: echo, principal: {kind: system, id: late}}\n"
    )
    echo_file = folder / "echo.yaml"
    echo_file.write_text(echo_file.read_text().replace("id: demo", "id: someone-else"))
    await dev_env.reload()

    assert await _until_ready(dev_env, "late-echo")
    problems = "\n".join(dev_env.loaded.problems)
    assert "Grant default/echo-demo: spec.principal:" in problems
    assert "still serving the previous version" in problems
    record = await dev_env.storage.get_grant("default", "echo-demo")
    assert record is not None
    assert record.principal_id == "demo"


async def test_a_grant_removed_from_the_folder_stops_being_served(
    dev_env: environment.DevEnvironment,
) -> None:
    extra = dev_env.options.folder / "zz-test.yaml"
    extra.unlink()
    await dev_env.reload()
    assert await dev_env.storage.get_grant("default", "twin-a") is None
    async with strongroom.AsyncApp(dev_env.sidecar_url) as app:
        for _ in range(100):
            try:
                await app.get(f"{dev_env.echo_url}/x", grant="twin-a")
            except strongroom.GrantNotFound:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("twin-a still served after it left the folder")


async def test_state_survives_a_restart_and_keeps_the_grant_readable(
    dev_folder: Path, tmp_path: Path, echo_port: int
) -> None:
    state = tmp_path / "state"
    for _ in range(2):
        env = await environment.DevEnvironment.start(options(dev_folder, state, echo_port))
        try:
            assert await _until_ready(env, "echo-demo")
        finally:
            await env.stop()
    assert (state / "root-keys.json").stat().st_mode & 0o077 == 0
    assert (state / "sealing-key.json").stat().st_mode & 0o077 == 0
