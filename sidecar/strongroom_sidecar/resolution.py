"""Which grant a call uses, and on whose behalf.

1. ``Strongroom-Agent-Key`` (optional) authenticates an agent (:mod:`agents`); from then on
   the call may only use what the agent's access set allows, and the caller in audit and in
   rules is ``agent/<name>``.
2. ``Strongroom-User-Token`` (optional) is verified against the App's identity provider
   (:mod:`identities`); a bad token is refused with its stable code even when the grant would
   not need it.
3. ``Strongroom-Grant`` names the grant. A ``user`` or ``group`` grant additionally needs that
   principal's token (``principal_token_required``, ``principal_mismatch``); an ``agent``
   grant needs that agent's key.
4. ``Strongroom-Provider`` alone: with a user token, the user's own grant beats a grant to one
   of their groups, and two at one level are ``ambiguous_grant`` (never a guess); with an agent
   key, the agent's own grant for the provider, else the single grant its access set reaches;
   otherwise the provider's single ``system`` grant.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from strongroom_core.identity import errors as identity_errors
from strongroom_core.identity import principals
from strongroom_core.identity import resolution as identity_resolution
from strongroom_core.storage import records
from strongroom_sidecar import agents, headers, identities, problems, providers, state


@dataclass(frozen=True, slots=True)
class Resolved:
    record: records.GrantRecord
    provider: providers.CompiledProvider
    principal: str
    """For audit: ``user:<id>`` when an end user's token chose or unlocked the grant, else the
    grant's ``<kind>:<id>``. Never the token."""
    agent: agents.Agent | None
    reason: str
    """Why this grant (and, for an agent, which access entry allowed it)."""


def authenticate(app: state.AppState, call: headers.CallHeaders) -> agents.Agent | None:
    """The agent whose key the call carries (``None`` without a key), or a refusal."""
    if call.agent_key is None:
        return None
    return app.agents.authenticate(call.agent_key, time.time())


async def resolve(
    app: state.AppState,
    call: headers.CallHeaders,
    identity: identities.Identity,
    agent: agents.Agent | None = None,
) -> Resolved:
    """The grant, its compiled provider and the principal, or a :class:`problems.Refusal`.
    ``agent`` is what :func:`authenticate` found for this call."""
    if agent is None and call.agent_key is not None:
        agent = authenticate(app, call)
    user = None
    if call.user_token is not None:
        wire = app.policy.get("identity") if app.policy is not None else None
        user = await identity.principal(call.user_token, wire)
    if call.grant is not None:
        record = _by_name(app, call.grant, call.provider)
        reason = _explicit(record, user, agent)
    elif call.provider is not None:
        if call.provider not in app.providers:
            raise problems.Refusal(
                "provider_not_found",
                f"{headers.PROVIDER}: no provider {call.provider!r} in App {app.app!r}",
            )
        if user is not None:
            record, reason = _for_user(app, call.provider, user)
        elif agent is not None:
            record, reason = _for_agent(app, call.provider, agent)
        else:
            record, reason = _system(app, call.provider)
    else:
        raise problems.Refusal(
            "grant_unspecified",
            f"name the grant in {headers.GRANT} or the provider in {headers.PROVIDER}",
        )
    provider = app.providers.get(record.provider)
    if provider is None:
        raise problems.Refusal(
            "provider_not_found",
            f"grant {record.name!r} uses provider {record.provider!r}, which App "
            f"{app.app!r} does not define (or its policy has not arrived yet)",
        )
    if agent is not None:
        reason = f"{reason}; {_agent_allows(app, agent, record)}"
    kind = record.principal_kind
    principal = (
        user.audit_name
        if user is not None and kind in ("user", "group")
        else f"{kind}:{record.principal_id}"
    )
    return Resolved(record, provider, principal, agent, reason)


def _by_name(app: state.AppState, name: str, provider: str | None) -> records.GrantRecord:
    record = app.grants.get(name)
    if record is None:
        if app.policy is not None and name in app.policy["grants"]:
            raise problems.Refusal(
                "grant_not_found",
                f"{headers.GRANT}: grant {name!r} has no credential yet (its status says why: "
                "seal one with `strongroom seal`, import one, or run the connect flow)",
            )
        raise problems.Refusal(
            "grant_not_found", f"{headers.GRANT}: no grant {name!r} in App {app.app!r}"
        )
    if provider is not None and record.provider != provider:
        raise problems.Refusal(
            "invalid_header",
            f"{headers.PROVIDER}: grant {name!r} is for provider {record.provider!r}, "
            f"not {provider!r}; send one of the two headers or make them agree",
        )
    return record


