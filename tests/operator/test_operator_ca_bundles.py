"""The control plane's CA as ConfigMap ``strongroom-ca`` in every namespace with an App: made
when an App arrives, kept current when the CA changes (from a ConfigMap or a Secret), deleted
with the namespace's last App, and never touched when someone else owns it."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from strongroom_operator.kopfhandlers import cabundles
from tests.kube import emulator
from tests.operator import conftest as c

CA_ONE = "-----BEGIN CERTIFICATE-----\nONE\n-----END CERTIFICATE-----\n"
CA_TWO = "-----BEGIN CERTIFICATE-----\nTWO\n-----END CERTIFICATE-----\n"
SOURCE = ("configmap", c.NAMESPACE, "strongroom-ca")


def source_configmap(ca: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "strongroom-ca", "namespace": c.NAMESPACE},
        "data": {"ca.crt": ca},
    }


def _listed_apps(kube: emulator.KubeEmulator) -> bool:
    """The operator has looked for Apps left in team-a (after a deletion)."""
    return ("GET", "/apis/strongroom.dev/v1alpha1/namespaces/team-a/apps") in kube.requests


def published(kube: emulator.KubeEmulator, ns: str = "team-a") -> str | None:
    found = kube.get("configmaps", "strongroom-ca", ns)
    return None if found is None else found["data"].get("ca.crt")


async def test_a_namespace_gets_the_ca_with_its_first_app_follows_changes_loses_it_with_the_last(
    kube: emulator.KubeEmulator,
) -> None:
    kube.create(source_configmap(CA_ONE))
    async with c.operator(kube, ca_source=SOURCE, ca_check_seconds=0.2):
        kube.create(c.app("shop"))
        kube.create(c.app("blog"))
        await c.until(lambda: published(kube) == CA_ONE)
        made = kube.get("configmaps", "strongroom-ca", "team-a")
        assert made is not None
        assert made["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "strongroom"
        kube.patch("configmaps", "strongroom-ca", {"data": {"ca.crt": CA_TWO}}, c.NAMESPACE)
        await c.until(lambda: published(kube) == CA_TWO)
        kube.delete("apps.strongroom.dev", "shop", "team-a")
        await c.until(lambda: kube.get("apps.strongroom.dev", "shop", "team-a") is None)
        await c.until(lambda: _listed_apps(kube))
        kube.delete("configmaps", "strongroom-ca", "team-a")  # by hand: it comes back
        await c.until(lambda: published(kube) == CA_TWO)
        kube.delete("apps.strongroom.dev", "blog", "team-a")
        await c.until(lambda: published(kube) is None)
    # The source in the control plane's namespace is never the operator's to change.
    assert published(kube, c.NAMESPACE) == CA_TWO


async def test_the_ca_comes_from_the_serving_certificates_secret_in_cert_manager_mode(
    kube: emulator.KubeEmulator,
) -> None:
    async with c.operator(
        kube, ca_source=("secret", c.NAMESPACE, "strongroom-controlplane-tls"), ca_check_seconds=0.2
    ):
        kube.create(c.app())
        await c.until(lambda: c.ready(kube, "apps", "shop"))
        assert published(kube) is None  # no certificate issued yet: nothing to publish
        kube.create(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "strongroom-controlplane-tls", "namespace": c.NAMESPACE},
                "data": {"ca.crt": base64.b64encode(CA_ONE.encode()).decode()},
            }
        )
        await c.until(lambda: published(kube) == CA_ONE)


async def test_a_configmap_someone_else_made_is_neither_updated_nor_deleted(
    kube: emulator.KubeEmulator,
) -> None:
    """The chart's own (controlPlane.caBundle.namespaces), trust-manager's, a person's."""
    kube.create(source_configmap(CA_TWO))
    theirs = source_configmap(CA_ONE)
    theirs["metadata"]["namespace"] = "team-a"
    theirs["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "Helm"}
    kube.create(theirs)
    async with c.operator(kube, ca_source=SOURCE, ca_check_seconds=0.1):
        kube.create(c.app())
        await c.until(lambda: c.ready(kube, "apps", "shop"))
        kube.delete("apps.strongroom.dev", "shop", "team-a")
        await c.until(lambda: kube.get("apps.strongroom.dev", "shop", "team-a") is None)
        await c.until(lambda: _listed_apps(kube))
    assert published(kube) == CA_ONE


async def test_an_invalid_app_still_gets_the_ca_for_its_pods(
    kube: emulator.KubeEmulator,
) -> None:
    kube.create(source_configmap(CA_ONE))
    async with c.operator(kube, ca_source=SOURCE):
        kube.create(c.app(serviceAccounts=[]))
        await c.until(lambda: published(kube) == CA_ONE)


async def test_without_a_source_no_configmap_is_published(kube: emulator.KubeEmulator) -> None:
    kube.create(source_configmap(CA_ONE))
    async with c.operator(kube):  # ca_source None: trust-manager's or the user's job
        kube.create(c.app())
        await c.until(lambda: c.ready(kube, "apps", "shop"))
    assert published(kube) is None


async def test_a_forbidden_write_is_retried_on_the_next_check_and_never_fails_the_app(
    kube: emulator.KubeEmulator,
) -> None:
    kube.create(source_configmap(CA_ONE))
    kube.forbid("POST", "configmaps")
    async with c.operator(kube, ca_source=SOURCE, ca_check_seconds=0.1):
        kube.create(c.app())
        ready = await c.until(lambda: c.ready(kube, "apps", "shop"))
        assert ready["status"] == "True"
        kube.allow("POST", "configmaps")
        await c.until(lambda: published(kube) == CA_ONE)


def test_a_source_names_its_kind_and_an_empty_one_turns_publishing_off() -> None:
    assert cabundles.parse_source("Secret/tls", "sr") == ("secret", "sr", "tls")
    assert cabundles.parse_source(" ", "sr") is None
    for bad in ("tls", "configmap/", "configmap/a/b", "lease/x"):
        with pytest.raises(ValueError, match="expected configmap/NAME or secret/NAME"):
            cabundles.parse_source(bad, "sr")
