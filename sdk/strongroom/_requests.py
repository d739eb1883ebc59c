"""What `App` and `AsyncApp` share: the defaults and the building of the sidecar request.

The two clients differ only in how they send and read (await or not); everything that decides
what goes on the wire lives here, so the sync and async SDK cannot drift apart.

The request is built by hand rather than with `httpx.Client.build_request`: that method would add
the client's cookie jar, and cookies set by one third-party API (stored under the sidecar's
address) would then travel to every other API called through the same App.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Generic, TypedDict, TypeVar

import httpx
from httpx import _types as httpx_types

from strongroom import _arguments, _config, _errors_mapping, _exceptions, _protocol, _version

USER_AGENT = f"strongroom-python/{_version.__version__} python-httpx/{httpx.__version__}"
DEFAULT_HEADERS = {
    "Accept": "*/*",
    # Only what httpx can always decode: the sidecar passes the body through as it came.
    "Accept-Encoding": "gzip, deflate",
    "User-Agent": USER_AGENT,
}
DEFAULT_TIMEOUT = 30.0


class CallOptions(TypedDict, total=False):
    """Per-call options; each overrides the App's default for this call only."""

    grant: str | None
    """Name of the grant to use. Exclusive with `provider`."""
    provider: str | None
    """Name of the provider; the sidecar resolves the grant for the caller."""
    user_token: str | None
    """The end user's JWT (needed for user and group grants)."""
    agent_key: str | None
    """The calling agent's API key."""
    params: httpx_types.QueryParamTypes | None
    """Merged into the target URL's query string, as httpx merges them."""
    headers: httpx_types.HeaderTypes | None
    """Your own headers, forwarded to the third-party API (merged over the App's)."""
    timeout: httpx_types.TimeoutTypes | None
    """Seconds or an httpx.Timeout; None keeps the App's timeout."""
    reason: str | None
    """Why this call is made, for the audit record (at most 500 characters)."""
    context: dict[str, str] | None
    """String key/value pairs recorded in the audit record."""
    narrow: dict[str, list[str]] | None
    """Narrow the policy for this call only (`methods`, `paths`, `hosts`); it can only restrict,
    e.g. `{"methods": ["GET"], "paths": ["/repos/acme/**"]}`."""


class BodyOptions(CallOptions, total=False):
    """Per-call options plus the body, encoded by httpx exactly as for a direct call."""

    json: Any
    data: httpx_types.RequestData | None
    files: httpx_types.RequestFiles | None
    content: httpx_types.RequestContent | None


is_sidecar_error = _errors_mapping.is_sidecar_error

_OPTION_NAMES = BodyOptions.__required_keys__ | BodyOptions.__optional_keys__


@dataclasses.dataclass(frozen=True)
class PreparedCall:
    """One call, ready to send, with what is needed to present its outcome."""

    request: httpx.Request
    method: str
    target: httpx.URL
    secrets: tuple[str, ...]

    def error_for(
        self, response: httpx.Response
    ) -> _exceptions.SidecarError | _exceptions.SidecarUnavailable:
        """The typed exception for a sidecar error response (its body already read)."""
        response.request = httpx.Request(
            self.method,
            self.request.url,
            headers=[
                (key, value)
                for key, value in self.request.headers.raw
                if key.lower().decode("latin-1") not in _protocol.SECRET_HEADERS
            ],
        )
        return _errors_mapping.error_for(response, self.secrets)

    def present(self, response: httpx.Response) -> None:
        """Make an upstream response read like a direct call's.

        `response.request` (hence `response.url` and `raise_for_status()` messages) describes
        the upstream request instead of the hop to the sidecar, and holds none of the
        `Strongroom-*` headers, so logging it cannot leak the user token or agent key.
        """
        response.request = httpx.Request(
            self.method,
            self.target,
            headers=[
                (key, value)
                for key, value in self.request.headers.raw
                if not key.lower().decode("latin-1").startswith(_protocol.HEADER_PREFIX)
                and key.lower() != b"host"
            ],
        )

    def unavailable(self, error: httpx.TransportError) -> _exceptions.SidecarUnavailable:
        return _exceptions.SidecarUnavailable(
            f"cannot reach the Strongroom sidecar at {self.request.url} "
            f"({type(error).__name__}: {error}); "
            f"check that it runs and that {_config.ENV_VAR} points at it"
        )


Transport = TypeVar("Transport", bound=httpx.BaseTransport | httpx.AsyncBaseTransport)
Client = TypeVar("Client", bound=httpx.Client | httpx.AsyncClient)


