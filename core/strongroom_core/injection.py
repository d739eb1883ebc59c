"""How a credential is put into an outgoing request.

A credential is a flat mapping of field names to strings (for example ``{"token": "..."}`` for a
managed secret, ``{"access_token": "...", "token_type": "Bearer"}`` for OAuth2, or
``{"username": "...", "password": "..."}``). An :class:`Injection` says where one goes.
Templates use ``{field}`` placeholders; an unknown field is an error naming the field, never a
silent empty string.

Templates are parsed by a strict formatter, not ``str.format``: a placeholder is a bare field
name and nothing else. ``str.format`` would follow ``{token.__class__}`` or ``{0[x]}`` into the
object graph and honour format specs such as ``{token:>9999999}``; an admin-written template must
not be able to do either, so such templates are refused when compiled.

The sidecar renders on every request, so :class:`CompiledInjections` parses the templates once
per provider and rendering is string joins only. :func:`render` is the simple front that
compiles (cached) and renders in one call.
"""

from __future__ import annotations

import base64
import functools
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

InjectionType = Literal["bearer", "basic", "header", "query"]

INJECTION_TYPES: tuple[InjectionType, ...] = ("bearer", "basic", "header", "query")


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
    password: str = "{password}"  # noqa: S105 - a template, not a password
    """``basic`` only: template for the password part."""


@dataclass(slots=True)
class InjectedRequest:
    """What injection adds to a request: headers to set (replacing any the caller sent under the
    same name, case-insensitively) and query parameters to set."""

    headers: dict[str, str]
    query: dict[str, str]


class InjectionError(ValueError):
    """A template names a field the credential does not have. The message names the field and
    the injection, never a credential value.

    Also raised for an injection that can never work (a bad template, a header or query
    injection without a name, a forbidden header name, two injections writing the same place)
    and for a credential value that cannot be sent safely (a header value with a line break).
    """

    def __init__(self, message: str, *, field: str | None = None, injection: str | None = None):
        super().__init__(message)
        self.field = field
        """The credential field concerned, if any (a name, never a value)."""
        self.injection = injection
        """Which injection, as ``injections[<index>] (<type> ...)``, if known."""


