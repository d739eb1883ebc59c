"""``ApiWorld``: an ``authenticating.SidecarWorld`` made only of API calls, so the same class
serves the emulator tests and a real cluster. Pods are created through the API (shaped as the
webhook leaves them; they need not run: the control plane reads their spec), tokens come from
TokenRequest bound to them, and the control plane is called at ``control_plane_url`` — on a
cluster through the API server's service proxy, with the caller's token in
``Strongroom-Authorization`` (the proxy puts its own credentials in ``Authorization``)."""

from __future__ import annotations

import dataclasses
import ssl
from typing import Any

import aiohttp

from strongroom_core import podspec
from tests import canary
from tests.scenarios import api as cluster_api
from tests.scenarios import manifests as m

SERVICE_ACCOUNTS = ("shop", "intruder")


def service_proxy_url(server: str, control_plane_namespace: str) -> str:
    return (
        f"{server}/api/v1/namespaces/{control_plane_namespace}"
        "/services/https:strongroom-controlplane:8443/proxy"
    )


@dataclasses.dataclass
class ApiWorld:
    api: cluster_api.ClusterApi
    session: aiohttp.ClientSession
    sidecar_image: str
    """The image the control plane accepts as the injected sidecar."""
    control_plane_url: str
    ssl: ssl.SSLContext | bool = True
    """For calls to the control plane; ``True``: the session's own."""

    @property
    def namespace(self) -> str:
        return self.api.namespace

    async def prepare(self) -> None:
        """ServiceAccounts ``shop`` and ``intruder``, and App ``shop`` allowing ``shop``."""
        for account in SERVICE_ACCOUNTS:
            if await self.api.get("serviceaccounts", account) is None:
                await self.api.create(m.service_account(self.namespace, account))
        if await self.api.get("apps", "shop") is None:
            await self.api.create(m.app(self.namespace))

    async def pod(self, name: str, *, sidecar: bool = True, service_account: str = "shop") -> Any:
        image = self.sidecar_image if sidecar else None
        manifest = m.pod(self.namespace, name, sidecar_image=image, service_account=service_account)
        return await self.api.create(manifest)

    async def token(self, pod: Any, audience: str = podspec.TOKEN_AUDIENCE) -> str:
        meta, account = pod["metadata"], pod["spec"]["serviceAccountName"]
        request = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {
                "audiences": [audience],
                "expirationSeconds": 600,
                "boundObjectRef": {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "name": meta["name"],
                    "uid": meta["uid"],
                },
            },
        }
        path = f"/api/v1/namespaces/{self.namespace}/serviceaccounts/{account}/token"
        answer = await self.api.kube.request("POST", path, body=request)
        token = str(answer["status"]["token"])
        canary.register(token)
        return token

    async def delete_pod(self, pod: Any) -> None:
        name = pod["metadata"]["name"]
        path = cluster_api.path("pods", self.namespace, name)
        await self.api.kube.request("DELETE", path, body={"gracePeriodSeconds": 0})

        async def gone() -> bool:
            return await self.api.get("pods", name) is None

        await self.api.until(gone, f"pod {name} deleted")

    async def get(self, path: str, token: str) -> tuple[int, dict[str, Any]]:
        headers = {"Strongroom-Authorization": f"Bearer {token}"}
        own = self.api.kube.cluster.read_token()
        if own:
            headers["Authorization"] = f"Bearer {own}"  # for the API server's service proxy
        url = self.control_plane_url + path
        async with self.session.get(url, headers=headers, ssl=self.ssl) as response:
            return response.status, await response.json(content_type=None)
