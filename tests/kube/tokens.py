"""ServiceAccount tokens for TokenReview, answered the way the real API server answers.

A registered token names its ServiceAccount, its audiences and, for a projected token, the pod
it is bound to (name and uid). As in a cluster, a bound token stops authenticating once its pod
is gone or was replaced by a pod with another uid; a review whose audiences do not meet the
token's is unauthenticated.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import secrets
import time
from typing import Any

from tests.kube import errors, store

POD_NAME = "authentication.kubernetes.io/pod-name"
POD_UID = "authentication.kubernetes.io/pod-uid"
DEFAULT_AUDIENCE = "https://kubernetes.default.svc.cluster.local"


@dataclasses.dataclass(frozen=True)
class ServiceAccountToken:
    namespace: str
    service_account: str
    audiences: tuple[str, ...]
    pod_name: str | None = None
    pod_uid: str | None = None

    @property
    def username(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.service_account}"


class Tokens:
    def __init__(self, objects: store.Store) -> None:
        self._store = objects
        self._tokens: dict[str, ServiceAccountToken] = {}

    def register(self, token: str, account: ServiceAccountToken) -> None:
        self._tokens[token] = account

    def revoke(self, token: str) -> None:
        self._tokens.pop(token, None)

    def known(self, token: str) -> bool:
        return token in self._tokens

    def request(self, namespace: str, service_account: str, body: dict[str, Any]) -> dict[str, Any]:
        """A TokenRequest (``POST .../serviceaccounts/<name>/token``): a JWT-shaped token with
        the claims a projected token carries, registered for review, bound to the pod that
        ``spec.boundObjectRef`` names (which must exist with that uid)."""
        spec = body.get("spec") or {}
        audiences = tuple(str(a) for a in spec.get("audiences") or ()) or (DEFAULT_AUDIENCE,)
        lifetime = int(spec.get("expirationSeconds") or 3600)
        bound = spec.get("boundObjectRef") or {}
        pod_name = pod_uid = None
        if bound:
            if bound.get("kind") != "Pod":
                raise errors.bad_request("boundObjectRef.kind: only Pod is emulated")
            pod_name = str(bound.get("name") or "")
            pod = self._store.objects.get(("/pods", namespace, pod_name))
            if pod is None:
                raise errors.not_found("pods", pod_name)
            pod_uid = pod["metadata"]["uid"]
            if bound.get("uid") and bound["uid"] != pod_uid:
                raise errors.conflict("pods", pod_name)
        expires = int(time.time()) + lifetime
        claims: dict[str, Any] = {
            "aud": list(audiences),
            "exp": expires,
            "kubernetes.io": {
                "namespace": namespace,
                "serviceaccount": {"name": service_account},
                **({"pod": {"name": pod_name, "uid": pod_uid}} if pod_name else {}),
            },
        }
        token = ".".join(
            [
                _segment({"alg": "RS256", "kid": "emulator"}),
                _segment(claims),
                secrets.token_urlsafe(24),
            ]
        )
        self.register(
            token, ServiceAccountToken(namespace, service_account, audiences, pod_name, pod_uid)
        )
        return {
            "kind": "TokenRequest",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"name": service_account, "namespace": namespace},
            "spec": spec,
            "status": {
                "token": token,
                "expirationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires)),
            },
        }

    def review(self, body: dict[str, Any]) -> dict[str, Any]:
        spec = body.get("spec") or {}
        token = str(spec.get("token") or "")
        wanted = [str(a) for a in spec.get("audiences") or ()] or [DEFAULT_AUDIENCE]
        return {
            "kind": "TokenReview",
            "apiVersion": "authentication.k8s.io/v1",
            "metadata": {"creationTimestamp": None},
            "spec": {**spec, "token": "[redacted]"} if token else spec,
            "status": self._status(token, wanted),
        }

    def _status(self, token: str, wanted: list[str]) -> dict[str, Any]:
        account = self._tokens.get(token)
        if account is None:
            return {"authenticated": False, "user": {}, "error": "invalid bearer token"}
        audiences = [a for a in wanted if a in account.audiences]
        if not audiences:
            return {
                "authenticated": False,
                "user": {},
                "error": "invalid bearer token, token audiences is invalid",
            }
        extra: dict[str, list[str]] = {}
        if account.pod_name is not None:
            pod = self._store.objects.get(("/pods", account.namespace, account.pod_name))
            if pod is None or pod["metadata"]["uid"] != account.pod_uid:
                return {
                    "authenticated": False,
                    "user": {},
                    "error": f'invalid bearer token, pods "{account.pod_name}" not found',
                }
            extra = {POD_NAME: [account.pod_name], POD_UID: [str(account.pod_uid)]}
        sa = self._store.objects.get(
            ("/serviceaccounts", account.namespace, account.service_account)
        )
        return {
            "authenticated": True,
            "user": {
                "username": account.username,
                "uid": sa["metadata"]["uid"] if sa else "",
                "groups": [
                    "system:serviceaccounts",
                    f"system:serviceaccounts:{account.namespace}",
                    "system:authenticated",
                ],
                "extra": extra,
            },
            "audiences": audiences,
        }


def _segment(value: dict[str, Any]) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