# A field name is an identifier, optionally with dashes (``api-key``): no dots, brackets or
# digits-only names, so nothing can be read as attribute or index access.
_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
# RFC 9110 token characters for a header name.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# Headers that frame the message or pick the upstream; a credential must never set them.
_FORBIDDEN_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "upgrade",
        "te",
        "trailer",
        "proxy-connection",
    }
)
_FORMATTER = string.Formatter()


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed ``{field}`` template: literal text and field names, alternating."""

    source: str
    parts: tuple[tuple[str, str | None], ...]
    """``(literal, field)`` pairs; ``field`` is ``None`` for trailing literal text."""
    fields: tuple[str, ...]
    """Field names in order of first use, without repeats."""

    @classmethod
    def parse(cls, template: str, *, where: str = "template") -> Template:
        """Parse strictly; raise :class:`InjectionError` naming ``where`` on anything but
        literal text, ``{{``/``}}`` escapes and ``{name}`` placeholders."""
        if not isinstance(template, str):
            raise InjectionError(f"{where} must be a string", injection=where)
        try:
            parsed = list(_FORMATTER.parse(template))
        except ValueError as e:
            raise InjectionError(
                f"{where} {template!r} is not a valid template ({e}); write placeholders as "
                "{field} and literal braces as {{ and }}",
                injection=where,
            ) from None
        parts: list[tuple[str, str | None]] = []
        fields: list[str] = []
        for literal, field, spec, conversion in parsed:
            if field is None:
                parts.append((literal, None))
                continue
            if not _FIELD_NAME.fullmatch(field):
                raise InjectionError(
                    f"{where} {template!r} has placeholder {{{field}}}: a placeholder must be a "
                    "plain field name such as {token} (no attribute access, index or position)",
                    injection=where,
                )
            if spec or conversion:
                raise InjectionError(
                    f"{where} {template!r} has a conversion or format spec on {{{field}}}; "
                    f"only plain {{{field}}} is allowed",
                    injection=where,
                )
            parts.append((literal, field))
            if field not in fields:
                fields.append(field)
        return cls(source=template, parts=tuple(parts), fields=tuple(fields))

    def render(self, credential: Mapping[str, str], *, where: str) -> str:
        out: list[str] = []
        for literal, field in self.parts:
            out.append(literal)
            if field is not None:
                value = credential.get(field)
                if not isinstance(value, str):
                    raise _missing(field, credential, where, present=value is not None)
                out.append(value)
        return "".join(out)


def validate_template(template: str) -> list[str]:
    """The field names a template uses, in order of first use.

    Raises :class:`InjectionError` for a template the strict formatter refuses, so resource
    validation can check templates against ``secret.fields`` before anything renders.
    """
    return list(Template.parse(template).fields)


def _missing(field: str, credential: Mapping[str, str], where: str, *, present: bool) -> Exception:
    if present:
        problem = f"uses field {field!r}, whose value in the credential is not a string"
    else:
        known = ", ".join(sorted(k for k in credential if isinstance(k, str))) or "none"
        problem = f"uses field {field!r}, which the credential does not have (its fields: {known})"
    return InjectionError(
        f"{where} {problem}; store the field in the Grant's credential or fix the template",
        field=field,
        injection=where,
    )


def _describe(index: int, injection: Injection) -> str:
    if injection.type in ("header", "query") and injection.name:
        return f"injections[{index}] ({injection.type} {injection.name!r})"
    return f"injections[{index}] ({injection.type})"


@dataclass(frozen=True, slots=True)
class _Step:
    """One compiled injection: where it writes and the templates it renders."""

    kind: InjectionType
    target: str
    """Header name (bearer and basic: ``Authorization``) or query parameter name."""
    value: Template
    password: Template | None
    """``basic`` only; ``value`` holds the username then."""
    where: str


@dataclass(frozen=True, slots=True)
class CompiledInjections:
    """A provider's injections, parsed and checked once; :meth:`render` runs per request."""

    steps: tuple[_Step, ...]
    fields: frozenset[str]
    """Every credential field some injection uses: a credential lacking one cannot be used."""
    header_names: frozenset[str]
    """Lower-cased names of the headers injection sets; the caller's copies are dropped."""
    query_names: frozenset[str]
    """Query parameters injection sets; the caller's copies are dropped."""

    @classmethod
    def compile(cls, injections: Iterable[Injection], *, default_field: str) -> CompiledInjections:
        """Check and parse every injection. Raises :class:`InjectionError` for one that can
        never work: unknown type, missing or invalid name, bad template, forbidden header, or
        two injections writing the same header or query parameter."""
        if not _FIELD_NAME.fullmatch(default_field):
            raise InjectionError(f"default field {default_field!r} is not a valid field name")
        steps: list[_Step] = []
        headers: dict[str, str] = {}
        queries: dict[str, str] = {}
        for index, injection in enumerate(injections):
            where = _describe(index, injection)
            step = _compile_one(injection, default_field=default_field, where=where)
            seen = headers if step.kind != "query" else queries
            key = step.target.lower() if step.kind != "query" else step.target
            if key in seen:
                raise InjectionError(
                    f"{where} writes {step.target!r}, which {seen[key]} already writes; "
                    "keep one of them",
                    injection=where,
                )
            seen[key] = where
            steps.append(step)
        fields = frozenset(
            field
            for step in steps
            for template in (step.value, step.password)
            if template is not None
            for field in template.fields
        )
        return cls(
            steps=tuple(steps),
            fields=fields,
            header_names=frozenset(headers),
            query_names=frozenset(queries),
        )

    def render(self, credential: Mapping[str, str]) -> InjectedRequest:
        """Render every injection with the credential's fields."""
        headers: dict[str, str] = {}
        query: dict[str, str] = {}
        for step in self.steps:
            value = step.value.render(credential, where=step.where)
            if step.kind == "query":
                query[step.target] = value
                continue
            if step.kind == "bearer":
                value = "Bearer " + value
            elif step.kind == "basic":
                assert step.password is not None
                if ":" in value:
                    raise InjectionError(
                        f"{step.where} renders a username containing ':', which Basic "
                        f"authentication cannot carry (fields: {', '.join(step.value.fields)})",
                        injection=step.where,
                    )
                password = step.password.render(credential, where=step.where)
                pair = f"{value}:{password}".encode()
                value = "Basic " + base64.b64encode(pair).decode("ascii")
            if not (value.isascii() and value.isprintable()):
                raise InjectionError(
                    f"{step.where} renders a header value with a control or non-ASCII character "
                    f"from fields {', '.join(_fields_of(step)) or '(none)'}; a header cannot carry "
                    "it (check the stored credential for a stray newline)",
                    injection=step.where,
                )
            headers[step.target] = value
        return InjectedRequest(headers=headers, query=query)


def _fields_of(step: _Step) -> tuple[str, ...]:
    if step.password is None:
        return step.value.fields
    return step.value.fields + tuple(f for f in step.password.fields if f not in step.value.fields)


