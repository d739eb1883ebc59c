"""The first step of the handlers of the resources that belong to an App (Provider, Grant,
Agent): parse the body and check its references (:mod:`checks`), and when that fails, report it
and act on it the same way for every kind:

- invalid: reported, left alone until edited; the App's policy is refreshed all the same, since
  an earlier valid version of the resource may be in it;
- waiting for something it names: reported, and retried by kopf with a growing delay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import kopf

from strongroom_core.resources import models
from strongroom_operator.kopfhandlers import checks, indexes, reporting, runtime
from strongroom_operator.reconcile import outcomes

_R = TypeVar("_R", bound=models.Resource)

Report = Callable[[outcomes.Outcome], None]
"""Writes an outcome into the resource's status (the kind decides which fields)."""


async def checked(
    rt: runtime.Runtime,
    view: indexes.View,
    body: kopf.Body,
    patch: kopf.Patch,
    retry: int,
    kind: type[_R],
    report: Report | None = None,
) -> _R | None:
    """The parsed resource, or ``None`` when it is invalid (reported). Raises
    ``kopf.TemporaryError`` when it waits for something it names. ``report`` defaults to
    :func:`reporting.report` without the state field."""
    settings = rt.settings

    def say(outcome: outcomes.Outcome) -> None:
        if report is None:
            reporting.report(body, patch, outcome, rt.clock())
        else:
            report(outcome)

    try:
        resource = checks.parsed(body, kind, allow_loopback_http=settings.allow_loopback_http)
        checks.referenced(view, resource)
    except checks.Invalid as problem:
        say(problem.outcome)
        app_ref = body.get("spec", {}).get("appRef")
        if isinstance(app_ref, str):
            namespace = body.get("metadata", {}).get("namespace", "")
            await rt.publisher.refresh(view, namespace, app_ref)
        return None
    except checks.Waiting as problem:
        say(problem.outcome)
        delay = reporting.retry_delay(retry, settings.retry_delay, settings.max_retry_delay)
        raise kopf.TemporaryError(problem.outcome.message, delay=delay) from None
    return resource
