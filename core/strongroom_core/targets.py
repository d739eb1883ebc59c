"""Where a credential may be sent: parsing a caller's target URL and checking it against the
provider's allowed hosts.

The parser here is deliberately strict and small instead of ``urllib.parse``: URL parsers
disagree about backslashes, ``@`` in odd places, percent-encoded hosts, numeric IPv4 forms
(``2130706433``, ``0x7f.1``) and Unicode dots, and every disagreement between the parser that
checks and the client that connects is a way to send a credential elsewhere. So anything that
is not plainly ``scheme://host[:port][/path][?query]`` is refused, never guessed at, and the
caller must forward to :attr:`Target.url` (the normalised form that was checked), never to the
string it was given.

Refusal codes are stable API (the sidecar returns them to callers):

- ``invalid_target``: not an absolute http(s) URL, unparsable, empty or malformed host or port,
  percent-encoded host, backslash, whitespace or control characters, dot segments in the path.
- ``userinfo_in_url``: ``user:password@`` in the authority.
- ``insecure_scheme``: ``http://``, allowed only for loopback hosts when ``allow_loopback``.
- ``ip_literal_not_allowed``: an IP address as host (IPv4 in any notation, IPv6); a loopback
  address is allowed only with ``allow_loopback`` and when an allowed-host pattern lists it.
- ``host_not_allowed``: the host (and port) matches no allowed-host pattern, or is a loopback
  name (``localhost``) without ``allow_loopback``.

Checks run in that order, so a URL with several problems gets the first code.
"""

from __future__ import annotations

import functools
import ipaddress
import urllib.parse
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import idna

RefusalCode = Literal[
    "invalid_target",
    "userinfo_in_url",
    "insecure_scheme",
    "ip_literal_not_allowed",
    "host_not_allowed",
]

DEFAULT_PORTS = {"https": 443, "http": 80}
MAX_URL_LENGTH = 8192
_LDH = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
_HEX = frozenset("0123456789abcdef")
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789+.-")


class TargetRefused(Exception):
    """The target URL may not receive a credential. ``code`` is one of the stable
    :data:`RefusalCode` values; ``detail`` says why and names the host, never a path or query
    (they may carry the caller's data)."""

    def __init__(self, code: RefusalCode, detail: str):
        super().__init__(f"{code}: {detail}")
        self.code: RefusalCode = code
        self.detail = detail


class InvalidHostPattern(ValueError):
    """An allowed-host pattern that cannot be used; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Target:
    """A checked target, normalised: lower-case ASCII (IDNA) host without a trailing dot and,
    for IPv6, without brackets; the effective port; path and query without the fragment."""

    scheme: str
    host: str
    port: int
    path_and_query: str
    """Starts with ``/``; non-ASCII characters are percent-encoded as UTF-8."""
    url: str
    """What to forward to: ``scheme://host[:port]path_and_query``, the port only when not the
    scheme's default, IPv6 hosts in brackets."""


@dataclass(frozen=True, slots=True)
class _Host:
    """A parsed host: the normalised name or address and what kind it is."""

    name: str
    kind: Literal["name", "ipv4", "ipv6", "numeric"]
    """``numeric`` is a non-canonical IPv4 form (``2130706433``, ``0x7f.1``, ``127.1``)."""
    loopback: bool


