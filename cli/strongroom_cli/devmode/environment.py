"""Everything `strongroom dev` runs, in one process: SQLite storage, the control plane, the echo
upstream and one sidecar, all on loopback. Tests start it with port 0 everywhere."""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from strongroom_cli import devstate, sealing_client
from strongroom_cli.devmode import echo_upstream, folder
from strongroom_core.resources import models
from strongroom_core.sealing import publickey, rootkeys
from strongroom_core.storage import sqlite
from strongroom_operator.controlplane import auth, keyservice, server
from strongroom_operator.reconcile import agents, batch, context, outcomes, secretrefs
from strongroom_sidecar import app as sidecar_app
from strongroom_sidecar import settings as sidecar_settings

ECHO_ANNOTATION = "strongroom.dev/dev-echo"


class DevModeError(Exception):
    """Dev mode cannot start as asked; the message says what to change."""


@dataclass(frozen=True, slots=True)
class DevOptions:
    folder: Path = Path("examples")
    """The folder of App, Provider, Grant and Agent YAML."""
    app: str | None = None
    """Which App's sidecar to run when the folder defines several."""
    state_dir: Path = devstate.DEFAULT_STATE_DIR
    """SQLite database, keys and tokens; kept across runs."""
    host: str = "127.0.0.1"
    control_plane_port: int = 15070
    proxy_port: int = 15080
    health_port: int = 15081
    echo_port: int = 15090
    audit_stdout: bool = True
    """Print every audit event as a JSON line (the sidecar's own stdout)."""
    audit_buffer_size: int = 10000
    """Audit events the sidecar holds while the control plane is away; then calls get 503."""
    sidecar_overrides: Mapping[str, Any] = field(default_factory=dict)
    """Extra ``SidecarSettings`` fields (tests: e.g. ``jwks_min_refetch_seconds``)."""


@dataclass(slots=True)
class DevEnvironment:
    options: DevOptions
    app: models.App
    loaded: folder.FolderLoad
    report: batch.Report
    control_plane_url: str
    sidecar_url: str
    health_url: str
    echo_url: str
    storage: sqlite.SqliteStorage
    _ctx: context.ReconcileContext
    _control_plane: web.AppRunner
    _echo: echo_upstream.EchoServer
    _sidecar: sidecar_app.Sidecar
    _echo_credential: str = field(repr=False)
    agent_key_files: list[Path] = field(default_factory=list)
    """Files written this run with a new agent key (each key once; printed by `strongroom dev`)."""

    @classmethod
    async def start(cls, options: DevOptions) -> DevEnvironment:
        loaded = folder.load(options.folder)
        app = choose_app(loaded.apps(), options.app)
        state = devstate.DevState(options.state_dir)
        state.prepare()
        storage = sqlite.SqliteStorage(state.database)
        await storage.open()
        try:
            return await cls._start_on(options, loaded, app, state, storage)
        except BaseException:
            await storage.close()
            raise

    @classmethod
    async def _start_on(
        cls,
        options: DevOptions,
        loaded: folder.FolderLoad,
        app: models.App,
        state: devstate.DevState,
        storage: sqlite.SqliteStorage,
    ) -> DevEnvironment:
        root_store = rootkeys.FileRootKeyStore(state.root_keys)
        await rootkeys.load_or_create(root_store)
        sealing_key = _sealing_key(state)
        keys = keyservice.KeyService(storage, root_store)
        key_files: list[Path] = []
        ctx = context.ReconcileContext(
            storage=storage,
            key_service=keys,
            sealing_key=sealing_key,
            secrets=secretrefs.MappingSecrets(loaded.secrets),
            agent_keys=_agent_key_writer(state, key_files),
        )
        echo_credential = secrets.token_urlsafe(32)
        report = await batch.reconcile_all(
            ctx, with_echo_credentials(loaded.resources, sealing_key, echo_credential)
        )

        sidecar_token = secrets.token_urlsafe(32)
        namespace, app_name = app.key
        authenticator = auth.StaticTokenAuthenticator(
            {
                sidecar_token: auth.Caller("sidecar", "dev/sidecar", namespace, app_name),
                state.token(state.admin_token_file): auth.Caller("admin", "dev/admin"),
            }
        )
        control_plane = server.ControlPlane(storage, keys, sealing_key, authenticator)
        runner, cp_port = await server.start(
            control_plane, options.host, options.control_plane_port
        )
        control_plane_url = f"http://{options.host}:{cp_port}"
        echo = await echo_upstream.start(echo_credential, options.host, options.echo_port)
        sidecar = sidecar_app.Sidecar(
            sidecar_settings.SidecarSettings(
                control_plane_url=control_plane_url,
                namespace=namespace,
                app=app_name,
                caller="dev/sidecar",
                control_plane_token=sidecar_token,
                listen_host=options.host,
                proxy_port=options.proxy_port,
                health_host=options.host,
                health_port=options.health_port,
                allow_loopback_targets=True,
                audit_stdout=options.audit_stdout,
                audit_buffer_size=options.audit_buffer_size,
                shutdown_grace=5.0,
                **dict(options.sidecar_overrides),
            )
        )
        try:
            await sidecar.start()
            await sidecar.wait_ready()
        except BaseException:
            await sidecar.stop()
            await echo.stop()
            await runner.cleanup()
            raise
        state.write_info(control_plane_url, namespace, app_name)
        return cls(
            options=options,
            app=app,
            loaded=loaded,
            report=report,
            control_plane_url=control_plane_url,
            sidecar_url=f"http://{options.host}:{sidecar.proxy_port}",
            health_url=f"http://{options.host}:{sidecar.health_port}",
            echo_url=f"http://{options.host}:{echo.port}",
            storage=storage,
            _ctx=ctx,
            _control_plane=runner,
            _echo=echo,
            _sidecar=sidecar,
            _echo_credential=echo_credential,
            agent_key_files=key_files,
        )

    async def reload(self) -> None:
        """Load the folder again and reconcile what changed; an immutable-field change keeps
        the served version and is reported in ``loaded.problems``."""
        previous = {r.ref: r for r in self.loaded.resources}
        loaded = folder.load(self.options.folder, previous=previous)
        if isinstance(self._ctx.secrets, secretrefs.MappingSecrets):
            self._ctx.secrets.replace(loaded.secrets)
        resources = with_echo_credentials(
            loaded.resources, self._ctx.sealing_key, self._echo_credential
        )
        self.report = await batch.reconcile_all(self._ctx, resources)
        self.loaded = loaded

    async def stop(self) -> None:
        await self._sidecar.stop()
        await self._echo.stop()
        await self._control_plane.cleanup()
        await self.storage.close()


