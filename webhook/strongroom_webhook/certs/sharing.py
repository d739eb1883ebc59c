"""The self-managed TLS state in one Secret shared by all replicas, and the ``caBundle`` of the
MutatingWebhookConfiguration kept equal to its CA bundle.

Every write is compare-and-swap: create (``AlreadyExists`` → someone else was first: read and
adopt theirs) or replace with the ``resourceVersion`` read (``Conflict`` → read again and
re-plan). Two replicas starting at once therefore end with one CA, and since :func:`rotation.plan`
is deterministic on the state it reads, a replica that loses a race adopts the winner's state.
"""

from __future__ import annotations

import base64
import datetime
import logging
from collections.abc import Callable, Sequence
from typing import Any

from strongroom_kube import client
from strongroom_webhook.certs import rotation

logger = logging.getLogger(__name__)
Clock = Callable[[], datetime.datetime]
MWC_PATH = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations"
_ATTEMPTS = 8


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class SharedTls:
    def __init__(
        self,
        api: client.KubeClient,
        *,
        namespace: str,
        secret: str,
        webhook_configuration: str,
        timing: rotation.Timing,
        dns_names: Sequence[str],
        clock: Clock = utcnow,
    ) -> None:
        self._api = api
        self._namespace = namespace
        self._secret = secret
        self._configuration = webhook_configuration
        self._timing = timing
        self._dns_names = list(dns_names)
        self._clock = clock

    @property
    def _secret_path(self) -> str:
        return f"/api/v1/namespaces/{self._namespace}/secrets/{self._secret}"

    async def sync(self) -> rotation.TlsState:
        """Read the Secret, rotate what is due (CAS), publish the bundle; the state in force."""
        state = await self._sync_secret()
        await self.publish_bundle(state.bundle)
        return state

    async def _sync_secret(self) -> rotation.TlsState:
        for _ in range(_ATTEMPTS):
            try:
                secret: dict[str, Any] | None = await self._api.get(self._secret_path)
            except client.NotFound:
                secret = None
            current = _state_of(secret, self._namespace, self._secret)
            wanted = rotation.plan(current, self._clock(), self._timing, self._dns_names)
            if wanted is None and current is not None:
                return current
            assert wanted is not None
            try:
                if secret is None:
                    await self._api.create(
                        f"/api/v1/namespaces/{self._namespace}/secrets", self._body(wanted, None)
                    )
                    logger.info(
                        "created the webhook TLS Secret %s/%s", self._namespace, self._secret
                    )
                else:
                    version = str(secret.get("metadata", {}).get("resourceVersion", ""))
                    await self._api.replace(self._secret_path, self._body(wanted, version))
                    logger.info("rotated the webhook TLS in %s/%s", self._namespace, self._secret)
            except (client.AlreadyExists, client.Conflict):
                continue  # another replica wrote first: adopt its state (next round)
            return wanted
        raise client.ApiError(409, "Conflict", f"Secret {self._secret}: too many write races")

    def _body(self, state: rotation.TlsState, version: str | None) -> dict[str, Any]:
        metadata: dict[str, Any] = {
            "name": self._secret,
            "namespace": self._namespace,
            "labels": {
                "app.kubernetes.io/component": "webhook",
                "app.kubernetes.io/part-of": "strongroom",
            },
        }
        if version is not None:
            metadata["resourceVersion"] = version
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": metadata,
            "type": "Opaque",
            "data": state.to_data(),
        }

    async def publish_bundle(self, bundle: bytes) -> bool:
        """Set ``caBundle`` on every webhook of the configuration; ``True`` when it changed.
        A missing configuration is logged and skipped (not installed yet, or run outside)."""
        encoded = base64.b64encode(bundle).decode("ascii")
        path = f"{MWC_PATH}/{self._configuration}"
        for _ in range(_ATTEMPTS):
            try:
                configuration = await self._api.get(path)
            except client.NotFound:
                logger.warning(
                    "MutatingWebhookConfiguration %s not found; caBundle not published",
                    self._configuration,
                )
                return False
            webhooks = configuration.get("webhooks") or []
            if all(w.get("clientConfig", {}).get("caBundle") == encoded for w in webhooks):
                return False
            for webhook in webhooks:
                webhook.setdefault("clientConfig", {})["caBundle"] = encoded
            try:
                await self._api.replace(path, configuration)
            except client.Conflict:
                continue
            logger.info("published a new caBundle to %s", self._configuration)
            return True
        raise client.ApiError(409, "Conflict", f"{self._configuration}: too many write races")


def _state_of(secret: dict[str, Any] | None, namespace: str, name: str) -> rotation.TlsState | None:
    if secret is None:
        return None
    try:
        return rotation.TlsState.from_data(secret.get("data") or {})
    except ValueError as e:
        # A TLS state can be replaced safely (unlike a root key): clients follow the caBundle.
        logger.warning("Secret %s/%s: %s; making a new CA", namespace, name, e)
        return None
