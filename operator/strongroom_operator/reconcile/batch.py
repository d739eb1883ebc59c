"""Reconcile a whole set of resources at once, as dev mode loads them from a folder: Apps first
(their keys), then each App's compiled policy, then Grants; grant records whose Grant left the
set are deleted last. The operator calls the same per-kind functions from its handlers."""

from __future__ import annotations

from collections.abc import Sequence

from strongroom_core.resources import models
from strongroom_operator.reconcile import agents, apps, context, grants, outcomes, policies

Report = dict[models.Ref, outcomes.Outcome]


async def reconcile_all(
    ctx: context.ReconcileContext, resources: Sequence[models.Resource]
) -> Report:
    """Resources must already have passed validation and reference checks."""
    report: Report = {}
    app_list = [r for r in resources if isinstance(r, models.App)]
    providers = {r.key: r for r in resources if isinstance(r, models.Provider)}
    grant_list = [r for r in resources if isinstance(r, models.Grant)]
    agent_list = [r for r in resources if isinstance(r, models.Agent)]

    for app in app_list:
        report[app.ref] = await apps.reconcile_app(ctx, app)
    # Policy before records: a sidecar that sees a new grant's record already knows the grant,
    # so it never answers policy_denied for a grant that is merely arriving.
    for app in app_list:
        secrets, provider_outcomes = await policies.seal_client_secrets(
            ctx, app, providers.values()
        )
        report.update(provider_outcomes)
        agent_wire, issued, agent_outcomes = await agents.agent_policies(ctx, app, agent_list)
        report.update(agent_outcomes)
        compiled = policies.compile_policy(
            app, providers.values(), grant_list, secrets, agents=agent_wire
        )
        await policies.publish_policy(ctx, compiled)
        for key in issued:
            ref: models.Ref = ("Agent", key.namespace, key.agent)
            if ctx.agent_keys is not None:
                await ctx.agent_keys(key)
            else:
                report[ref] = outcomes.pending(
                    "KeyUndelivered",
                    "a first API key was generated but nothing here can hand it over; get a "
                    "new one with `strongroom agent rotate`",
                )
    for grant in grant_list:
        provider = providers.get((grant.meta.namespace, grant.provider_ref))
        report[grant.ref] = await grants.reconcile_grant(ctx, grant, provider)
    for provider in providers.values():
        report.setdefault(provider.ref, outcomes.READY)
    for app in app_list:
        await _forget_departed_grants(ctx, app, grant_list)
    return report


async def _forget_departed_grants(
    ctx: context.ReconcileContext, app: models.App, present: Sequence[models.Grant]
) -> None:
    namespace, name = app.key
    keep = {g.meta.name for g in present if g.meta.namespace == namespace and g.app_ref == name}
    for record in await ctx.storage.list_grants(namespace, name):
        if record.name not in keep:
            await grants.delete_grant_record(ctx, namespace, record.name)
