"""The Dockerfile is hadolint-clean, and its install steps work: scripts/check-dockerfile-install
runs them verbatim in a temporary venv (slow: it installs three venvs), and refuses recipes it
could not run faithfully."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.chart import rendering

DOCKERFILE = rendering.ROOT / "Dockerfile"
CHECK = rendering.ROOT / "scripts" / "check-dockerfile-install"
HADOLINT = Path(sys.executable).parent / "hadolint"


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHECK), *args], capture_output=True, text=True, timeout=600
    )


def test_dockerfile_is_hadolint_clean() -> None:
    done = subprocess.run(
        [str(HADOLINT), "--no-color", str(DOCKERFILE)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_bites_on_a_bad_recipe(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN cd /src && pip install foo\n")
    done = subprocess.run([str(HADOLINT), "--no-color", str(bad)], capture_output=True, text=True)
    assert done.returncode != 0
    assert "DL3007" in done.stdout  # latest tag


def test_base_image_is_pinned_by_digest_and_images_run_as_non_root() -> None:
    text = DOCKERFILE.read_text()
    assert "ARG PYTHON_IMAGE=python:3.11" in text
    assert "@sha256:" in text.split("ARG PYTHON_IMAGE=", 1)[1].splitlines()[0]
    assert "USER 65532:65532" in text
    stages = [line.split()[-1] for line in text.splitlines() if line.startswith("FROM ")]
    assert {"build", "sidecar", "controlplane", "client"} <= set(stages)


def test_check_lists_the_build_stage_steps_with_a_venv_per_image() -> None:
    done = _check("--dry-run")
    assert done.returncode == 0, done.stderr
    steps = done.stdout.splitlines()
    assert len(steps) == 3
    sidecar = next(s for s in steps if "$VENVS/sidecar/" in s)
    # The slim image: core and the sidecar only.
    assert "pip install ./core ./sidecar " in sidecar
    assert "operator" not in sidecar
    assert any("./operator" in s and "./webhook" in s and "./cli" in s for s in steps)


@pytest.mark.parametrize(
    ("recipe", "complaint"),
    [
        ("FROM python AS base\nRUN true\n", "no RUN instruction in a stage named `build`"),
        ("FROM python AS build\nCOPY core/ /opt/core/\nRUN true\n", "must copy each folder"),
        ("FROM python AS build\nCOPY --chown=1 core/ core/\nRUN true\n", "must copy each folder"),
        ('FROM python AS build\nRUN ["pip", "install", "x"]\n', "use the shell form"),
    ],
)
def test_check_refuses_recipes_it_cannot_run_faithfully(
    tmp_path: Path, recipe: str, complaint: str
) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(recipe)
    done = _check("--dry-run", "--dockerfile", str(dockerfile))
    assert done.returncode == 2
    assert complaint in done.stderr


def test_check_fails_a_recipe_whose_install_step_breaks(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "FROM python AS build\nWORKDIR /src\nCOPY sdk/ sdk/\n"
        "RUN python -m venv /venv/client && /venv/client/bin/pip install ./no-such-package\n"
    )
    done = _check("--dockerfile", str(dockerfile))
    assert done.returncode == 1
    assert "install step failed" in done.stderr


@pytest.mark.slow
def test_dockerfile_install_steps_work_in_a_fresh_venv() -> None:
    done = _check()
    assert done.returncode == 0, done.stderr[-4000:]
    assert "every install step and entry point works" in done.stdout
