"""Which grant a call uses.

1. ``Strongroom-Grant`` names it. A ``user`` or ``group`` grant additionally needs that
   principal's token: no code in the pod uses Alice's grant without Alice.
2. ``Strongroom-Provider`` alone picks the provider's single ``system`` grant; several are
   ``ambiguous_grant``, never a guess. With a user token, the grant would be found by the end
   user's identity, which needs JWT verification (the next work item): ``501``.
3. ``Strongroom-Agent-Key`` and ``agent`` grants wait for the agents feature: ``401``.
"""

from __future__ import annotations

from strongroom_core.storage import records
from strongroom_sidecar import headers, problems, providers, state

AGENTS_LATER = "agent keys arrive with the agents feature"
JWT_LATER = (
    "verifying the end user's token (JWT identity) arrives with the next release; "
    "until then use a system grant"
)


def resolve(
    app: state.AppState, call: headers.CallHeaders
) -> tuple[records.GrantRecord, providers.CompiledProvider]:
    """The grant and its compiled provider, or a :class:`problems.Refusal`."""
    if call.agent_key is not None:
        raise problems.Refusal("invalid_agent_key", f"{headers.AGENT_KEY}: {AGENTS_LATER}")
    if call.grant is not None:
        record = _by_name(app, call.grant, call.provider)
    elif call.provider is not None:
        record = _by_provider(app, call.provider, call.user_token is not None)
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
    _check_principal(record, call)
    return record, provider


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


def _by_provider(app: state.AppState, provider: str, has_user_token: bool) -> records.GrantRecord:
    if provider not in app.providers:
        raise problems.Refusal(
            "provider_not_found", f"{headers.PROVIDER}: no provider {provider!r} in App {app.app!r}"
        )
    if has_user_token:
        raise problems.Refusal("jwt_identity_not_available", JWT_LATER)
    candidates = app.grants_for_provider(provider, "system")
    if len(candidates) > 1:
        raise problems.Refusal(
            "ambiguous_grant",
            f"provider {provider!r} has {len(candidates)} system grants "
            f"({', '.join(candidates[:5])}); name one in {headers.GRANT}",
        )
    if candidates:
        return app.grants[candidates[0]]
    if app.grants_for_provider(provider, "user") or app.grants_for_provider(provider, "group"):
        raise problems.Refusal(
            "principal_token_required",
            f"provider {provider!r} has only user or group grants; send the end user's token "
            f"in {headers.USER_TOKEN}",
        )
    raise problems.Refusal(
        "grant_not_found", f"provider {provider!r} has no system grant in App {app.app!r}"
    )


def _check_principal(record: records.GrantRecord, call: headers.CallHeaders) -> None:
    kind = record.principal_kind
    if kind in ("user", "group"):
        if call.user_token is None:
            raise problems.Refusal(
                "principal_token_required",
                f"grant {record.name!r} belongs to {kind} {record.principal_id!r}; send that "
                f"{kind}'s token in {headers.USER_TOKEN}",
            )
        raise problems.Refusal("jwt_identity_not_available", JWT_LATER)
    if kind == "agent":
        raise problems.Refusal(
            "invalid_agent_key", f"grant {record.name!r} belongs to an agent; {AGENTS_LATER}"
        )
