"""How a credential is put into an outgoing request.

A credential is a flat mapping of field names to strings (for example ``{"token": "..."}`` for a
managed secret, ``{"access_token": "...", "token_type": "Bearer"}`` for OAuth2, or
``{"username": "...", "password": "..."}``). An :class:`Injection` says where one goes.
Templates use ``{field}`` placeholders; an unknown field is an error naming the field, never a
silent empty string.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

InjectionType = Literal["bearer", "basic", "header", "query"]


@dataclass(frozen=True, slots=True)
class Injection:
    """One place a credential goes.

    - ``bearer``: ``Authorization: Bearer <format>``; ``format`` defaults to ``{token}`` for
      managed secrets and ``{access_token}`` for OAuth2 providers.
    - ``basic``: ``Authorization: Basic base64(<username>:<password>)``; ``username`` and
      ``password`` are templates (defaults ``{username}`` and ``{password}``).
    - ``header``: header ``name`` set to ``format``.
    - ``query``: query parameter ``name`` set to ``format``.
    """

    type: InjectionType
    name: str | None = None
    """Header name (``header``) or query parameter name (``query``); unused otherwise."""
    format: str | None = None
    """Template for the value; ``None`` means the type's default."""
    username: str = "{username}"
    """``basic`` only: template for the user part."""
    password: str = "{password}"
    """``basic`` only: template for the password part."""


@dataclass(slots=True)
class InjectedRequest:
    """What injection adds to a request: headers to set (replacing any the caller sent under the
    same name, case-insensitively) and query parameters to set."""

    headers: dict[str, str]
    query: dict[str, str]


def render(
    injections: tuple[Injection, ...], credential: Mapping[str, str], *, default_field: str
) -> InjectedRequest:
    """Render every injection with the credential's fields.

    ``default_field`` is the field a ``bearer`` injection uses without a format (``token`` for
    managed secrets, ``access_token`` for OAuth2). Raises :class:`InjectionError` naming the
    missing field (never its value) when a template refers to a field the credential lacks.
    """
    raise NotImplementedError  # filled in by the injection work


class InjectionError(ValueError):
    """A template names a field the credential does not have. The message names the field and
    the injection, never a credential value."""