def _short(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _parse_port(text: str) -> int | None:
    """A decimal port 1-65535 without sign, spaces or leading zeros; ``None`` if not one."""
    if not (text.isascii() and text.isdigit()) or len(text) > 5 or text.startswith("0"):
        return None
    port = int(text)
    return port if 0 < port <= 65535 else None


def _is_number(label: str) -> bool:
    """WHATWG's "ends in a number": a label URL parsers read as part of an IPv4 address."""
    if label.isdigit():
        return True
    return label[:2] == "0x" and set(label[2:]) <= _HEX


def _canonical_ipv4(labels: list[str]) -> ipaddress.IPv4Address | None:
    if len(labels) != 4:
        return None
    for label in labels:
        if not label.isdigit() or (len(label) > 1 and label[0] == "0") or int(label) > 255:
            return None
    return ipaddress.IPv4Address(".".join(labels))


def _parse_host(text: str) -> _Host | str:
    """Normalise a host (without brackets or port); return an error text when malformed."""
    if "[" in text or "]" in text:
        return "brackets are only for IPv6 addresses"
    if not text:
        return "the host is empty"
    if "%" in text:
        return "percent-encoded characters in the host are not accepted"
    if text.isascii():
        name = text.lower()
    else:
        try:
            name = idna.encode(text, uts46=True).decode("ascii")
        except (idna.IDNAError, UnicodeError, ValueError):
            return "the host is not a valid internationalised domain name"
    if name.endswith("."):
        name = name[:-1]  # the DNS root: the same host, written fully qualified
    if not name or len(name) > 253:
        return "the host is empty or too long"
    labels = name.split(".")
    for label in labels:
        if not label or len(label) > 63:
            return "the host has an empty or over-long label"
        if not set(label) <= _LDH or label[0] == "-" or label[-1] == "-":
            return "the host has characters other than letters, digits, '-' and '.'"
        if label.startswith("xn--"):
            try:
                idna.decode(label)
            except (idna.IDNAError, UnicodeError, ValueError):
                return "the host has an invalid punycode (xn--) label"
    if _is_number(labels[-1]):
        address = _canonical_ipv4(labels)
        if address is None:
            return _Host(name, "numeric", False)
        return _Host(str(address), "ipv4", address in _IPV4_LOOPBACK)
    loopback = name == "localhost" or name.endswith(".localhost")
    return _Host(name, "name", loopback)


_IPV4_LOOPBACK = ipaddress.IPv4Network("127.0.0.0/8")
_IPV6_LOOPBACK = ipaddress.IPv6Address("::1")


def _parse_ipv6(text: str) -> _Host | str:
    if "%" in text:
        return "IPv6 zone identifiers are not accepted"
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        return "the bracketed host is not an IPv6 address"
    return _Host(str(address), "ipv6", address == _IPV6_LOOPBACK)


# Longest authority worth remembering: a 253-character host (or a bracketed IPv6 address) with
# ":65535". Anything longer is malformed anyway, and leaving it out bounds the cache's memory.
_CACHED_AUTHORITY_LENGTH = 253 + 6


def _split_host_port(authority: str) -> tuple[_Host, int | None] | str:
    """Split ``host[:port]`` or ``[v6][:port]``; an error text when malformed. A pure function
    of the string returning immutable values, so it is memoised: a sidecar calls the same few
    hosts over and over, and IDNA/IPv4 parsing was most of :func:`check_target`'s time."""
    if len(authority) <= _CACHED_AUTHORITY_LENGTH:
        return _split_host_port_cached(authority)
    return _split_host_port_uncached(authority)


def _split_host_port_uncached(authority: str) -> tuple[_Host, int | None] | str:
    if authority.startswith("["):
        close = authority.find("]")
        if close < 0:
            return "an IPv6 address is missing its closing bracket"
        host: _Host | str = _parse_ipv6(authority[1:close])
        rest = authority[close + 1 :]
        if rest and not rest.startswith(":"):
            return "unexpected text after the IPv6 address"
        port_text = rest[1:] if rest else None
    else:
        if authority.count(":") > 1:
            return "an IPv6 address must be in brackets"
        host_text, colon, port_text_raw = authority.partition(":")
        host = _parse_host(host_text)
        port_text = port_text_raw if colon else None
    if isinstance(host, str):
        return host
    if port_text is None:
        return host, None
    port = _parse_port(port_text)
    if port is None:
        return (
            f"the port {_short(port_text)} is not a decimal port from 1 to 65535 "
            "without leading zeros"
        )
    return host, port


_split_host_port_cached = functools.lru_cache(maxsize=1024)(_split_host_port_uncached)


def _normalise_path(path_and_query: str) -> str | None:
    """Path and query with a leading ``/``, non-ASCII percent-encoded; ``None`` when the path
    has dot segments (``/a/../b``, also percent-encoded), which servers and policy path rules
    could resolve differently."""
    if not path_and_query.startswith("/"):
        path_and_query = "/" + path_and_query
    if not path_and_query.isascii():
        path_and_query = urllib.parse.quote(path_and_query, safe="".join(map(chr, range(33, 127))))
    path = path_and_query.partition("?")[0]
    for segment in path.split("/"):
        if segment and segment.lower().replace("%2e", ".") in (".", ".."):
            return None
    return path_and_query


@dataclass(frozen=True, slots=True)
class AllowedHosts:
    """A provider's allowed-host patterns, compiled for set lookups on the hot path.

    ``api.github.com`` matches that host on the scheme's default port; ``host:port`` only that
    port; ``*.example.com`` any host with one or more labels before ``.example.com`` (never
    ``example.com`` itself, never ``evilexample.com``), on the default port or the one given.
    """

    patterns: tuple[str, ...]
    exact: frozenset[tuple[str, int | None]]
    wildcard: frozenset[tuple[str, int | None]]
    """Suffixes (without ``*.``) with their port; ``None`` is the scheme's default port."""

    @classmethod
    def compile(cls, patterns: Iterable[str]) -> AllowedHosts:
        """Raises :class:`InvalidHostPattern` naming the first bad pattern."""
        if isinstance(patterns, str):
            raise TypeError("allowed hosts must be a list of patterns, not one string")
        kept: list[str] = []
        exact: set[tuple[str, int | None]] = set()
        wildcard: set[tuple[str, int | None]] = set()
        for index, pattern in enumerate(patterns):
            parsed = _parse_pattern(pattern)
            if isinstance(parsed, str):
                raise InvalidHostPattern(f"allowedHosts[{index}] {_short(str(pattern))}: {parsed}")
            is_wildcard, host, port = parsed
            (wildcard if is_wildcard else exact).add((host, port))
            kept.append(pattern)
        return cls(tuple(kept), frozenset(exact), frozenset(wildcard))

    def allows(self, host: str, port: int | None = None, *, default_port: int = 443) -> bool:
        """Whether a normalised host (lower-case ASCII, IPv6 without brackets) and port match.
        ``port=None`` means the default port."""
        if port is None or port == default_port:
            keys: tuple[int | None, ...] = (None, default_port)
        else:
            keys = (port,)
        exact, wildcard = self.exact, self.wildcard
        for key in keys:
            if (host, key) in exact:
                return True
        if not wildcard:
            return False
        dot = host.find(".")
        while dot != -1:
            suffix = host[dot + 1 :]
            for key in keys:
                if (suffix, key) in wildcard:
                    return True
            dot = host.find(".", dot + 1)
        return False


def _parse_pattern(pattern: object) -> tuple[bool, str, int | None] | str:
    if not isinstance(pattern, str) or not pattern:
        return "a pattern must be a non-empty string"
    if "://" in pattern or "/" in pattern:
        return "write only the host (and port), without scheme or path, e.g. 'api.example.com'"
    if "@" in pattern:
        return "a pattern cannot contain '@'"
    if not pattern.isprintable() or " " in pattern or "\\" in pattern:
        return "a pattern cannot contain spaces, backslashes or control characters"
    is_wildcard = pattern.startswith("*.")
    body = pattern[2:] if is_wildcard else pattern
    if "*" in body:
        return "'*' is only allowed as the whole first label, as in '*.example.com'"
    split = _split_host_port(body)
    if isinstance(split, str):
        return split
    host, port = split
    if host.kind == "numeric":
        return "write IPv4 addresses as four decimal numbers"
    if host.kind != "name":
        if is_wildcard:
            return "a wildcard cannot cover IP addresses"
        if not host.loopback:
            return "IP addresses are not allowed as hosts (only loopback ones, for dev mode)"
    if is_wildcard and host.name.count(".") < 1:
        return "a wildcard needs at least two labels after '*.', as in '*.example.com'"
    return is_wildcard, host.name, port


@functools.lru_cache(maxsize=256)
def _compile_cached(patterns: tuple[str, ...]) -> AllowedHosts:
    return AllowedHosts.compile(patterns)


def _allowed(allowed_hosts: Sequence[str] | AllowedHosts) -> AllowedHosts:
    if isinstance(allowed_hosts, AllowedHosts):
        return allowed_hosts
    if isinstance(allowed_hosts, str):
        raise TypeError("allowed hosts must be a list of patterns, not one string")
    return _compile_cached(tuple(allowed_hosts))


def validate_host_pattern(pattern: str) -> str | None:
    """``None`` when the allowed-host pattern is usable, else the reason (for resource
    validation messages such as ``spec.allowedHosts[0]: <reason>``)."""
    parsed = _parse_pattern(pattern)
    return parsed if isinstance(parsed, str) else None


def host_allowed(
    host: str, port: int | None, patterns: Sequence[str] | AllowedHosts, *, scheme: str = "https"
) -> bool:
    """Whether ``host`` on ``port`` (``None``: the scheme's default) matches a pattern. The
    host is normalised first; a malformed host is never allowed. Raises
    :class:`InvalidHostPattern` for a bad pattern."""
    allowed = _allowed(patterns)
    text = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    parsed = _parse_ipv6(text) if ":" in text else _parse_host(text)
    if isinstance(parsed, str) or parsed.kind == "numeric":
        return False
    return allowed.allows(parsed.name, port, default_port=DEFAULT_PORTS.get(scheme, 443))


def _refuse(code: RefusalCode, detail: str) -> TargetRefused:
    return TargetRefused(code, detail)


def check_target(
    url: str, allowed_hosts: Sequence[str] | AllowedHosts, *, allow_loopback: bool
) -> Target:
    """Parse and check ``url``; return the normalised :class:`Target` to forward to, or raise
    :class:`TargetRefused` with a stable code. Pass a precompiled :class:`AllowedHosts` on the
    hot path (a list is compiled and cached)."""
    allowed = _allowed(allowed_hosts)
    if not isinstance(url, str) or not url:
        raise _refuse("invalid_target", "the target must be a non-empty absolute URL")
    if len(url) > MAX_URL_LENGTH:
        raise _refuse("invalid_target", f"the target URL is longer than {MAX_URL_LENGTH}")
    if not url.isprintable() or " " in url or "\\" in url:
        raise _refuse(
            "invalid_target",
            "the target URL contains whitespace, a backslash or control characters; "
            "percent-encode them in the path or query",
        )
    scheme_end = url.find("://")
    scheme = url[:scheme_end].lower() if scheme_end > 0 else ""
    if not scheme or not set(scheme) <= _SCHEME_CHARS or not scheme[0].isalpha():
        raise _refuse("invalid_target", "the target is not an absolute URL such as https://host/")
    if scheme not in DEFAULT_PORTS:
        raise _refuse("invalid_target", f"the scheme {_short(scheme)} is not supported; use https")
    rest = url[scheme_end + 3 :]
    end = len(rest)
    for delimiter in "/?#":
        found = rest.find(delimiter)
        if found != -1 and found < end:
            end = found
    authority = rest[:end]
    if "@" in authority:
        raise _refuse(
            "userinfo_in_url",
            "the target URL carries user information ('user@host'); remove it, credentials "
            "come from the grant",
        )
    if not authority:
        raise _refuse("invalid_target", "the target URL has an empty host")
    split = _split_host_port(authority)
    if isinstance(split, str):
        raise _refuse("invalid_target", f"host {_short(authority)}: {split}")
    host, port = split
    path_and_query = _normalise_path(rest[end:].partition("#")[0])
    if path_and_query is None:
        raise _refuse("invalid_target", "the target path has '.' or '..' segments; resolve them")
    loopback_ok = allow_loopback and host.loopback
    if scheme == "http" and not loopback_ok:
        raise _refuse(
            "insecure_scheme",
            f"plain http to {_short(host.name)} is refused; use https "
            "(http is only for loopback hosts in dev mode)",
        )
    if host.kind != "name" and not loopback_ok:
        raise _refuse(
            "ip_literal_not_allowed",
            f"the host {_short(host.name)} is an IP address; credentials only go to named hosts",
        )
    if host.loopback and not allow_loopback:
        raise _refuse(
            "host_not_allowed",
            f"the host {_short(host.name)} is loopback, allowed only in dev mode",
        )
    default_port = DEFAULT_PORTS[scheme]
    effective_port = default_port if port is None else port
    if not allowed.allows(host.name, effective_port, default_port=default_port):
        shown = host.name if port is None else f"{host.name}:{port}"
        raise _refuse(
            "host_not_allowed",
            f"the host {_short(shown)} is not in the provider's allowedHosts",
        )
    netloc = f"[{host.name}]" if host.kind == "ipv6" else host.name
    if effective_port != default_port:
        netloc = f"{netloc}:{effective_port}"
    return Target(
        scheme=scheme,
        host=host.name,
        port=effective_port,
        path_and_query=path_and_query,
        url=f"{scheme}://{netloc}{path_and_query}",
    )