def _compile_one(injection: Injection, *, default_field: str, where: str) -> _Step:
    kind = injection.type
    if kind not in INJECTION_TYPES:
        raise InjectionError(
            f"{where} has type {kind!r}; use one of {', '.join(INJECTION_TYPES)}", injection=where
        )
    default_format = "{" + default_field + "}"
    if kind == "bearer":
        value = Template.parse(injection.format or default_format, where=f"{where} format")
        return _Step(kind, "Authorization", value, None, where)
    if kind == "basic":
        user = Template.parse(injection.username, where=f"{where} username")
        password = Template.parse(injection.password, where=f"{where} password")
        return _Step(kind, "Authorization", user, password, where)
    name = injection.name
    if not name:
        raise InjectionError(f"{where} needs a name (the {kind} to set)", injection=where)
    if kind == "header":
        if not _HEADER_NAME.fullmatch(name):
            raise InjectionError(
                f"{where} has name {name!r}, which is not a valid HTTP header name",
                injection=where,
            )
        if name.lower() in _FORBIDDEN_HEADERS:
            raise InjectionError(
                f"{where} would set {name!r}, a header that frames or routes the request; "
                "a credential cannot go there",
                injection=where,
            )
    elif not name.isprintable() or not name.strip():
        raise InjectionError(
            f"{where} has a query parameter name with control characters or only spaces",
            injection=where,
        )
    value = Template.parse(injection.format or default_format, where=f"{where} format")
    return _Step(kind, name, value, None, where)


@functools.lru_cache(maxsize=256)
def _compile_cached(injections: tuple[Injection, ...], default_field: str) -> CompiledInjections:
    return CompiledInjections.compile(injections, default_field=default_field)


def render(
    injections: tuple[Injection, ...], credential: Mapping[str, str], *, default_field: str
) -> InjectedRequest:
    """Render every injection with the credential's fields.

    ``default_field`` is the field a ``bearer`` injection uses without a format (``token`` for
    managed secrets, ``access_token`` for OAuth2). Raises :class:`InjectionError` naming the
    missing field (never its value) when a template refers to a field the credential lacks.
    """
    return _compile_cached(tuple(injections), default_field).render(credential)


def from_spec(
    items: Sequence[Mapping[str, object]], *, where: str = "injections"
) -> tuple[Injection, ...]:
    """Build injections from their resource/wire form (``spec.injections`` or
    ``policy.InjectionWire``), naming the offending key on a wrong type."""
    out: list[Injection] = []
    for index, item in enumerate(items):
        path = f"{where}[{index}]"
        if not isinstance(item, Mapping):
            raise InjectionError(f"{path} must be an object", injection=path)
        unknown = set(item) - {"type", "name", "format", "username", "password"}
        if unknown:
            raise InjectionError(
                f"{path} has unknown keys {', '.join(sorted(map(str, unknown)))}", injection=path
            )
        kind = item.get("type", "bearer")
        if kind not in INJECTION_TYPES:
            raise InjectionError(
                f"{path}.type is {kind!r}; use one of {', '.join(INJECTION_TYPES)}",
                injection=path,
            )
        values: dict[str, str | None] = {}
        for key in ("name", "format", "username", "password"):
            value = item.get(key)
            if value is not None and not isinstance(value, str):
                raise InjectionError(f"{path}.{key} must be a string", injection=path)
            values[key] = value
        username, password = values["username"], values["password"]
        out.append(
            Injection(
                type=kind,
                name=values["name"],
                format=values["format"],
                username="{username}" if username is None else username,
                password="{password}" if password is None else password,
            )
        )
    return tuple(out)


def check(
    injections: Sequence[Injection], *, default_field: str, fields: Iterable[str]
) -> list[tuple[str, str]]:
    """Every problem with a Provider's injections as ``(path, message)`` pairs, the path
    relative to the spec (``injections[1]``), for resource validation: an injection that can
    never work, two writing the same place, or a template using a field the credential does not
    declare (``fields``: ``secret.fields``, or the OAuth2 credential fields)."""
    declared = frozenset(fields)
    problems: list[tuple[str, str]] = []
    compiled_ok = True
    for index, item in enumerate(injections):
        path = f"injections[{index}]"
        try:
            single = CompiledInjections.compile([item], default_field=default_field)
        except InjectionError as e:
            problems.append((path, str(e).replace("injections[0]", path, 1)))
            compiled_ok = False
            continue
        for field in sorted(single.fields - declared):
            problems.append(
                (
                    path,
                    f"{path} uses field {field!r}, which the Provider's credential does not "
                    f"declare (declared: {', '.join(sorted(declared)) or 'none'}); add it to "
                    "secret.fields or fix the template",
                )
            )
    if compiled_ok:
        try:
            CompiledInjections.compile(injections, default_field=default_field)
        except InjectionError as e:
            problems.append((e.injection.split(" ")[0] if e.injection else "injections", str(e)))
    return problems
