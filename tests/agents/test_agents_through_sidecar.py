"""Agents end to end through dev mode: first keys handed over once in a 0600 file, the access
set enforced by the sidecar, suspension within seconds, and rotation with an overlap through
`strongroom agent rotate` and the control plane."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import stat
import time

import pytest

from strongroom_cli import main as cli
from strongroom_cli.commands import dev
from strongroom_cli.devmode import environment
from strongroom_core.agents import keys
from strongroom_core.storage import records
from tests import canary
from tests.agents import conftest
from tests.jwt_e2e import devworld


def as_agent(key: str, **headers: str) -> dict[str, str]:
    return {"Strongroom-Agent-Key": key, **headers}


async def test_a_new_agents_first_key_is_written_once_to_a_private_file(
    agents_env: environment.DevEnvironment,
) -> None:
    path = agents_env.options.state_dir / "agents" / "ci-bot.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    key = path.read_text().strip()
    assert keys.kid_of(key)
    stored = await agents_env.storage.get_document("default", "demo", "agent-keys.ci-bot")
    assert stored is not None
    assert key not in json.dumps(stored.body)
    assert stored.body["keys"][0]["sha256"] == keys.digest(key)
    await agents_env.reload()
    assert conftest.key_of(agents_env, "ci-bot") == key, "a reload issues no new key"


async def test_an_agent_uses_a_grant_its_access_set_names_and_audit_names_the_agent(
    agents_env: environment.DevEnvironment,
) -> None:
    key = conftest.key_of(agents_env, "ci-bot")
    reply = await devworld.call(agents_env, as_agent(key, **{"Strongroom-Grant": "echo-demo"}))
    assert reply.status == 200, reply
    assert reply.body["credential_ok"] is True
    event = await devworld.audit_event(agents_env, reply.audit_id)
    assert (event["caller"], event["grant"], event["decision"]) == (
        "agent/ci-bot",
        "echo-demo",
        "allow",
    )
    assert "spec.access[0] names grant echo-demo" in event["reason"]
    assert canary.found_in(json.dumps(event)) == []


async def test_rules_scoped_to_an_agent_caller_apply_to_that_agent_only(
    agents_env: environment.DevEnvironment,
) -> None:
    key = conftest.key_of(agents_env, "ci-bot")
    named = {"Strongroom-Grant": "echo-demo"}
    by_agent = await devworld.call(agents_env, as_agent(key, **named), method="POST")
    assert (by_agent.status, by_agent.code) == (403, "policy_denied")
    assert 'rule 0 "bot-reads"' in by_agent.body["detail"]
    by_pod = await devworld.call(agents_env, named, method="POST")
    assert by_pod.status == 200


async def test_an_agent_outside_its_access_set_is_refused_naming_it(
    agents_env: environment.DevEnvironment,
) -> None:
    key = conftest.key_of(agents_env, "ci-bot")
    reply = await devworld.call(agents_env, as_agent(key, **{"Strongroom-Grant": "twin-a"}))
    assert (reply.status, reply.code) == (403, "policy_denied")
    assert "access set (spec.access)" in reply.body["detail"]
    event = await devworld.audit_event(agents_env, reply.audit_id)
    assert (event["caller"], event["decision"]) == ("agent/ci-bot", "deny")
    assert "spec.access" in event["reason"]
    by_provider = await devworld.call(
        agents_env, as_agent(key, **{"Strongroom-Provider": "deadend"})
    )
    assert (by_provider.status, by_provider.code) == (403, "policy_denied")


async def test_a_provider_entry_lets_the_agent_use_that_providers_grants(
    agents_env: environment.DevEnvironment,
) -> None:
    key = conftest.key_of(agents_env, "reporter")
    named = await devworld.call(agents_env, as_agent(key, **{"Strongroom-Grant": "echo-demo"}))
    assert named.status == 200, named
    alone = await devworld.call(agents_env, as_agent(key, **{"Strongroom-Provider": "echo"}))
    assert alone.status == 200, alone
    event = await devworld.audit_event(agents_env, alone.audit_id)
    assert (event["grant"], event["caller"]) == ("echo-demo", "agent/reporter")
    assert "spec.access[0] allows provider echo" in event["reason"]
    other = await devworld.call(agents_env, as_agent(key, **{"Strongroom-Grant": "twin-a"}))
    assert other.code == "policy_denied"


async def test_an_agent_grant_is_its_agents_alone(
    agents_env: environment.DevEnvironment,
) -> None:
    own = await devworld.call(
        agents_env,
        as_agent(conftest.key_of(agents_env, "ci-bot"), **{"Strongroom-Provider": "twin"}),
    )
    assert own.status == 200, own
    event = await devworld.audit_event(agents_env, own.audit_id)
    assert (event["grant"], event["principal"]) == ("bot-own", "agent:ci-bot")
    other = await devworld.call(
        agents_env,
        as_agent(conftest.key_of(agents_env, "reporter"), **{"Strongroom-Grant": "bot-own"}),
    )
    assert (other.status, other.code) == (403, "principal_mismatch")
    nobody = await devworld.call(agents_env, {"Strongroom-Grant": "bot-own"})
    assert (nobody.status, nobody.code) == (401, "invalid_agent_key")


async def test_wrong_keys_are_refused_as_invalid_agent_key(
    agents_env: environment.DevEnvironment,
) -> None:
    real = conftest.key_of(agents_env, "ci-bot")
    stranger = keys.generate().plaintext
    forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    for key in ("not-a-key", stranger, forged):
        canary.register(key)
        reply = await devworld.call(agents_env, as_agent(key, **{"Strongroom-Grant": "echo-demo"}))
        assert (reply.status, reply.code) == (401, "invalid_agent_key"), key[:8]
        assert key not in json.dumps(reply.body)


async def _code_with(env: environment.DevEnvironment, key: str) -> str | None:
    reply = await devworld.call(env, as_agent(key, **{"Strongroom-Grant": "echo-demo"}))
    return reply.code if reply.code else str(reply.status)


async def test_a_suspended_agent_is_refused_within_seconds_and_works_again_when_resumed(
    agents_env: environment.DevEnvironment,
) -> None:
    key = conftest.key_of(agents_env, "ci-bot")
    assert await _code_with(agents_env, key) == "200"
    folder = agents_env.options.folder
    text = (folder / "zz-agents.yaml").read_text()
    suspended = text.replace(
        conftest.agent_yaml("ci-bot", "[{grant: echo-demo}]"),
        conftest.agent_yaml("ci-bot", "[{grant: echo-demo}]", suspended=True),
    )
    assert suspended != text
    (folder / "zz-agents.yaml").write_text(suspended)
    started = time.monotonic()
    await agents_env.reload()

    async def refused() -> bool:
        return await _code_with(agents_env, key) == "agent_suspended"

    await devworld.eventually(refused, within=5.0, what="suspension")
    assert time.monotonic() - started < 5.0
    (folder / "zz-agents.yaml").write_text(text)
    await agents_env.reload()

    async def resumed() -> bool:
        return await _code_with(agents_env, key) == "200"

    await devworld.eventually(resumed, within=5.0, what="resumption")


def _rotate(state_dir: str, *arguments: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(["agent", "rotate", *arguments, "--state-dir", state_dir])
    return code, out.getvalue(), err.getvalue()


async def test_a_rotated_key_works_during_the_overlap_and_not_after(
    agents_env: environment.DevEnvironment,
) -> None:
    old = conftest.key_of(agents_env, "ci-bot")
    state_dir = str(agents_env.options.state_dir)
    code, out, err = await asyncio.to_thread(_rotate, state_dir, "ci-bot", "--overlap", "2")
    assert code == 0, err
    new = out.strip()
    canary.register(new)
    assert keys.kid_of(new) != keys.kid_of(old)
    assert new not in err
    assert "stop working at" in err

    async def new_works() -> bool:
        return await _code_with(agents_env, new) == "200"

    await devworld.eventually(new_works, within=5.0, what="the new key working")
    assert await _code_with(agents_env, old) == "200", "the old key works during the overlap"

    async def old_refused() -> bool:
        return await _code_with(agents_env, old) == "invalid_agent_key"

    await devworld.eventually(old_refused, within=10.0, what="the old key's end")
    assert await _code_with(agents_env, new) == "200"
    rotated = await agents_env.storage.query_audit(
        records.AuditQuery(limit=50, extra={"kind": "key.rotated"})
    )
    assert [e["principal"] for e in rotated] == ["agent:ci-bot"]
    assert canary.found_in(json.dumps(rotated)) == []


async def test_rotating_an_unknown_agent_fails_with_a_message_and_prints_no_key(
    agents_env: environment.DevEnvironment,
) -> None:
    state_dir = str(agents_env.options.state_dir)
    code, out, err = await asyncio.to_thread(_rotate, state_dir, "ghost")
    assert code == 2
    assert out == ""
    assert "HTTP 404" in err
    assert "ghost" in err


@pytest.mark.parametrize("overlap", ["-1"])
async def test_a_negative_overlap_is_refused_before_anything_is_sent(
    agents_env: environment.DevEnvironment, overlap: str
) -> None:
    state_dir = str(agents_env.options.state_dir)
    code, out, err = await asyncio.to_thread(_rotate, state_dir, "ci-bot", "--overlap", overlap)
    assert (code, out) == (2, "")
    assert "--overlap" in err


async def test_strongroom_dev_prints_where_a_new_key_is_never_the_key(
    agents_env: environment.DevEnvironment,
) -> None:
    key = conftest.key_of(agents_env, "ci-bot")
    out = io.StringIO()
    dev.print_banner(agents_env, out)
    printed = out.getvalue()
    assert str(agents_env.options.state_dir / "agents" / "ci-bot.key") in printed
    assert key not in printed
    again = io.StringIO()
    dev.print_banner(agents_env, again)
    assert "ci-bot.key" not in again.getvalue(), "each key file is announced once"