def _explicit(
    record: records.GrantRecord,
    user: principals.Principal | None,
    agent: agents.Agent | None,
) -> str:
    if record.principal_kind == "agent":
        if agent is None:
            raise problems.Refusal(
                "invalid_agent_key",
                f"grant {record.name!r} belongs to agent {record.principal_id!r}; send that "
                f"agent's key in {headers.AGENT_KEY}",
            )
        if agent.name != record.principal_id:
            raise problems.Refusal(
                "principal_mismatch",
                f"grant {record.name!r} belongs to agent {record.principal_id!r}, not to "
                f"agent {agent.name!r}",
            )
        return f"agent grant {record.name!r} named by its agent"
    try:
        return identity_resolution.authorize_explicit(record, user).reason
    except identity_errors.IdentityError as e:
        raise identities.refusal(e) from None


def _for_user(
    app: state.AppState, provider: str, user: principals.Principal
) -> tuple[records.GrantRecord, str]:
    names = app.grants_for_provider(provider, "user") + app.grants_for_provider(provider, "group")
    try:
        found = identity_resolution.resolve(provider, user, (app.grants[n] for n in names))
    except identity_errors.IdentityError as e:
        raise identities.refusal(e) from None
    return app.grants[found.grant], found.reason


def _for_agent(
    app: state.AppState, provider: str, agent: agents.Agent
) -> tuple[records.GrantRecord, str]:
    own = [
        n
        for n in app.grants_for_provider(provider, "agent")
        if app.grants[n].principal_id == agent.name
    ]
    if len(own) == 1:
        return app.grants[own[0]], f"agent {agent.name}'s own grant {own[0]!r}"
    if len(own) > 1:
        raise problems.Refusal(
            "ambiguous_grant",
            f"agent {agent.name} has {len(own)} grants for provider {provider!r} "
            f"({', '.join(own[:5])}); name one in {headers.GRANT}",
        )
    reachable = {n for n in agent.access.grants if _provider_of(app, n) == provider}
    if agent.access.allows_provider(provider):
        reachable.update(app.grants_for_provider(provider, "system"))
    # System grants the access set really allows (an entry's scopes may rule some out; user
    # and group grants need their principal's token, so they are never picked without one).
    reachable = {
        n
        for n in reachable
        if app.grants[n].principal_kind == "system" and _allowed(agent, app.grants[n])
    }
    if not reachable:
        raise problems.Refusal(
            "policy_denied",
            f"agent {agent.name}'s access set (spec.access) reaches no grant of provider "
            f"{provider!r}; add the provider or one of its grants to the Agent",
        )
    if len(reachable) > 1:
        shown = ", ".join(sorted(reachable)[:5])
        raise problems.Refusal(
            "ambiguous_grant",
            f"agent {agent.name} may use {len(reachable)} grants of provider {provider!r} "
            f"({shown}); name one in {headers.GRANT}",
        )
    name = reachable.pop()
    return app.grants[name], (
        f"grant {name!r}, the only grant of provider {provider!r} agent {agent.name} may use"
    )


def _allowed(agent: agents.Agent, record: records.GrantRecord) -> bool:
    return agent.access.check(
        record.name, record.provider, record.principal_kind, record.principal_id, record.scopes
    )[0]


def _provider_of(app: state.AppState, grant: str) -> str | None:
    record = app.grants.get(grant)
    return record.provider if record is not None else None


def _system(app: state.AppState, provider: str) -> tuple[records.GrantRecord, str]:
    candidates = app.grants_for_provider(provider, "system")
    if len(candidates) > 1:
        raise problems.Refusal(
            "ambiguous_grant",
            f"provider {provider!r} has {len(candidates)} system grants "
            f"({', '.join(candidates[:5])}); name one in {headers.GRANT}",
        )
    if candidates:
        return app.grants[candidates[0]], f"the system grant of provider {provider!r}"
    if app.grants_for_provider(provider, "user") or app.grants_for_provider(provider, "group"):
        raise problems.Refusal(
            "principal_token_required",
            f"provider {provider!r} has only user or group grants; send the end user's token "
            f"in {headers.USER_TOKEN}",
        )
    raise problems.Refusal(
        "grant_not_found", f"provider {provider!r} has no system grant in App {app.app!r}"
    )


def _agent_allows(app: state.AppState, agent: agents.Agent, record: records.GrantRecord) -> str:
    allowed, reason = agent.access.check(
        record.name, record.provider, record.principal_kind, record.principal_id, record.scopes
    )
    if not allowed:
        raise problems.Refusal("policy_denied", reason, reason=reason)
    return reason
