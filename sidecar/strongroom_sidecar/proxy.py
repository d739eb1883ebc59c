"""The ``/proxy`` handler: the pipeline every call goes through.

shed → ready → parse headers → resolve grant → check target → decide → reserve audit slot →
refresh if expired → open credential → inject → forward (→ on 401: refresh once, retry once)
→ audit.

Each step either passes or raises a :class:`problems.Refusal`; exactly one audit event is
written per call that got past shedding, whatever happened. Nothing here does I/O except the
upstream call (and a key fetch when a blob names a key this sidecar has not seen yet, or a
refresh when the token has expired or the upstream refused it).
"""

from __future__ import annotations

import math
import time

import yarl
from aiohttp import web

from strongroom_core import audit, injection, rules, targets
from strongroom_core.storage import records
from strongroom_sidecar import (
    audit_buffer,
    credentials,
    decisions,
    forwarding,
    headers,
    identities,
    logs,
    metrics,
    problems,
    providers,
    refreshing,
    resolution,
    shedding,
    state,
)
from strongroom_sidecar import settings as settings_module

log = logs.get("proxy")
PATH = "/proxy"


class Proxy:
    def __init__(
        self,
        settings: settings_module.SidecarSettings,
        app: state.AppState,
        creds: credentials.Credentials,
        forwarder: forwarding.Forwarder,
        audits: audit_buffer.AuditBuffer,
        limit: shedding.ConcurrencyLimit,
        counters: metrics.Metrics,
        refresher: refreshing.Refresher,
        identity: identities.Identity | None = None,
    ) -> None:
        self._refresher = refresher
        self._identity = identity if identity is not None else identities.Identity(settings)
        self._settings = settings
        self._app = app
        self._creds = creds
        self._forwarder = forwarder
        self._audits = audits
        self._limit = limit
        self._metrics = counters

    def web_app(self) -> web.Application:
        application = web.Application(client_max_size=0)
        application.router.add_route("*", PATH, self.handle)
        return application

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if not self._limit.try_acquire():
            self._count(503, "deny", "overloaded")
            return problems.response(
                problems.Refusal(
                    "overloaded",
                    f"{self._limit.limit} calls are in flight; retry after a short pause",
                    retry_after=1,
                )
            )
        try:
            return await self._handle(request)
        finally:
            self._limit.release()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        event = self._new_event(request)
        reservation: audit_buffer.Reservation | None = None
        outcome = forwarding.Outcome()
        allowed = False
        try:
            if not self._app.ready:
                raise problems.Refusal(
                    "not_ready",
                    "the sidecar has not received its App's keys and policy from the control "
                    "plane yet; retry shortly",
                    retry_after=1,
                )
            call = headers.parse(request.headers)
            _describe_call(event, call)
            agent = resolution.authenticate(self._app, call)
            if agent is not None:
                event["caller"] = agent.caller
            resolved = await resolution.resolve(self._app, call, self._identity, agent)
            record, provider = resolved.record, resolved.provider
            event["grant"] = record.name
            event["provider"] = record.provider
            event["principal"] = resolved.principal
            target = _check_target(call.target, provider, self._settings.allow_loopback_targets)
            event["host"] = _host(target)
            event["path"] = audit.redact_query(target.path_and_query)
            now = time.time()
            decision = decisions.decide(record, self._app.policy, now)
            ruled = self._rules(request, call, record, target, event["caller"], now)
            reservation = self._audits.reserve()
            if reservation is None:
                raise problems.Refusal(
                    "audit_unavailable",
                    "the audit buffer is full (the control plane is not taking events); "
                    "the call was not made, retry later",
                    retry_after=5,
                )
            allowed = True
            event["decision"] = "allow"
            event["reason"] = f"{resolved.reason}; {decision.reason}; {ruled}"
            record, event["refreshed"] = await self._refresher.fresh(record)
            response = await self._send(request, record, provider, target, event, outcome)
            event["status"] = outcome.status
            if outcome.reason:
                event["reason"] = f"{event['reason']}; {outcome.reason}"
            self._count(outcome.status, "allow", None)
            return response
        except problems.Refusal as refusal:
            event["status"] = refusal.status
            event["decision"] = "allow" if allowed else "deny"
            code = refusal.code if refusal.reason is None else f"{refusal.code}: {refusal.reason}"
            event["reason"] = code if not allowed else f"{event['reason']}; {code}"
            self._count(refusal.status, event["decision"], refusal.code)
            return problems.response(refusal, {headers.AUDIT_ID: event["id"]})
        except Exception as e:
            # The type only: an exception message from deep inside could quote a value.
            log.error("internal error", extra={"fields": {"error": type(e).__name__}})
            internal = problems.Refusal(
                "internal_error", f"the sidecar failed ({type(e).__name__}); see its logs"
            )
            event["status"] = 500
            event["decision"] = "allow" if allowed else "deny"
            event["reason"] = "internal_error"
            self._count(500, event["decision"], "internal_error")
            return problems.response(internal, {headers.AUDIT_ID: event["id"]})
        finally:
            event["latency_ms"] = round((time.monotonic() - started) * 1000.0, 3)
            if reservation is not None:
                self._audits.commit(reservation, event)
            else:
                self._audits.record(event)

    def _rules(
        self,
        request: web.Request,
        call: headers.CallHeaders,
        record: records.GrantRecord,
        target: targets.Target,
        caller: str,
        now: float,
    ) -> str:
        """The policy rules' decision (docs/policy.md): the reason of an allow, or a refusal
        carrying the deny reason into audit."""
        compiled = self._app.rules
        if compiled is None:
            raise problems.Refusal("policy_denied", "the App's rules have not been compiled yet")
        port = None if target.port == targets.DEFAULT_PORTS.get(target.scheme) else target.port
        ruling = compiled.decide(
            rules.CallFacts(
                grant=record.name,
                provider=record.provider,
                principal_kind=record.principal_kind,
                caller=caller,
                method=request.method,
                host=target.host,
                path=target.path_and_query,
                source_ip=request.remote,
                port=port,
                narrowing=call.narrowing,
            ),
            now,
        )
        if ruling.allowed:
            return ruling.reason
        retry = None if ruling.retry_after is None else max(1, math.ceil(ruling.retry_after))
        raise problems.Refusal(ruling.code, ruling.reason, retry_after=retry, reason=ruling.reason)

    async def _send(
        self,
        request: web.Request,
        record: records.GrantRecord,
        provider: providers.CompiledProvider,
        target: targets.Target,
        event: audit.AuditEvent,
        outcome: forwarding.Outcome,
    ) -> web.StreamResponse:
        """Inject and forward. An OAuth2 call whose body fits ``retry_body_limit`` is retried
        once with a refreshed token when the upstream answers 401 (see
        ``Refresher.after_unauthorized``); a larger body streams and its 401 is relayed."""
        body: forwarding.RetryBody | None = None
        if provider.type == "oauth2":
            body = await forwarding.read_for_retry(request, self._settings.retry_body_limit)
        newer: records.GrantRecord | None = None

        async def on_unauthorized() -> bool:
            nonlocal newer
            try:
                newer = await self._refresher.after_unauthorized(record)
            except problems.Refusal as refusal:
                if refusal.code == "reauthorization_required":
                    raise
                return False
            return newer is not None

        retry = on_unauthorized if body is not None and body.complete else None
        response = await self._forward(
            request, record, provider, target, event, outcome, body, retry
        )
        if response is None and newer is not None:
            event["refreshed"] = True
            response = await self._forward(
                request, newer, provider, target, event, outcome, body, None
            )
        assert response is not None, "the forwarder answers unless told to retry"
        return response

    async def _forward(
        self,
        request: web.Request,
        record: records.GrantRecord,
        provider: providers.CompiledProvider,
        target: targets.Target,
        event: audit.AuditEvent,
        outcome: forwarding.Outcome,
        body: forwarding.RetryBody | None,
        on_unauthorized: forwarding.Unauthorized | None,
    ) -> web.StreamResponse | None:
        fields = await self._creds.open(record)
        try:
            injected = provider.injections.render(fields)
        except injection.InjectionError as e:
            raise problems.Refusal(
                "credential_unavailable",
                f"grant {record.name!r}: {e} (provider {provider.name!r})",
            ) from None
        url = yarl.URL(target.url, encoded=True)
        if injected.query:
            url = url.update_query(injected.query)
        outgoing = headers.forwarded(request.headers, replaced=injected.headers)
        outgoing.update(injected.headers)
        return await self._forwarder.forward(
            request, url, outgoing, event["id"], outcome, body=body, on_unauthorized=on_unauthorized
        )

    def _new_event(self, request: web.Request) -> audit.AuditEvent:
        return {
            "id": audit.new_event_id(),
            "time": audit.now(),
            "kind": "use",
            "namespace": self._settings.namespace,
            "app": self._settings.app,
            "caller": self._settings.caller,
            "principal": "",
            "grant": "",
            "provider": "",
            "method": request.method,
            "host": "",
            "path": "",
            "status": 0,
            "latency_ms": 0.0,
            "decision": "deny",
            "reason": "",
            "refreshed": False,
            "trace_id": "",
        }

    def _count(self, status: int, decision: str, code: str | None) -> None:
        self._metrics.count_request(status, decision)
        if code is not None:
            self._metrics.refusals[code] += 1


def _describe_call(event: audit.AuditEvent, call: headers.CallHeaders) -> None:
    event["trace_id"] = call.trace_id
    if call.reason:
        event["caller_reason"] = call.reason
    if call.context:
        event["context"] = call.context


def _check_target(
    url: str, provider: providers.CompiledProvider, allow_loopback: bool
) -> targets.Target:
    try:
        return targets.check_target(url, provider.allowed_hosts, allow_loopback=allow_loopback)
    except targets.TargetRefused as e:
        raise problems.Refusal(e.code, f"{headers.TARGET}: {e.detail}") from None


def _host(target: targets.Target) -> str:
    host = f"[{target.host}]" if ":" in target.host else target.host
    if target.port != targets.DEFAULT_PORTS.get(target.scheme):
        return f"{host}:{target.port}"
    return host
