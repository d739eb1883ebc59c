"""Apps: the data key document appears once, wrapped by the root key; the compiled policy
carries the App's ServiceAccounts; a bad App names its field."""

from __future__ import annotations

from tests.kube import emulator
from tests.operator import conftest as c


async def test_an_app_gets_its_keys_document_policy_and_ready_status(
    kube: emulator.KubeEmulator,
) -> None:
    async with c.operator(kube):
        kube.create(c.app(serviceAccounts=["shop", "shop-worker"]))
        condition = await c.until(lambda: c.ready(kube, "apps", "shop"))
        assert condition["status"] == "True"
        keys = c.document(kube, "shop", "keys")
        policy = await c.until(lambda: c.document(kube, "shop", "policy"))
    assert keys is not None
    assert keys.version == 1
    assert policy is not None
    assert policy.body["serviceAccounts"] == ["shop", "shop-worker"]
    assert kube.get("secrets", "strongroom-root-keys", c.NAMESPACE) is not None
    assert kube.get("secrets", "strongroom-sealing-key", c.NAMESPACE) is not None
    assert condition["observedGeneration"] == 1
    assert condition["lastTransitionTime"]
