"""Who a verified token speaks for: the App's claim mapping turns claims into a
:class:`Principal` (user id and groups).

Claim names may be dotted paths into nested objects (Keycloak's ``realm_access.roles``). A
claim whose name itself contains a dot (``https://example.com/groups``, as Auth0 namespaces
them) is found too: an exact top-level name is tried before the path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from strongroom_core.identity import errors

MAX_GROUPS = 1000
MISSING = object()


@dataclass(frozen=True, slots=True)
class ClaimMapping:
    """``spec.identity.claims``: where the user id and the groups are."""

    user_id: str = "sub"
    groups: str = "groups"


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    groups: tuple[str, ...] = ()

    def is_member(self, group: str) -> bool:
        return group in self.groups

    @property
    def audit_name(self) -> str:
        """``user:<id>``, as audit records principals."""
        return f"user:{self.user_id}"


def lookup(claims: Mapping[str, Any], path: str) -> object:
    """The value at ``path`` (exact name first, then dotted path), or :data:`MISSING`."""
    if path in claims:
        return claims[path]
    value: object = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return MISSING
        value = value[part]
    return value


def principal_from_claims(claims: Mapping[str, Any], mapping: ClaimMapping) -> Principal:
    """Map verified claims; ``missing_claim`` when the user id is absent or not a string.

    Groups are optional: absent means none. A list of strings or a space-separated string is
    accepted; anything else is ``malformed_token`` (a mapping pointing at the wrong claim would
    otherwise silently drop every group).
    """
    user_id = lookup(claims, mapping.user_id)
    if user_id is MISSING or user_id is None:
        raise errors.IdentityError(
            "missing_claim",
            f"claim {mapping.user_id}: required (the App's identity.claims.userId); the token "
            "has no such claim",
        )
    if isinstance(user_id, int) and not isinstance(user_id, bool):
        user_id = str(user_id)
    if not isinstance(user_id, str) or not user_id:
        raise errors.IdentityError(
            "missing_claim",
            f"claim {mapping.user_id}: must be a non-empty string (identity.claims.userId)",
        )
    return Principal(user_id, _groups(lookup(claims, mapping.groups), mapping.groups))


def _groups(value: object, name: str) -> tuple[str, ...]:
    if value is MISSING or value is None:
        return ()
    if isinstance(value, str):
        groups = value.split()
    elif isinstance(value, list) and all(isinstance(g, str) for g in value):
        groups = value
    else:
        raise errors.IdentityError(
            "malformed_token",
            f"claim {name}: groups must be a list of strings or a space-separated string "
            "(identity.claims.groups)",
        )
    if len(groups) > MAX_GROUPS:
        raise errors.IdentityError(
            "malformed_token", f"claim {name}: more than {MAX_GROUPS} groups"
        )
    return tuple(dict.fromkeys(g for g in groups if g))