def choose_app(apps: list[models.App], wanted: str | None) -> models.App:
    names = sorted(f"{a.meta.namespace}/{a.meta.name}" for a in apps)
    if not apps:
        raise DevModeError("the folder defines no valid App; add one (see examples/app.yaml)")
    if wanted is not None:
        for candidate in apps:
            if wanted in (candidate.meta.name, f"{candidate.meta.namespace}/{candidate.meta.name}"):
                return candidate
        raise DevModeError(f"--app {wanted}: no such App; the folder defines {', '.join(names)}")
    if len(apps) > 1:
        raise DevModeError(
            f"the folder defines {len(apps)} Apps ({', '.join(names)}); "
            "pick the one whose sidecar listens on 15080 with --app NAME"
        )
    return apps[0]


def with_echo_credentials(
    resources: list[models.Resource], sealing_key: publickey.SealingKey, credential: str
) -> list[models.Resource]:
    """Give every credential-less Grant of an echo Provider the dev credential, sealed exactly
    as `strongroom seal` seals (to the control plane's public key, bound to the grant)."""
    echo_providers = {
        r.key
        for r in resources
        if isinstance(r, models.Provider) and r.meta.annotations.get(ECHO_ANNOTATION) == "true"
    }
    result: list[models.Resource] = []
    for resource in resources:
        if (
            isinstance(resource, models.Grant)
            and resource.credential is None
            and (resource.meta.namespace, resource.provider_ref) in echo_providers
        ):
            sealed = sealing_client.seal_credential(
                sealing_key.public_pem(),
                namespace=resource.meta.namespace,
                grant=resource.meta.name,
                provider=resource.provider_ref,
                credential={"token": credential},
            )
            resource = dataclasses.replace(
                resource, credential=models.Credential(sealed_value=sealed)
            )
        result.append(resource)
    return result


def _agent_key_writer(
    state: devstate.DevState, written: list[Path]
) -> Callable[[agents.IssuedKey], Awaitable[None]]:
    """Dev mode hands a new Agent's first key over as ``<state>/agents/<name>.key`` (0600)."""

    async def write(key: agents.IssuedKey) -> None:
        folder = state.root / "agents"
        folder.mkdir(mode=0o700, exist_ok=True)
        path = folder / f"{key.agent}.key"
        devstate.write_private(path, key.plaintext + "\n")
        written.append(path)

    return write


def _sealing_key(state: devstate.DevState) -> publickey.SealingKey:
    if state.sealing_key.exists():
        key = publickey.SealingKey.from_document(json.loads(state.sealing_key.read_text()))
    else:
        key = publickey.SealingKey.generate()
        devstate.write_private(state.sealing_key, json.dumps(key.to_document()) + "\n")
    state.public_key_file.write_text(key.public_pem())
    return key


def problems_of(report: batch.Report) -> dict[models.Ref, outcomes.Outcome]:
    return {ref: outcome for ref, outcome in report.items() if not outcome.ok}
