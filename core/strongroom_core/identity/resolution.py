"""Which grant an end user may use, and whether they may use the one a caller named.

- :func:`resolve` (caller named a provider and sent the user's token): the user's own grant for
  the provider beats a grant to one of their groups; two candidates at the same level are
  ``ambiguous_grant`` (never a guess); none is ``grant_not_found``. There is no fallback to a
  ``system`` grant: a caller acting for a user gets that user's access or nothing.
- :func:`authorize_explicit` (caller named the grant): a ``user`` grant needs that user's token,
  a ``group`` grant a member's token; ``system`` grants need none. ``agent`` grants belong to the
  agent feature and are refused here.

Both return a :class:`Resolution` whose ``reason`` goes into the audit event, or raise
``IdentityError`` whose ``code`` and ``status`` the sidecar answers with. Grant state (revoked,
expired) is checked afterwards by the caller: a user's revoked grant does not fall back to a
group grant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from strongroom_core.identity import errors, principals

MAX_NAMES_SHOWN = 5

Level = Literal["user", "group", "system"]


class GrantLike(Protocol):
    """What resolution reads of a grant; ``storage.records.GrantRecord`` fits."""

    @property
    def name(self) -> str: ...
    @property
    def provider(self) -> str: ...
    @property
    def principal_kind(self) -> str: ...
    @property
    def principal_id(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Candidate:
    name: str
    provider: str
    principal_kind: str
    principal_id: str


@dataclass(frozen=True, slots=True)
class Resolution:
    grant: str
    level: Level
    reason: str
    """Why this grant: for the audit event's ``reason``."""


def resolve(
    provider: str, principal: principals.Principal, candidates: Iterable[GrantLike]
) -> Resolution:
    users: list[str] = []
    groups: list[str] = []
    for grant in candidates:
        if grant.provider != provider:
            continue
        if grant.principal_kind == "user" and grant.principal_id == principal.user_id:
            users.append(grant.name)
        elif grant.principal_kind == "group" and principal.is_member(grant.principal_id):
            groups.append(grant.name)
    if users:
        name = _single(users, provider, f"user {principal.user_id!r}")
        return Resolution(name, "user", f"user grant {name!r} of user {principal.user_id!r}")
    if groups:
        name = _single(groups, provider, f"the groups of user {principal.user_id!r}")
        return Resolution(
            name, "group", f"group grant {name!r}: user {principal.user_id!r} is a member"
        )
    raise errors.IdentityError(
        "grant_not_found",
        f"provider {provider!r} has no grant for user {principal.user_id!r} or any of their "
        "groups; the user needs to connect first",
    )


def authorize_explicit(grant: GrantLike, principal: principals.Principal | None) -> Resolution:
    kind, owner = grant.principal_kind, grant.principal_id
    if kind == "system":
        return Resolution(grant.name, "system", f"system grant {grant.name!r} named by the caller")
    if kind not in ("user", "group"):
        raise errors.IdentityError(
            "principal_mismatch",
            f"grant {grant.name!r} belongs to {kind} {owner!r}; only that {kind} may use it",
        )
    if principal is None:
        raise errors.IdentityError(
            "principal_token_required",
            f"grant {grant.name!r} belongs to {kind} {owner!r}; send that {kind}'s token",
        )
    if kind == "user":
        if principal.user_id != owner:
            raise errors.IdentityError(
                "principal_mismatch",
                f"grant {grant.name!r} belongs to user {owner!r}, not to the token's user "
                f"{principal.user_id!r}",
            )
        return Resolution(
            grant.name, "user", f"user grant {grant.name!r} named, token of {owner!r}"
        )
    if not principal.is_member(owner):
        raise errors.IdentityError(
            "principal_mismatch",
            f"grant {grant.name!r} belongs to group {owner!r}; the token's user "
            f"{principal.user_id!r} is not a member",
        )
    return Resolution(
        grant.name, "group", f"group grant {grant.name!r} named, {principal.user_id!r} a member"
    )


def _single(names: list[str], provider: str, whom: str) -> str:
    if len(names) == 1:
        return names[0]
    names.sort()
    shown = ", ".join(names[:MAX_NAMES_SHOWN]) + (", ..." if len(names) > MAX_NAMES_SHOWN else "")
    raise errors.IdentityError(
        "ambiguous_grant",
        f"provider {provider!r} has {len(names)} grants for {whom} ({shown}); "
        "name one in Strongroom-Grant",
    )
