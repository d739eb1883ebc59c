"""The provider's client secret reaches the sidecar sealed inside the compiled policy, resolved
from ``spec.oauth2.clientSecretRef``; in dev mode from ``v1`` Secret documents in the folder."""

from __future__ import annotations

import base64
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from strongroom_cli import sealing_client
from strongroom_cli.devmode import environment, folder
from strongroom_core import tokens
from strongroom_core.resources import loading, models
from strongroom_core.sealing import errors, providersecrets, publickey, rootkeys
from strongroom_core.storage import sqlite
from strongroom_operator.controlplane import keyservice
from strongroom_operator.reconcile import context, policies, secretrefs
from tests import canary
from tests.devfixtures import options
from tests.refresh import harness
from tests.refresh import provider as provider_module

APP = """
apiVersion: strongroom.dev/v1alpha1
kind: App
metadata: {name: demo, namespace: default}
spec: {serviceAccounts: [demo]}
"""


def oauth_provider(token_url: str, *, method: str = "client_secret_basic", key: str = "") -> str:
    ref = "" if method == "none" else f"clientSecretRef: {{name: api-oauth{key}}}"
    return f"""
apiVersion: strongroom.dev/v1alpha1
kind: Provider
metadata: {{name: api, namespace: default}}
spec:
  appRef: demo
  type: oauth2
  allowedHosts: ["127.0.0.1:1"]
  oauth2:
    tokenURL: {token_url}
    clientId: {provider_module.CLIENT_ID}
    clientAuthMethod: {method}
    {ref}
"""


def secret_document(value: str, *, encoded: bool = False, key: str = "clientSecret") -> str:
    if encoded:
        data = f"data: {{{key}: {base64.b64encode(value.encode()).decode()}}}"
    else:
        data = f"stringData: {{{key}: '{value}'}}"
    return f"""
apiVersion: v1
kind: Secret
metadata: {{name: api-oauth, namespace: default}}
type: Opaque
{data}
"""


def parse(*documents: str) -> list[models.Resource]:
    loaded = loading.load_documents("---\n".join(documents), "test.yaml", allow_loopback_http=True)
    resources = [r for r in loaded if not isinstance(r, loading.LoadFailure)]
    assert len(resources) == len(loaded), [str(f) for f in loaded]
    return resources


@pytest.fixture
async def ctx(tmp_path: Path) -> AsyncIterator[context.ReconcileContext]:
    storage = sqlite.SqliteStorage(tmp_path / "db.sqlite")
    await storage.open()
    root = rootkeys.FileRootKeyStore(tmp_path / "root.json")
    await rootkeys.load_or_create(root)
    yield context.ReconcileContext(
        storage=storage,
        key_service=keyservice.KeyService(storage, root),
        sealing_key=publickey.SealingKey.generate(),
    )
    await storage.close()


async def _compile(
    ctx: context.ReconcileContext, resources: list[models.Resource]
) -> tuple[dict[str, object], dict[models.Ref, object]]:
    app = next(r for r in resources if isinstance(r, models.App))
    providers = [r for r in resources if isinstance(r, models.Provider)]
    sealed, outcomes = await policies.seal_client_secrets(ctx, app, providers)
    compiled = policies.compile_policy(app, providers, [], sealed)
    return dict(compiled), dict(outcomes)


async def test_client_secret_is_sealed_into_the_policy_bound_to_app_and_provider(
    ctx: context.ReconcileContext,
) -> None:
    secret = canary.new("client-secret")
    resources = parse(APP, oauth_provider("https://auth.example.com/token"))
    reader = secretrefs.MappingSecrets({("default", "api-oauth"): {"clientSecret": secret}})
    ctx = context.ReconcileContext(ctx.storage, ctx.key_service, ctx.sealing_key, secrets=reader)

    compiled, outcomes = await _compile(ctx, resources)

    assert {o.state for o in outcomes.values()} == {"Ready"}  # type: ignore[attr-defined]
    oauth2 = compiled["providers"]["api"]["oauth2"]  # type: ignore[index]
    assert secret not in repr(compiled)
    keyring = await ctx.key_service.ensure_app_keys("default", "demo")
    sealed = oauth2["clientSecretSealed"]
    opened = providersecrets.open_client_secret(
        keyring, sealed, namespace="default", app="demo", provider="api"
    )
    assert opened == secret
    with pytest.raises(errors.SealingError):
        providersecrets.open_client_secret(
            keyring, sealed, namespace="default", app="demo", provider="other"
        )
    again, _ = await _compile(ctx, resources)
    assert again["digest"] == compiled["digest"], "sealing again does not change the digest"
    reader.replace({("default", "api-oauth"): {"clientSecret": canary.new("rotated")}})
    rotated, _ = await _compile(ctx, resources)
    assert rotated["digest"] != compiled["digest"]


