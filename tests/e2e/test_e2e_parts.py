"""Everything the kind end-to-end run relies on that can be checked without a cluster: its
manifests are valid (Kubernetes schemas, the CRDs' schemas, core validation), its chart values
pass the schema and render, the client script works against the real sidecar (dev mode), the
audit check finds the right record and only that, and the script stops cleanly without tools."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from strongroom_cli.devmode import environment
from strongroom_core import podspec
from strongroom_core.resources import loading, models
from tests.chart import rendering
from tests.devfixtures import dev_env, dev_folder, echo_port
from tests.e2e import auditcheck

__all__ = ["dev_env", "dev_folder", "echo_port"]

HERE = Path(__file__).resolve().parent
MANIFESTS = HERE / "manifests"
SCRIPT = rendering.ROOT / "scripts" / "kind-e2e"


def _documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def test_kubernetes_manifests_validate_strictly() -> None:
    for name in ("prerequisites.yaml", "job.yaml"):
        for document in _documents(MANIFESTS / name):
            kubernetes_validate.validate(document, "1.30.0", strict=True)


def test_strongroom_resources_pass_core_validation_and_the_crd_schemas() -> None:
    loaded = loading.load_documents((MANIFESTS / "resources.yaml").read_text(), "resources.yaml")
    assert [type(r).__name__ for r in loaded] == ["Provider", "Grant"]
    crds = {
        c["spec"]["names"]["kind"]: c["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
        for c in rendering.kinds(rendering.render(), "CustomResourceDefinition")
        if c["spec"]["group"] == "strongroom.dev"
    }
    for document in _documents(MANIFESTS / "resources.yaml"):
        jsonschema.validate({"spec": document["spec"]}, crds[document["kind"]])


def test_resources_fit_the_examples_app_and_the_secret_supplies_every_field() -> None:
    app = next(
        r for r in loading.load_folder(rendering.ROOT / "examples") if isinstance(r, models.App)
    )
    job = _documents(MANIFESTS / "job.yaml")[0]
    pod = job["spec"]["template"]
    assert pod["spec"]["serviceAccountName"] in app.service_accounts
    assert pod["metadata"]["annotations"] == {
        podspec.INJECT_ANNOTATION: "true",
        podspec.APP_ANNOTATION: app.meta.name,
    }
    provider, grant = loading.load_documents((MANIFESTS / "resources.yaml").read_text(), "r")
    assert isinstance(provider, models.Provider)
    assert isinstance(grant, models.Grant)
    secret = next(d for d in _documents(MANIFESTS / "prerequisites.yaml") if d["kind"] == "Secret")
    assert grant.credential is not None
    assert grant.credential.secret_ref is not None
    assert secret["metadata"]["name"] == grant.credential.secret_ref.name
    assert provider.secret is not None
    assert set(secret["stringData"]) == set(provider.secret.fields)
    env = {e["name"]: e["value"] for e in pod["spec"]["containers"][0]["env"]}
    assert env["E2E_GRANT"] == grant.meta.name
    assert env["E2E_URL"].startswith(f"https://{provider.allowed_hosts[0]}/")


def test_e2e_chart_values_pass_the_schema_and_render_the_images_the_script_builds() -> None:
    values = yaml.safe_load((HERE / "values.yaml").read_text())
    chart = rendering.chart()
    chart.validate_schema(chart.merge_values(values))
    objects = rendering.render(values)
    images = {
        c["image"] for pod in rendering.pod_specs(objects).values() for c in pod["containers"]
    }
    assert images == {"strongroom/controlplane:e2e"}
    webhook = rendering.pod_specs(objects)["Deployment/strongroom-webhook"]["containers"][0]
    assert rendering.env(webhook)["STRONGROOM_WEBHOOK_SIDECAR_IMAGE"] == "strongroom/sidecar:e2e"
    maps = [o["metadata"]["namespace"] for o in rendering.kinds(objects, "ConfigMap")]
    assert "default" in maps  # the CA for the test pod's sidecar
    script = SCRIPT.read_text()
    for target in ("controlplane", "sidecar", "client"):
        assert f"AS {target}" in (rendering.ROOT / "Dockerfile").read_text()
    assert "for target in controlplane sidecar client" in script
    job = _documents(MANIFESTS / "job.yaml")[0]
    assert job["spec"]["template"]["spec"]["containers"][0]["image"] == "strongroom/client:e2e"


def test_every_file_the_script_uses_exists() -> None:
    script = SCRIPT.read_text()
    for path in (
        "charts/strongroom",
        "tests/e2e/values.yaml",
        "examples/app.yaml",
        "tests/e2e/manifests/prerequisites.yaml",
        "tests/e2e/manifests/resources.yaml",
        "tests/e2e/manifests/job.yaml",
        "tests/e2e/client.py",
        "tests/e2e/auditcheck.py",
    ):
        assert path in script, path
        assert (rendering.ROOT / path).exists(), path
    assert subprocess.run(["bash", "-n", str(SCRIPT)]).returncode == 0


def test_script_stops_without_running_anything_when_tools_are_missing(tmp_path: Path) -> None:
    done = subprocess.run(
        ["/bin/bash", str(SCRIPT)],
        env={"PATH": str(tmp_path), "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "missing: docker kind kubectl helm" in done.stderr
    assert "nothing was run" in done.stderr


async def test_client_calls_through_the_real_sidecar_and_the_audit_check_finds_the_call(
    dev_env: environment.DevEnvironment, echo_port: int, tmp_path: Path
) -> None:
    """client.py against dev mode (the same sidecar and control plane code, on loopback) with
    the echo upstream standing in for postman-echo.com; then the records of that call, read with
    `strongroom audit query --json`, pass auditcheck once mapped to the cluster's names."""
    env = {
        **os.environ,
        "STRONGROOM_URL": dev_env.sidecar_url,
        "E2E_URL": f"http://127.0.0.1:{echo_port}/basic-auth",
        "E2E_GRANT": "echo-demo",
        "E2E_EXPECT_KEY": "credential_ok",
        "E2E_WAIT_SECONDS": "10",
    }
    done = await _run([sys.executable, str(HERE / "client.py")], env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ok"] is True
    assert result["status"] == 200

    query = [
        sys.executable, "-m", "strongroom_cli.main", "audit", "query", "--json",
        "--state-dir", str(dev_env.options.state_dir), "--grant", "echo-demo",
    ]  # fmt: skip
    calls: list[dict[str, Any]] = []
    for _ in range(50):  # the sidecar delivers audit off the hot path
        audit = await _run(query, dict(os.environ))
        assert audit.returncode == 0, audit.stderr
        events = [json.loads(line) for line in audit.stdout.splitlines() if line.strip()]
        calls = [e for e in events if e["kind"] == "use" and e["path"] == "/basic-auth"]
        if calls:
            break
        await asyncio.sleep(0.2)
    assert calls
    cluster_names = {
        "grant": "e2e-basic",
        "provider": "e2e-basic",
        "host": "postman-echo.com",
        "caller": "pod/e2e-client-x7k2p",
    }
    renamed = {**calls[-1], **cluster_names}
    assert auditcheck.matching([renamed]) == [renamed]


async def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """A subprocess that does not block the event loop dev mode runs on."""
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return subprocess.CompletedProcess(command, process.returncode, out.decode(), err.decode())


BASE = dict(auditcheck.EXPECTED, caller="pod/e2e-client-abcde", id="1")


@pytest.mark.parametrize(
    ("change", "found"),
    [
        ({}, True),
        ({"status": 401}, False),
        ({"decision": "deny"}, False),
        ({"host": "evil.example"}, False),
        ({"caller": "pod/other"}, False),
        ({"kind": "auth.refused"}, False),
        ({"grant": "echo-demo"}, False),
    ],
)
def test_audit_check_accepts_only_the_jobs_allowed_call(
    tmp_path: Path, change: dict[str, Any], found: bool
) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_text(json.dumps({**BASE, **change}) + "\n\n")
    assert (auditcheck.main([str(path)]) == 0) is found
