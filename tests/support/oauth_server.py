"""The real OAuth 2.0 / OIDC authorization server (npm `oidc-provider`, tests/oauth_server/) as a
subprocess a test can start, query and stop.

Why a real server: refresh-token rotation with reuse detection, PKCE, JWKS rotation and token
expiry are exactly where hand-written fakes agree with the code under test and disagree with the
providers it meets. The server binds 127.0.0.1 only and dies with its parent (stdin closed).

    server = OAuthServer.start(tmp_path, access_token_ttl=2)
    try:
        token = server.client_credentials()
        server.counters()["token_requests"]["client_credentials"]
    finally:
        server.stop()

or use the `oauth_server` / `oauth_server_factory` fixtures from tests/support/fixtures.py.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import selectors
import shutil
import ssl
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypedDict

import httpx

from tests import canary
from tests.support import certificates

SERVER_DIR = Path(__file__).resolve().parents[1] / "oauth_server"
READY_TIMEOUT_SECONDS = 15.0


class Counters(TypedDict):
    """What GET /__test/counters answers. Counts since start or the last reset."""

    token_requests_total: int  # every POST /token, faults included
    token_requests: dict[str, int]  # by grant_type (requests the provider answered)
    token_errors: dict[str, int]  # by OAuth error code in the answer
    invalid_grant: int  # answers with error=invalid_grant
    refresh_token_reuse: int  # a consumed refresh token came back: its grant got revoked
    refresh_tokens_rotated: int  # refresh tokens consumed by a successful rotation
    grants_revoked: int  # grants revoked (reuse detection or revocation endpoint)
    tokens_issued: dict[str, int]  # successful token responses by grant_type
    faults_injected: int  # token requests answered by inject_faults()
    authorization_requests: int  # GET /auth
    jwks_requests: int  # GET /jwks
    key_rotations: int


class ServerError(RuntimeError):
    """The authorization server did not start, or its test admin API refused a request."""


@dataclasses.dataclass(frozen=True)
class Client:
    """An OAuth client registered at the server. The secret stays out of repr."""

    client_id: str
    client_secret: str = dataclasses.field(repr=False)
    auth_method: str = "client_secret_basic"

    def auth(self) -> tuple[str, str]:
        return (self.client_id, self.client_secret)

    def basic_authorization(self) -> str:
        """The client_secret_basic header value: both parts form-encoded first (RFC 6749
        2.3.1), which oidc-provider insists on."""
        quote = urllib.parse.quote_plus
        pair = f"{quote(self.client_id)}:{quote(self.client_secret)}"
        return "Basic " + base64.b64encode(pair.encode()).decode()


@dataclasses.dataclass
class OAuthServer:
    """A running authorization server. Endpoint URLs follow oidc-provider's defaults."""

    issuer: str
    port: int
    resource: str  # the resource indicator every access token is for
    audience: str  # the `aud` of every JWT access token
    web_client: Client  # confidential; authorization_code + PKCE + refresh_token
    service_client: Client  # client_credentials
    ca_file: Path | None  # the self-signed certificate to trust when started with tls=True
    _process: subprocess.Popen[bytes] = dataclasses.field(repr=False)
    _stderr_path: Path = dataclasses.field(repr=False)

    # ---- lifecycle ---------------------------------------------------------------------------

    @classmethod
    def start(
        cls,
        workdir: Path,
        *,
        access_token_ttl: int = 5,
        refresh_token_ttl: int = 3600,
        id_token_ttl: int = 3600,
        rotate_refresh_token: bool = True,
        accounts: dict[str, dict[str, Any]] | None = None,
        default_groups: list[str] | None = None,
        redirect_uris: list[str] | None = None,
        web_client_auth_method: str = "client_secret_basic",
        invalid_grant_status: int | None = None,
        quirks: dict[str, Any] | None = None,
        access_token_alg: str = "RS256",
        tls: bool = False,
        port: int = 0,
    ) -> OAuthServer:
        """Start `node server.mjs` and wait for its ready line.

        accounts maps a login to {"groups": [...], "email": ..., "name": ...}; any other login
        is accepted too and gets default_groups (["users"] unless given). invalid_grant_status
        makes the token endpoint answer invalid_grant with that status (401 like some providers)
        instead of 400. quirks: the token endpoint's other oddities, as server.mjs lists them
        (omit_refresh_token_on_refresh, omit_expires_in, expires_at, nest_under, form_encoded).
        """
        node = shutil.which("node")
        if node is None:
            raise ServerError("node is not on PATH: run scripts/setup (it installs Node packages)")
        if not (SERVER_DIR / "node_modules" / "oidc-provider").is_dir():
            raise ServerError(
                f"{SERVER_DIR}/node_modules is missing: run scripts/setup "
                "(npm ci in tests/oauth_server)"
            )
        workdir.mkdir(parents=True, exist_ok=True)
        web = Client("strongroom-web", canary.new("web-secret"), web_client_auth_method)
        service = Client("strongroom-service", canary.new("service-secret"))
        config: dict[str, Any] = {
            "access_token_ttl": access_token_ttl,
            "refresh_token_ttl": refresh_token_ttl,
            "id_token_ttl": id_token_ttl,
            "rotate_refresh_token": rotate_refresh_token,
            "accounts": accounts or {},
            "default_groups": default_groups if default_groups is not None else ["users"],
            "redirect_uris": redirect_uris or [],
            "web_client_id": web.client_id,
            "web_client_secret": web.client_secret,
            "web_client_auth_method": web.auth_method,
            "service_client_id": service.client_id,
            "service_client_secret": service.client_secret,
            "access_token_alg": access_token_alg,
            "quirks": (quirks or {})
            | ({"invalid_grant_status": invalid_grant_status} if invalid_grant_status else {}),
            "exit_when_stdin_closes": True,
        }
        ca_file = None
        if tls:
            ca_file, key_file = _self_signed_certificate(workdir)
            config["tls"] = {"cert": str(ca_file), "key": str(key_file)}
        stderr_path = workdir / "oauth-server.stderr"
        with stderr_path.open("wb") as stderr:
            process = subprocess.Popen(
                [node, "server.mjs", "--port", str(port), "--config", json.dumps(config)],
                cwd=SERVER_DIR,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
            )
        try:
            ready = _read_ready_line(process, stderr_path)
        except BaseException:
            _terminate(process)
            raise
        return cls(
            issuer=ready["issuer"],
            port=ready["port"],
            resource=ready["resource"],
            audience=ready["audience"],
            web_client=web,
            service_client=service,
            ca_file=ca_file,
            _process=process,
            _stderr_path=stderr_path,
        )

    def stop(self) -> None:
        """Stop the server and wait for it; safe to call twice."""
        _terminate(self._process)

    def __enter__(self) -> OAuthServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._process.poll() is None

    def stderr_text(self) -> str:
        """What the server wrote to stderr (warnings, server errors); for failure messages."""
        return self._stderr_path.read_text(errors="replace")

    # ---- endpoints ---------------------------------------------------------------------------

    @property
    def authorization_url(self) -> str:
        return f"{self.issuer}/auth"

    @property
    def token_url(self) -> str:
        return f"{self.issuer}/token"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/jwks"

    @property
    def revocation_url(self) -> str:
        return f"{self.issuer}/token/revocation"

    @property
    def introspection_url(self) -> str:
        return f"{self.issuer}/token/introspection"

    @property
    def userinfo_url(self) -> str:
        return f"{self.issuer}/me"

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def admin_url(self) -> str:
        return f"{self.issuer}/__test"

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """The `verify=` argument for httpx against this server."""
        return ssl.create_default_context(cafile=self.ca_file) if self.ca_file else True

    def http(self) -> httpx.Client:
        return httpx.Client(verify=self.verify, timeout=10.0)

    # ---- the test admin API --------------------------------------------------------------------

    def counters(self) -> Counters:
        counters: Counters = self._admin("GET", "counters")
        return counters

    def reset_counters(self) -> None:
        self._admin("POST", "counters/reset")

    def signing_key_ids(self) -> list[str]:
        """The published key ids, newest first (the first of each algorithm signs)."""
        return [key["kid"] for key in self._admin("GET", "keys")["keys"]]

    def rotate_signing_key(self, *, keep_old: bool = True) -> list[str]:
        """New RS256 and ES256 keys sign from now on; the old ones stay in the JWKS unless
        keep_old is false. Returns the published key ids, newest first."""
        answer = self._admin("POST", "rotate-keys", {"keep_old": keep_old})
        return [key["kid"] for key in answer["keys"]]

    def inject_faults(self, *, status: int = 503, count: int = 1) -> None:
        """Answer the next `count` token requests with `status` (a transient provider error)."""
        self._admin("POST", "faults", {"status": status, "count": count})

    def set_quirks(self, **quirks: Any) -> None:
        """Replace the token endpoint's quirks, e.g. set_quirks(invalid_grant_status=401,
        form_encoded=True); set_quirks() brings back plain RFC 6749 answers."""
        self._admin("POST", "quirks", quirks)

    def _admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        with self.http() as http:
            response = http.request(method, f"{self.admin_url}/{path}", json=body)
        if response.status_code != 200:
            raise ServerError(
                f"test admin API {method} /__test/{path}: {response.status_code} {response.text}"
            )
        return response.json()

    # ---- token endpoint helpers (each token they see is registered as a canary) ---------------

    def token_request(self, client: Client, form: dict[str, str]) -> httpx.Response:
        """POST the token endpoint with the client's auth method; the raw answer."""
        data = dict(form)
        headers = {}
        if client.auth_method == "client_secret_post":
            data |= {"client_id": client.client_id, "client_secret": client.client_secret}
        else:
            headers["authorization"] = client.basic_authorization()
        with self.http() as http:
            response = http.post(self.token_url, data=data, headers=headers)
        register_tokens(response)
        return response

    def client_credentials(self, scope: str = "api:read") -> dict[str, Any]:
        """A token for the service client; raises ServerError on an error answer."""
        form = {"grant_type": "client_credentials", "scope": scope}
        return _json_or_raise(self.token_request(self.service_client, form))

    def exchange_code(
        self, code: str, *, redirect_uri: str, code_verifier: str, client: Client | None = None
    ) -> dict[str, Any]:
        """Exchange an authorization code (authorize_with_browser) for a token response."""
        canary.register(code)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": code_verifier,
        }
        return _json_or_raise(self.token_request(client or self.web_client, form))

    def refresh(self, refresh_token: str, *, client: Client | None = None) -> httpx.Response:
        """One refresh; the raw answer, since tests assert on refusals too."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return self.token_request(client or self.web_client, form)


def register_tokens(response: httpx.Response) -> None:
    """Register every token in a token-endpoint answer (JSON, nested or form-encoded) with the
    canary watcher."""
    body: Any
    if response.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        body = dict(urllib.parse.parse_qsl(response.text))
    else:
        try:
            body = response.json()
        except ValueError:
            return
    stack = [body]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for field, value in item.items():
                if isinstance(value, dict):
                    stack.append(value)
                elif field in ("access_token", "refresh_token", "id_token") and isinstance(
                    value, str
                ):
                    canary.register(value)


def _json_or_raise(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    if response.status_code != 200 or not isinstance(body, dict):
        # error and error_description only: an answer never echoes a token, but stay careful.
        error = body if not isinstance(body, dict) else body.get("error")
        description = body.get("error_description", "") if isinstance(body, dict) else ""
        raise ServerError(
            f"token endpoint answered {response.status_code}: {error!r} {description}"
        )
    return body


def _read_ready_line(process: subprocess.Popen[bytes], stderr_path: Path) -> dict[str, Any]:
    """The first stdout line, within READY_TIMEOUT_SECONDS, or an error quoting stderr."""
    assert process.stdout is not None
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    buffer = b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while b"\n" not in buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ServerError(
                    f"the OAuth server printed no ready line within {READY_TIMEOUT_SECONDS:.0f} s; "
                    f"stderr:\n{_tail(stderr_path)}"
                )
            if not selector.select(remaining):
                continue
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                process.wait(timeout=5)
                raise ServerError(
                    f"the OAuth server exited with {process.returncode} before it was ready; "
                    f"stderr:\n{_tail(stderr_path)}"
                )
            buffer += chunk
    ready: dict[str, Any] = json.loads(buffer.split(b"\n", 1)[0])
    return ready


def _tail(path: Path, limit: int = 4000) -> str:
    text = path.read_text(errors="replace") if path.exists() else ""
    return text[-limit:]


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            stream.close()


@contextmanager
def running(workdir: Path, **options: Any) -> Iterator[OAuthServer]:
    """`with running(tmp_path, access_token_ttl=2) as server:` — stopped on the way out."""
    server = OAuthServer.start(workdir, **options)
    try:
        yield server
    finally:
        server.stop()


def _self_signed_certificate(workdir: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, its own CA, for https issuer tests."""
    return certificates.self_signed_loopback(
        workdir, "strongroom test oauth server", "oauth-server"
    )
