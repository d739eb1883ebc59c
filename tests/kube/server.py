"""The emulator's HTTP face: one aiohttp handler that parses Kubernetes REST paths and serves
discovery, CRUD, PATCH, the status subresource, list and watch, deletecollection and
TokenReview from a :class:`store.Store`."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from typing import Any

from aiohttp import web

from tests.kube import errors, patching, resources, selectors, store, tokens

VERSION = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.0-strongroom-emulator",
    "platform": "linux/amd64",
}


@dataclasses.dataclass(frozen=True)
class Target:
    res: resources.ResourceDef
    namespace: str | None
    name: str | None
    subresource: str


@dataclasses.dataclass
class Settings:
    bookmark_interval: float = 1.0
    """Seconds of quiet after which a watch that allows bookmarks gets one."""
    default_watch_timeout: float = 1800.0


class Api:
    def __init__(
        self,
        objects: store.Store,
        reviews: tokens.Tokens,
        admin_tokens: set[str],
        settings: Settings,
    ) -> None:
        self.store = objects
        self.tokens = reviews
        self.admin_tokens = admin_tokens
        self.settings = settings
        self.closing = False
        self.requests: list[tuple[str, str]] = []
        """(method, path with query) of every request, for tests that assert on traffic."""
        self.forbidden: set[tuple[str, str]] = set()
        """(HTTP method, plural) answered 403 Forbidden, as RBAC would (``KubeEmulator.forbid``)."""

    def app(self) -> web.Application:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.method, str(request.rel_url)))
        try:
            self._authenticate(request)
            return await self._dispatch(request)
        except errors.ApiError as e:
            return web.json_response(e.status(), status=e.code)

    def _authenticate(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        if token not in self.admin_tokens and not self.tokens.known(token):
            raise errors.unauthorized()

    # --- routing ----------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.path.split("/") if p]
        registry = self.store.registry
        if parts == ["version"]:
            return web.json_response(VERSION)
        if parts == ["api"]:
            return web.json_response(registry.api_versions())
        if parts == ["apis"]:
            return web.json_response(registry.api_group_list())
        if len(parts) == 2 and parts[0] == "apis":
            return _discovery(registry.api_group(parts[1]))
        if parts[:1] == ["api"] and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise _no_such_path()
        if not rest:
            return _discovery(registry.resource_list(group, version))
        target = self._target(group, version, rest)
        return await self._serve(request, target)

    def _target(self, group: str, version: str, rest: list[str]) -> Target:
        registry = self.store.registry
        namespace: str | None = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            inner = registry.find(group, version, rest[2])
            if len(rest) >= 4 or (inner is not None and inner.namespaced):
                namespace, rest = rest[1], rest[2:]
        res = registry.find(group, version, rest[0])
        if res is None or len(rest) > 3:
            raise _no_such_path()
        name = rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else ""
        token_request = sub == "token" and res.plural == "serviceaccounts"
        if sub and not token_request and (sub != "status" or not res.status_subresource):
            raise _no_such_path()
        if (namespace is not None and not res.namespaced) or (
            name is not None and res.namespaced and namespace is None
        ):
            raise _no_such_path()
        return Target(res, namespace, name, sub)

    async def _serve(self, request: web.Request, t: Target) -> web.StreamResponse:
        method = request.method
        ns = t.namespace or ""
        if (method, t.res.plural) in self.forbidden:
            raise errors.forbidden(method.lower(), t.res.plural, ns, t.res.group)
        if t.subresource == "token" and t.name is not None:
            if method != "POST":
                raise errors.method_not_allowed("serviceaccounts/token can only be created")
            self.store.get(t.res, ns, t.name)  # 404 without the ServiceAccount
            answer = self.tokens.request(ns, t.name, await _json(request))
            return web.json_response(answer, status=201)
        if not t.res.stored:
            if method != "POST" or t.name is not None:
                raise errors.method_not_allowed(f"{t.res.plural} can only be created")
            review = self.tokens.review(await _json(request))
            return web.json_response(review, status=201)
        if t.name is None:
            if method == "GET":
                if request.query.get("watch") in ("true", "1"):
                    return await self._watch(request, t)
                return self._list(request, t)
            if method == "POST":
                body = await _json(request)
                return web.json_response(self.store.create(t.res, ns, body), status=201)
            if method == "DELETE":
                return self._delete_collection(request, t)
            raise errors.method_not_allowed(f"{method} is not allowed on a collection")
        if method == "GET":
            return web.json_response(self.store.get(t.res, ns, t.name))
        if method == "PUT":
            body = await _json(request)
            rv = (body.get("metadata") or {}).get("resourceVersion")
            return web.json_response(
                self.store.update(t.res, ns, t.name, body, t.subresource, rv or None)
            )
        if method == "PATCH":
            return self._patch(t, ns, t.name, request.content_type, await _json(request))
        if method == "DELETE" and not t.subresource:
            options = await _json(request) if request.can_read_body else {}
            return web.json_response(self.store.delete(t.res, ns, t.name, options))
        raise errors.method_not_allowed(f"{method} is not allowed here")

    def _patch(self, t: Target, ns: str, name: str, content_type: str, body: Any) -> web.Response:
        current = self.store.get(t.res, ns, name)
        patched = patching.apply(content_type, current, body)
        precondition = None
        if isinstance(body, dict):
            precondition = (body.get("metadata") or {}).get("resourceVersion")
        return web.json_response(
            self.store.update(t.res, ns, name, patched, t.subresource, precondition)
        )

    # --- collections ------------------------------------------------------------------------

    def _matchers(self, request: web.Request) -> tuple[selectors.Matcher, selectors.Matcher]:
        return (
            selectors.label_selector(request.query.get("labelSelector")),
            selectors.field_selector(request.query.get("fieldSelector")),
        )

    def _list(self, request: web.Request, t: Target) -> web.Response:
        labels, fields = self._matchers(request)
        rv = request.query.get("resourceVersion", "")
        if request.query.get("resourceVersionMatch") == "Exact" and rv:
            # The emulator keeps no old states: it checks the window, then serves the current
            # state. Enough for "can I still resume from rv?" checks.
            revision = _revision(rv)
            if revision < self.store.compacted:
                raise errors.gone(f"too old resource version: {revision}")
            if revision > self.store.revision:
                raise errors.ApiError(
                    504,
                    "Timeout",
                    f"Too large resource version: {revision}, current: {self.store.revision}",
                    {"causes": [{"reason": "ResourceVersionTooLarge"}]},
                )
        items = self.store.list(t.res, t.namespace, labels, fields)
        return web.json_response(
            {
                "kind": f"{t.res.kind}List",
                "apiVersion": t.res.api_version,
                "metadata": {"resourceVersion": str(self.store.revision)},
                "items": items,
            }
        )

    def _delete_collection(self, request: web.Request, t: Target) -> web.Response:
        labels, fields = self._matchers(request)
        for obj in self.store.list(t.res, t.namespace, labels, fields):
            with contextlib.suppress(errors.ApiError):  # gone meanwhile (garbage collected)
                meta = obj["metadata"]
                self.store.delete(t.res, meta.get("namespace", ""), meta["name"])
        return web.json_response(
            {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
        )

    async def _watch(self, request: web.Request, t: Target) -> web.StreamResponse:
        labels, fields = self._matchers(request)
        query = request.query
        bookmarks = query.get("allowWatchBookmarks") in ("true", "1")
        timeout = float(query.get("timeoutSeconds") or self.settings.default_watch_timeout)
        rv = query.get("resourceVersion", "")
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)

        def matches(obj: dict[str, Any] | None) -> bool:
            return obj is not None and labels(obj) and fields(obj)

        def in_scope(obj: dict[str, Any]) -> bool:
            return t.namespace is None or obj["metadata"].get("namespace") == t.namespace

        async def send(type_: str, obj: dict[str, Any]) -> None:
            line = json.dumps({"type": type_, "object": obj}, separators=(",", ":"))
            await response.write(line.encode() + b"\n")

        def bookmark(revision: int, initial_end: bool = False) -> dict[str, Any]:
            meta: dict[str, Any] = {"resourceVersion": str(revision)}
            if initial_end:
                meta["annotations"] = {"k8s.io/initial-events-end": "true"}
            return {"kind": t.res.kind, "apiVersion": t.res.api_version, "metadata": meta}

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            if rv in ("", "0") or query.get("sendInitialEvents") == "true":
                cursor = self.store.revision
                for obj in self.store.list(t.res, t.namespace, labels, fields):
                    await send("ADDED", obj)
                if query.get("sendInitialEvents") == "true" and bookmarks:
                    await send("BOOKMARK", bookmark(cursor, initial_end=True))
            else:
                cursor = _revision(rv)
            while not self.closing:
                waiter = self.store.changed
                try:
                    events = self.store.events_after(cursor)
                except errors.ApiError as e:
                    await send("ERROR", e.status())
                    break
                cursor = max(cursor, self.store.revision)
                for event in events:
                    if event.resource != t.res.key or not in_scope(event.object):
                        continue
                    type_ = _filtered_type(event, matches(event.object), matches(event.old))
                    if type_:
                        await send(type_, event.object)
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                wait = min(remaining, self.settings.bookmark_interval) if bookmarks else remaining
                try:
                    await asyncio.wait_for(waiter.wait(), wait)
                except TimeoutError:
                    if bookmarks:
                        await send("BOOKMARK", bookmark(cursor))
        except (ConnectionError, asyncio.CancelledError):
            return response
        with contextlib.suppress(ConnectionError):
            await response.write_eof()
        return response


def _filtered_type(event: store.Event, new_matches: bool, old_matches: bool) -> str | None:
    """What a selector's watcher sees: an object entering the selection is ADDED, one leaving
    it is DELETED, as the API server's filtered watch reports."""
    if event.type == "MODIFIED":
        if new_matches and old_matches:
            return "MODIFIED"
        if new_matches:
            return "ADDED"
        return "DELETED" if old_matches else None
    return event.type if new_matches else None


def _revision(rv: str) -> int:
    try:
        return int(rv)
    except ValueError:
        raise errors.bad_request(f"invalid resource version: {rv!r}") from None


def _no_such_path() -> errors.ApiError:
    return errors.ApiError(404, "NotFound", "the server could not find the requested resource")


def _discovery(document: dict[str, Any] | None) -> web.Response:
    if document is None:
        raise _no_such_path()
    return web.json_response(document)


async def _json(request: web.Request) -> Any:
    text = await request.text()
    if not text:
        return {}
    try:
        return json.loads(text)
    except ValueError:
        raise errors.bad_request("the request body is not JSON") from None