class BaseApp(Generic[Transport, Client]):
    """Defaults for every call, the building of calls, and the httpx client that sends them.
    Subclassed by App (httpx.Client) and AsyncApp (httpx.AsyncClient), which name the client in
    `_open_client`; the constructor and its checks are this one."""

    def __init__(
        self,
        base_url: str | httpx.URL | None = None,
        *,
        grant: str | None = None,
        provider: str | None = None,
        user_token: str | None = None,
        agent_key: str | None = None,
        timeout: httpx_types.TimeoutTypes = DEFAULT_TIMEOUT,
        transport: Transport | None = None,
        headers: httpx_types.HeaderTypes | None = None,
    ) -> None:
        self._base_url = _config.sidecar_base_url(base_url)
        self._proxy_url = _config.proxy_url(self._base_url)
        self._grant = _arguments.name(grant, "grant")
        self._provider = _arguments.name(provider, "provider")
        _arguments.selector(self._grant, self._provider)
        self._user_token = _arguments.secret(user_token, "user_token")
        self._agent_key = _arguments.secret(agent_key, "agent_key")
        self._timeout = _arguments.timeout(timeout, "timeout")
        self._headers = httpx.Headers(DEFAULT_HEADERS)
        self._headers.update(_arguments.caller_headers(headers, "headers"))
        self._client: Client = self._open_client(transport)

    def _open_client(self, transport: Transport | None) -> Client:
        """The httpx client the calls go through. It must be made with ``trust_env=False`` (no
        proxy from HTTP_PROXY and no .netrc for the hop to the sidecar, which carries the end
        user's token) and ``follow_redirects=False`` (a redirect would call the new host
        directly, without the sidecar)."""
        raise NotImplementedError

    @property
    def base_url(self) -> httpx.URL:
        """The sidecar's address this App talks to."""
        return self._base_url

    def __repr__(self) -> str:
        # Secrets appear only as "set", so an App can be logged.
        parts = [f"base_url={str(self._base_url)!r}"]
        if self._grant is not None:
            parts.append(f"grant={self._grant!r}")
        if self._provider is not None:
            parts.append(f"provider={self._provider!r}")
        if self._user_token is not None:
            parts.append("user_token=<set>")
        if self._agent_key is not None:
            parts.append("agent_key=<set>")
        return f"{type(self).__name__}({', '.join(parts)})"

    def _prepare(self, method: str, url: str | httpx.URL, options: BodyOptions) -> PreparedCall:
        """Validate the call and build the request to the sidecar."""
        unknown = set(options) - _OPTION_NAMES
        if unknown:
            raise _exceptions.UsageError(f"unexpected argument(s): {', '.join(sorted(unknown))}")
        verb = _arguments.method(method)
        target = _arguments.target(url, options.get("params"))

        grant = _arguments.name(options.get("grant"), "grant")
        provider = _arguments.name(options.get("provider"), "provider")
        _arguments.selector(grant, provider)
        if grant is None and provider is None:
            # The grant/provider choice is one setting: naming either per call replaces both.
            grant, provider = self._grant, self._provider
        user_token = _arguments.secret(options.get("user_token"), "user_token")
        user_token = self._user_token if user_token is None else user_token
        agent_key = _arguments.secret(options.get("agent_key"), "agent_key")
        agent_key = self._agent_key if agent_key is None else agent_key
        reason = _arguments.reason(options.get("reason"))
        context = _arguments.context(options.get("context"))
        narrow = _arguments.narrow(options.get("narrow"))
        timeout = options.get("timeout")
        timeout_value = self._timeout if timeout is None else _arguments.timeout(timeout, "timeout")

        json, data = options.get("json"), options.get("data")
        files, content = options.get("files"), options.get("content")
        _arguments.body(json=json, data=data, files=files, content=content)

        forwarded = httpx.Headers(self._headers)
        forwarded.update(_arguments.caller_headers(options.get("headers"), "headers"))
        # Every steering value is ASCII after validation, except the reason: UTF-8 bytes.
        steering: list[tuple[bytes, bytes]] = [(_protocol.TARGET.encode(), str(target).encode())]
        for header, value in (
            (_protocol.GRANT, grant),
            (_protocol.PROVIDER, provider),
            (_protocol.USER_TOKEN, user_token),
            (_protocol.AGENT_KEY, agent_key),
            (_protocol.REASON, reason),
            (_protocol.CONTEXT, context),
            (_protocol.NARROW, narrow),
        ):
            if value is not None:
                encoded = value if isinstance(value, bytes) else value.encode("ascii")
                steering.append((header.encode(), encoded))

        request = httpx.Request(
            verb,
            self._proxy_url,
            headers=[*forwarded.raw, *steering],
            content=content,
            data=data,
            files=files,
            json=json,
            extensions={"timeout": timeout_value.as_dict()},
        )
        return PreparedCall(
            request=request,
            method=verb,
            target=target,
            secrets=tuple(s for s in (user_token, agent_key) if s is not None),
        )
