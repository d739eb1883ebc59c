"""The whole path on a real cluster: scripts/kind-e2e (see its header).
Opt-in: ``pytest -m e2e``."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.chart import rendering

SCRIPT = rendering.ROOT / "scripts" / "kind-e2e"
TOOLS = ("docker", "kind", "kubectl", "helm")


@pytest.mark.e2e
def test_annotated_pod_calls_upstream_through_sidecar_and_audit_shows_it() -> None:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")
    done = subprocess.run([str(SCRIPT)], cwd=rendering.ROOT, timeout=1800)
    assert done.returncode == 0