@pytest.mark.parametrize(
    ("secrets", "expected"),
    [
        (None, 'spec.oauth2.clientSecretRef: Secret "api-oauth" cannot be read here'),
        ({}, 'spec.oauth2.clientSecretRef: Secret "api-oauth" not found in namespace "default"'),
        (
            {("default", "api-oauth"): {"other": "x"}},
            'spec.oauth2.clientSecretRef.key: Secret "api-oauth" has no (non-empty) key '
            '"clientSecret"',
        ),
    ],
)
async def test_unresolvable_client_secret_leaves_the_provider_pending_naming_the_field(
    secrets: dict[tuple[str, str], dict[str, str]] | None,
    expected: str,
    ctx: context.ReconcileContext,
) -> None:
    reader = None if secrets is None else secretrefs.MappingSecrets(secrets)
    ctx = context.ReconcileContext(ctx.storage, ctx.key_service, ctx.sealing_key, secrets=reader)
    resources = parse(APP, oauth_provider("https://auth.example.com/token"))

    compiled, outcomes = await _compile(ctx, resources)

    (outcome,) = outcomes.values()
    assert outcome.state == "Pending"  # type: ignore[attr-defined]
    assert outcome.reason == "ClientSecretMissing"  # type: ignore[attr-defined]
    assert outcome.message.startswith(expected)  # type: ignore[attr-defined]
    assert "clientSecretSealed" not in compiled["providers"]["api"]["oauth2"]  # type: ignore[index]


async def test_public_client_gets_no_secret(ctx: context.ReconcileContext) -> None:
    resources = parse(APP, oauth_provider("https://auth.example.com/token", method="none"))

    compiled, outcomes = await _compile(ctx, resources)

    assert [o.state for o in outcomes.values()] == ["Ready"]  # type: ignore[attr-defined]
    assert "clientSecretSealed" not in compiled["providers"]["api"]["oauth2"]  # type: ignore[index]


def test_dev_folder_secret_documents_resolve_references_quietly(tmp_path: Path) -> None:
    secret = canary.new("client-secret")
    (tmp_path / "a.yaml").write_text(
        "---\n".join([APP, oauth_provider("https://auth.example.com/token")])
    )
    (tmp_path / "secret.yaml").write_text(secret_document(secret, encoded=True))
    (tmp_path / "plain.yml").write_text(
        secret_document(secret, key="other").replace("api-oauth", "plain")
    )

    loaded = folder.load(tmp_path)

    assert loaded.problems == []
    assert loaded.secrets[("default", "api-oauth")] == {"clientSecret": secret}
    assert loaded.secrets[("default", "plain")] == {"other": secret}
    assert secret not in repr(loaded)


def test_malformed_secret_document_is_a_problem_that_names_the_field_not_the_value(
    tmp_path: Path,
) -> None:
    (tmp_path / "bad.yaml").write_text(
        textwrap.dedent(
            """\
            apiVersion: v1
            kind: Secret
            metadata: {name: broken}
            data: {clientSecret: "not base64 at all!"}
            ---
            apiVersion: v2
            kind: Secret
            metadata: {name: future}
            """
        )
    )

    loaded = folder.load(tmp_path)

    assert len(loaded.problems) == 2
    assert (
        "Secret: data.clientSecret: not base64 of UTF-8 text; use stringData" in loaded.problems[0]
    )
    assert "not base64 at all" not in loaded.problems[0]
    assert "Secret: apiVersion: must be v1 for a Secret" in loaded.problems[1]
    assert loaded.secrets == {}


async def test_dev_mode_refreshes_with_the_client_secret_from_a_secret_document(
    tmp_path: Path,
    token_endpoint: provider_module.TokenEndpoint,
    api: provider_module.Api,
    http: aiohttp.ClientSession,
) -> None:
    resources = tmp_path / "resources"
    resources.mkdir()
    provider_yaml = oauth_provider(token_endpoint.url).replace(
        '"127.0.0.1:1"', f'"127.0.0.1:{api.port}"'
    )
    (resources / "app.yaml").write_text("---\n".join([APP, provider_yaml]))
    (resources / "secret.yaml").write_text(secret_document(token_endpoint.client_secret))
    env = await environment.DevEnvironment.start(
        options(resources, tmp_path / "state", echo_port=0)
    )
    try:
        assert env.loaded.problems == []
        assert all(outcome.ok for outcome in env.report.values()), env.report
        first = token_endpoint.issue(ttl=-1)
        response = tokens.wrap_token_response(
            {
                "access_token": first.access_token,
                "refresh_token": first.refresh_token,
                "expires_in": -1,
                "token_type": "bearer",
            }
        )
        sealed = sealing_client.seal_credential(
            env._ctx.sealing_key.public_pem(),
            namespace="default",
            grant="api-system",
            provider="api",
            credential=response,
        )
        (resources / "grant.yaml").write_text(
            textwrap.dedent(
                f"""\
                apiVersion: strongroom.dev/v1alpha1
                kind: Grant
                metadata: {{name: api-system, namespace: default}}
                spec:
                  appRef: demo
                  providerRef: api
                  principal: {{kind: system, id: demo}}
                  credential: {{sealedValue: "{sealed}"}}
                """
            )
        )
        await env.reload()
        assert env.loaded.problems == []

        async def served() -> bool:
            async with http.get(
                env.sidecar_url + "/proxy",
                headers={"Strongroom-Target": api.url(), "Strongroom-Grant": "api-system"},
            ) as answer:
                return answer.status == 200

        await harness.eventually(served)
        (call,) = token_endpoint.calls
        assert call["basic_secret_ok"], "the secret from the Secret document was used"
        assert call["form"]["refresh_token"] == first.refresh_token
    finally:
        await env.stop()
