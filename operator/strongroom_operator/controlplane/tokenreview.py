"""``TokenReviewAuthenticator``: sidecars (and admins) authenticated by the Kubernetes API.

A sidecar presents its projected ServiceAccount token (audience ``strongroom``). It is accepted
only when, in this order:

1. a TokenReview (audience ``strongroom``) authenticates it, and the answered audiences include
   ``strongroom`` — a token minted for another service is never replayed here;
2. the user is an admin (a configured user name or group) → an admin caller; otherwise
3. the user is ``system:serviceaccount:<namespace>:<name>`` and the review names the pod the
   token is bound to (``extra`` pod name and uid);
4. that pod exists in that namespace with that uid (not a deleted or replaced pod), runs as that
   ServiceAccount, and carries the injected sidecar: an init container named
   ``podspec.SIDECAR_CONTAINER_NAME`` with ``restartPolicy: Always`` and, when images are
   configured, one of them;
5. the pod's App (annotation ``strongroom.dev/app``) exists in the namespace and lists the
   ServiceAccount in ``spec.serviceAccounts``.

The App is taken from the pod, never from what the caller asks for; the routes' ``require_app``
then checks the request's namespace/App path against it. Anything else raises
:class:`refusals.Refused` with its code and leaves an ``auth.refused`` audit record.

Why the App resource and not the compiled policy: the App's ``spec.serviceAccounts`` is the
source of truth and always current; reading it costs one GET per review, and reviews are cached
(``reviewcache``). A token whose pod was deleted stays accepted for at most the cache's TTL.

When the API server refuses a token its reason is terse, so the refusal is explained from the
token's own claims (decoded, *not* trusted: they only choose the message, never accept
anything): the audience it was minted for, and whether its pod is gone or was replaced.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from collections.abc import Iterable
from typing import Any

from strongroom_core import podspec
from strongroom_kube import client
from strongroom_operator.controlplane import auth, problems, refusals, reviewcache

REVIEWS = "/apis/authentication.k8s.io/v1/tokenreviews"
APPS = "/apis/strongroom.dev/v1alpha1/namespaces/{namespace}/apps/{name}"
PODS = "/api/v1/namespaces/{namespace}/pods/{name}"
POD_NAME_EXTRA = "authentication.kubernetes.io/pod-name"
POD_UID_EXTRA = "authentication.kubernetes.io/pod-uid"
SA_PREFIX = "system:serviceaccount:"


@dataclasses.dataclass(frozen=True, slots=True)
class ReviewSettings:
    audience: str = podspec.TOKEN_AUDIENCE
    """The audience every token must carry."""
    sidecar_images: tuple[str, ...] = ()
    """Images the injected sidecar may run (exact references); empty accepts any image — set
    it in production, so a pod that merely names a container ``strongroom-sidecar`` running
    another image is refused."""
    admin_users: frozenset[str] = frozenset()
    """TokenReview user names that are admins (``system:serviceaccount:<ns>:<name>`` or a
    user), e.g. the CLI's ServiceAccount and the other control-plane replicas'."""
    admin_groups: frozenset[str] = frozenset()
    """TokenReview groups whose members are admins."""
    cache_ttl: float = 30.0
    """Seconds an accepted token is remembered (≤ 60, and never past the token's expiry)."""
    cache_size: int = 10_000


class TokenReviewAuthenticator:
    """Implements ``auth.Authenticator`` with the Kubernetes API (``kube`` must be open)."""

    def __init__(
        self,
        kube: client.KubeClient,
        settings: ReviewSettings | None = None,
        *,
        audit: refusals.AuditSink | None = None,
    ) -> None:
        self.kube = kube
        self.settings = settings or ReviewSettings()
        self.audit = audit
        self.cache = reviewcache.ReviewCache(self.settings.cache_ttl, self.settings.cache_size)

    def __repr__(self) -> str:
        return f"TokenReviewAuthenticator({self.kube!r}, {self.cache!r})"

    async def authenticate(self, token: str) -> auth.Caller | None:
        key = reviewcache.token_key(token)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        claims = unverified_claims(token)
        try:
            caller = await self._review(token, claims)
        except refusals.Refused as refusal:
            await refusals.record(self.audit, refusal)
            raise
        exp = claims.get("exp")
        self.cache.put(key, caller, float(exp) if isinstance(exp, int | float) else None)
        return caller

    async def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any] | None:
        """``None`` for 404; any other failure of the API is 503 ``review_unavailable``."""
        try:
            return await self.kube.request(method, path, body=body)
        except client.NotFound:
            return None
        except (TimeoutError, client.ApiError, OSError) as e:
            raise problems.ProblemError(
                503,
                "review_unavailable",
                f"cannot check the caller with the Kubernetes API ({type(e).__name__}); retry",
                headers={"Retry-After": "2"},
            ) from None

    async def _review(self, token: str, claims: dict[str, Any]) -> auth.Caller:
        review = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": {"token": token, "audiences": [self.settings.audience]},
        }
        answer = await self._call("POST", REVIEWS, review) or {}
        status = answer.get("status") or {}
        if not status.get("authenticated"):
            raise await self._explain(claims, str(status.get("error") or ""))
        user = status.get("user") or {}
        username = str(user.get("username") or "")
        if self.settings.audience not in (status.get("audiences") or ()):
            raise refusals.Refused(
                "wrong_audience",
                f"the token is not for audience {self.settings.audience!r}; mount a projected"
                f" ServiceAccount token with audience {self.settings.audience!r}",
                who=_who(username),
            )
        groups = [str(g) for g in user.get("groups") or ()]
        if username in self.settings.admin_users or any(
            g in self.settings.admin_groups for g in groups
        ):
            return auth.Caller("admin", username)
        if not username.startswith(SA_PREFIX) or username.count(":") != 3:
            raise refusals.Refused(
                "not_a_service_account",
                f"user {username!r} is not an admin and not a ServiceAccount; admins are"
                " configured with --admin-user / --admin-group",
                who=f"user/{username}",
            )
        namespace, service_account = username[len(SA_PREFIX) :].split(":")
        extra = user.get("extra") or {}
        pod_name, pod_uid = _first(extra.get(POD_NAME_EXTRA)), _first(extra.get(POD_UID_EXTRA))
        who = f"serviceaccount/{namespace}/{service_account}"
        if not pod_name or not pod_uid:
            raise refusals.Refused(
                "not_a_pod_token",
                f"the token of ServiceAccount {namespace}/{service_account} is not bound to a"
                " pod; the sidecar must present its pod's projected token",
                who=who,
                namespace=namespace,
            )
        pod = await self._checked_pod(namespace, pod_name, pod_uid, service_account)
        app = await self._checked_app(namespace, pod, service_account)
        return auth.Caller("sidecar", f"pod/{pod_name}", namespace, app)

    async def _checked_pod(
        self, namespace: str, name: str, uid: str, service_account: str
    ) -> dict[str, Any]:
        who = f"pod/{name}"
        pod = await self._call("GET", PODS.format(namespace=namespace, name=name))
        if pod is None:
            raise refusals.Refused(
                "pod_not_found",
                f"pod {namespace}/{name} the token is bound to does not exist",
                who=who,
                namespace=namespace,
            )
        if (pod.get("metadata") or {}).get("uid") != uid:
            raise refusals.Refused(
                "pod_replaced",
                f"pod {namespace}/{name} was replaced (another uid); the token belongs to the"
                " old pod",
                who=who,
                namespace=namespace,
            )
        spec = pod.get("spec") or {}
        runs_as = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        if runs_as != service_account:
            raise refusals.Refused(
                "service_account_not_allowed",
                f"pod {namespace}/{name} runs as {runs_as!r}, the token names {service_account!r}",
                who=who,
                namespace=namespace,
            )
        self._check_sidecar(namespace, name, spec)
        return pod

    def _check_sidecar(self, namespace: str, name: str, spec: dict[str, Any]) -> None:
        who = f"pod/{name}"
        wanted = podspec.SIDECAR_CONTAINER_NAME
        sidecar = next(
            (c for c in spec.get("initContainers") or () if c.get("name") == wanted), None
        )
        if sidecar is None or sidecar.get("restartPolicy") != "Always":
            where = "is not a native sidecar" if sidecar else "is missing"
            raise refusals.Refused(
                "sidecar_missing",
                f"pod {namespace}/{name}: the injected container {wanted!r} {where} (an init"
                " container with restartPolicy: Always); only pods the webhook injected may"
                " call the control plane",
                who=who,
                namespace=namespace,
            )
        images = self.settings.sidecar_images
        if images and sidecar.get("image") not in images:
            raise refusals.Refused(
                "sidecar_image_mismatch",
                f"pod {namespace}/{name}: container {wanted!r} runs image"
                f" {sidecar.get('image')!r}, not the configured sidecar image"
                f" ({', '.join(images)})",
                who=who,
                namespace=namespace,
            )

    async def _checked_app(self, namespace: str, pod: dict[str, Any], service_account: str) -> str:
        name = pod["metadata"]["name"]
        who = f"pod/{name}"
        annotations = pod["metadata"].get("annotations") or {}
        app = annotations.get(podspec.APP_ANNOTATION)
        if not app:
            raise refusals.Refused(
                "app_annotation_missing",
                f"pod {namespace}/{name} has no {podspec.APP_ANNOTATION} annotation",
                who=who,
                namespace=namespace,
            )
        found = await self._call("GET", APPS.format(namespace=namespace, name=app))
        if found is None:
            raise refusals.Refused(
                "app_not_found",
                f"pod {namespace}/{name} names App {app!r}, which does not exist in {namespace}",
                who=who,
                namespace=namespace,
                app=app,
            )
        allowed = (found.get("spec") or {}).get("serviceAccounts") or []
        if service_account not in allowed:
            raise refusals.Refused(
                "service_account_not_allowed",
                f"App {namespace}/{app} does not allow ServiceAccount {service_account!r}"
                " (spec.serviceAccounts); add it there or run the pod as an allowed one",
                who=who,
                namespace=namespace,
                app=app,
            )
        return str(app)

    async def _explain(self, claims: dict[str, Any], error: str) -> refusals.Refused:
        """Why the API server refused the token, from its unverified claims and the error."""
        k8s = _object(claims.get("kubernetes.io"))
        namespace = str(k8s.get("namespace") or "")
        pod = _object(k8s.get("pod"))
        pod_name, pod_uid = str(pod.get("name") or ""), str(pod.get("uid") or "")
        who = f"pod/{pod_name}" if pod_name else "unknown"
        audiences = claims.get("aud")
        if isinstance(audiences, str):
            audiences = [audiences]
        wrong_audience = (
            isinstance(audiences, list) and self.settings.audience not in audiences
        ) or "audience" in error.lower()
        if wrong_audience:
            return refusals.Refused(
                "wrong_audience",
                f"the token is not for audience {self.settings.audience!r}; mount a projected"
                f" ServiceAccount token with audience {self.settings.audience!r}",
                who=who,
                namespace=namespace,
            )
        if namespace and pod_name:
            current = await self._call("GET", PODS.format(namespace=namespace, name=pod_name))
            if current is None:
                return refusals.Refused(
                    "pod_not_found",
                    f"pod {namespace}/{pod_name} the token is bound to does not exist",
                    who=who,
                    namespace=namespace,
                )
            if pod_uid and (current.get("metadata") or {}).get("uid") != pod_uid:
                return refusals.Refused(
                    "pod_replaced",
                    f"pod {namespace}/{pod_name} was replaced (another uid); the token belongs"
                    " to the old pod",
                    who=who,
                    namespace=namespace,
                )
        return refusals.Refused(
            "token_rejected",
            "the Kubernetes API did not accept the token (unknown, expired or revoked):"
            f" {error[:200] or 'no reason given'}",
            who=who,
            namespace=namespace,
        )


def unverified_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT-shaped token, *not verified*: used only to explain refusals and to
    keep a cache entry from outliving the token. ``{}`` for anything else."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        decoded = json.loads(base64.urlsafe_b64decode(payload.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeEncodeError):
        return {}
    return decoded if isinstance(decoded, dict) else {}


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _first(values: Iterable[Any] | None) -> str:
    for value in values or ():
        return str(value)
    return ""


def _who(username: str) -> str:
    if username.startswith(SA_PREFIX) and username.count(":") == 3:
        namespace, name = username[len(SA_PREFIX) :].split(":")
        return f"serviceaccount/{namespace}/{name}"
    return f"user/{username}" if username else "unknown"
