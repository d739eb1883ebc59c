"""`strongroom key export` / `import`: a round trip restores a lost keyring, the backup file is
0600 and never overwritten by accident, and a different keyring is never replaced without
--force."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path

import pytest

from strongroom_cli import main
from strongroom_core.sealing import rootkeys
from tests.cli_cluster import conftest


async def cli(*argv: str) -> int:
    return await asyncio.to_thread(main.main, list(argv))


async def forget_root_keys(target: conftest.Target, tmp_path: Path) -> None:
    """Lose the keyring as a disaster would: the file or the Secret is gone."""
    if isinstance(target.root_store, rootkeys.FileRootKeyStore):
        target.root_store.path.unlink()
        return
    kube = target.root_store.kube  # type: ignore[attr-defined]
    store = target.root_store
    await kube.request("DELETE", f"/api/v1/namespaces/{store.namespace}/secrets/{store.name}")  # type: ignore[attr-defined]
    store._resource_version = None  # type: ignore[attr-defined]


async def test_export_then_import_restores_every_grant_after_the_keyring_is_lost(
    target: conftest.Target, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await target.seed()
    backup = tmp_path / "root-keys.backup.json"
    assert await cli("key", "export", "--out", str(backup), *target.argv) == 0
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert json.loads(backup.read_text())["format"] == rootkeys.FORMAT
    await forget_root_keys(target, tmp_path)
    with pytest.raises(rootkeys.RootKeysMissingError):
        await target.root_store.load()
    assert await cli("key", "import", str(backup), *target.argv) == 0
    await target.assert_every_grant_readable()
    out = capsys.readouterr().out
    assert "exported 1 root keys" in out
    assert "imported 1 root keys" in out


async def test_importing_the_keyring_already_there_changes_nothing(
    target: conftest.Target, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await target.seed()
    backup = tmp_path / "backup.json"
    assert await cli("key", "export", "--out", str(backup), *target.argv) == 0
    assert await cli("key", "import", str(backup), *target.argv) == 0
    assert "nothing to do" in capsys.readouterr().out


async def test_import_refuses_to_replace_a_different_keyring_without_force(
    target: conftest.Target, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await target.seed()
    current = await target.root_store.load()
    other = rootkeys.new_root_keyring()
    backup = tmp_path / "other.json"
    backup.write_text(json.dumps(rootkeys.root_keyring_to_document(other)))
    assert await cli("key", "import", str(backup), *target.argv) == 2
    err = capsys.readouterr().err
    assert "different root keyring" in err
    assert "--force" in err
    assert (await target.root_store.load()).kids() == current.kids()


async def test_a_forced_import_activates_the_backup_and_keeps_the_keys_in_use(
    target: conftest.Target, tmp_path: Path
) -> None:
    await target.seed()
    current = await target.root_store.load()
    other = rootkeys.new_root_keyring()
    backup = tmp_path / "other.json"
    backup.write_text(json.dumps(rootkeys.root_keyring_to_document(other)))
    assert await cli("key", "import", str(backup), "--force", *target.argv) == 0
    final = await target.root_store.load()
    assert final.active.kid == other.active.kid
    assert set(final.kids()) == {other.active.kid, current.active.kid}
    await target.assert_every_grant_readable()


async def test_export_never_overwrites_an_existing_file_without_force(
    target: conftest.Target, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await target.seed()
    backup = tmp_path / "backup.json"
    backup.write_text("keep me")
    assert await cli("key", "export", "--out", str(backup), *target.argv) == 2
    assert "--force" in capsys.readouterr().err
    assert backup.read_text() == "keep me"
    backup.chmod(0o644)
    assert await cli("key", "export", "--out", str(backup), "--force", *target.argv) == 0
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert json.loads(backup.read_text())["format"] == rootkeys.FORMAT


@pytest.mark.parametrize(
    ("content", "message"),
    [("not json", "not JSON"), ('{"format": "other"}', "format"), (None, "cannot read")],
)
async def test_an_unusable_backup_file_is_named(
    target: conftest.Target,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    message: str,
) -> None:
    backup = tmp_path / "bad.json"
    if content is not None:
        backup.write_text(content)
    assert await cli("key", "import", str(backup), *target.argv) == 2
    err = capsys.readouterr().err
    assert str(backup) in err
    assert message in err


async def test_export_without_a_keyring_says_so(
    target: conftest.Target, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await cli("key", "export", "--out", str(tmp_path / "b.json"), *target.argv) == 2
    assert "no root keyring" in capsys.readouterr().err
    assert not (tmp_path / "b.json").exists()


async def test_import_over_an_unreadable_keyring_changes_nothing_and_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with conftest.dev_target(tmp_path / "state") as target:
        broken = tmp_path / "state" / "root-keys.json"
        broken.write_text('{"format": "strongroom.root-keys/v1", "keys": 3}')
        backup = tmp_path / "backup.json"
        backup.write_text(
            json.dumps(rootkeys.root_keyring_to_document(rootkeys.new_root_keyring()))
        )
        assert await cli("key", "import", str(backup), "--force", *target.argv) == 2
    assert "unreadable" in capsys.readouterr().err
    assert broken.read_text() == '{"format": "strongroom.root-keys/v1", "keys": 3}'
