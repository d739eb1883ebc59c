"""Rule checks for resource validation: what the CRD schema cannot say (IANA zones exist, CIDRs
parse, path patterns use ``*`` and ``**`` only as whole segments, host patterns are usable, a
rule restricts something). Parsing runs these after the schema passed, so the API server's
checks and core's agree on everything else."""

from __future__ import annotations

from typing import Any

from strongroom_core.resources import errors
from strongroom_core.rules import specs


def check_app_rules(rules: Any, path: str = "spec.policy.rules") -> list[errors.FieldError]:
    """Problems of an App's rule list, each naming its field, e.g.
    ``spec.policy.rules[2].timeWindows[0].zone: unknown IANA zone "Mars/Base"; ...``."""
    if rules is None:
        return []
    if not isinstance(rules, list | tuple):
        return [errors.FieldError(path, "must be a list of rules")]
    found: list[errors.FieldError] = []
    for index, rule in enumerate(rules):
        found.extend(specs.read(rule, f"{path}[{index}]", selectors=True)[1])
    return found


def check_restrictions(raw: Any, path: str = "spec.restrictions") -> list[errors.FieldError]:
    """Problems of a Grant's restrictions, each naming its field."""
    if raw is None:
        return []
    return specs.read(raw, path, selectors=False)[1]
