"""`strongroom rotate`: every grant stays readable at every progress step, progress is one line
per step on stderr with the totals on stdout, old keys retire once nothing uses them."""

from __future__ import annotations

import asyncio

import pytest

from strongroom_cli import main
from strongroom_cli.commands import rotate
from strongroom_core.sealing import appkeys
from strongroom_core.storage import records
from tests.cli_cluster import conftest


async def test_root_rotation_keeps_every_grant_readable_at_every_step(
    target: conftest.Target,
) -> None:
    await target.seed()
    before = (await target.root_store.load()).active.kid
    steps: list[tuple[int, int, str]] = []

    async def check(done: int, total: int, what: str) -> None:
        await target.assert_every_grant_readable()
        steps.append((done, total, what))

    args = main.build_parser().parse_args(["rotate", "root", *target.argv])
    assert await rotate.rotate(args, observer=check) == 0
    assert [done for done, _, _ in steps] == [1, 2, 3, 4]
    after = await target.root_store.load()
    assert after.kids() == [after.active.kid]
    assert after.active.kid != before
    for namespace, app in conftest.APPS:
        document = await target.storage.get_document(namespace, app, "keys")
        assert document is not None
        assert appkeys.root_kids(document.body) == {after.active.kid}
    await target.assert_every_grant_readable()


async def test_app_rotation_reseals_every_grant_and_keeps_them_readable_at_every_step(
    target: conftest.Target,
) -> None:
    await target.seed()
    steps: list[str] = []

    async def check(done: int, total: int, what: str) -> None:
        await target.assert_every_grant_readable()
        steps.append(what)

    args = main.build_parser().parse_args(["rotate", "app", "team-a/shop", *target.argv])
    assert await rotate.rotate(args, observer=check) == 0
    assert len(steps) == conftest.APPS[("team-a", "shop")] + 2
    document = await target.storage.get_document("team-a", "shop", "keys")
    assert document is not None
    assert appkeys.app_kids(document.body) == [document.body["active"]]
    untouched = await target.storage.get_document("team-b", "blog", "keys")
    assert untouched is not None
    assert untouched.version == 1


async def test_progress_goes_to_stderr_and_the_totals_to_stdout(
    target: conftest.Target, capsys: pytest.CaptureFixture[str]
) -> None:
    await target.seed()
    code = await asyncio.to_thread(main.main, ["rotate", "app", "team-a/shop", *target.argv])
    assert code == 0
    out, err = capsys.readouterr()
    lines = [line for line in err.splitlines() if line.startswith("[")]
    assert lines[0].startswith("[1/5] App team-a/shop: key ")
    assert lines[-1].startswith("[5/5] App team-a/shop: old keys dropped: ")
    assert "3 grants re-sealed" in out
    assert "still in use none" in out
    assert not any(secret in out + err for secret in target.secrets.values())


async def test_rotating_an_app_without_keys_names_it(
    target: conftest.Target, capsys: pytest.CaptureFixture[str]
) -> None:
    await target.seed()
    code = await asyncio.to_thread(main.main, ["rotate", "app", "team-a/nope", *target.argv])
    assert code == 2
    assert "team-a/nope has no keys document" in capsys.readouterr().err


@pytest.mark.parametrize("ref", ["shop", "team-a/", "/shop", "a/b/c"])
def test_a_malformed_app_reference_is_refused(ref: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main.main(["rotate", "app", ref, "--state-dir", "/nonexistent"]) == 2
    assert "NAMESPACE/APP" in capsys.readouterr().err


def test_rotation_without_dev_state_or_cluster_says_what_to_pass(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main.main(["rotate", "root", "--state-dir", "/nonexistent/strongroom"]) == 2
    assert "--kubeconfig" in capsys.readouterr().err


async def test_a_rotation_is_audited_in_dev_mode_and_says_when_it_is_not_on_a_cluster(
    target: conftest.Target, capsys: pytest.CaptureFixture[str]
) -> None:
    await target.seed()
    code = await asyncio.to_thread(main.main, ["rotate", "app", "team-a/shop", *target.argv])
    assert code == 0
    err = capsys.readouterr().err
    if "--state-dir" in target.argv:
        assert "audited: key.rotated in dev state" in err
        found = await target.storage.query_audit(
            records.AuditQuery(limit=10, extra={"kind": "key.rotated"})
        )
        (event,) = found
        assert (event["namespace"], event["app"], event["decision"]) == ("team-a", "shop", "allow")
        assert str(event["caller"]).startswith("cli/")
        assert not any(secret in str(event) for secret in target.secrets.values())
    else:
        assert "not audited: pass --server URL --token-file FILE" in err


async def test_a_server_without_a_token_file_is_refused_before_anything_rotates(
    target: conftest.Target, capsys: pytest.CaptureFixture[str]
) -> None:
    await target.seed()
    before = (await target.root_store.load()).active.kid
    argv = ["rotate", "root", *target.argv, "--server", "https://127.0.0.1:9"]
    assert await asyncio.to_thread(main.main, argv) == 2
    assert "--token-file: required with --server" in capsys.readouterr().err
    assert (await target.root_store.load()).active.kid == before
