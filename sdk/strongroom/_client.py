"""`App`: the synchronous client. Sending and reading only; building is in `_requests`."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from types import TracebackType
from typing import Unpack

import httpx

from strongroom import _requests


class App(_requests.BaseApp[httpx.BaseTransport, httpx.Client]):
    """Calls third-party APIs through the Strongroom sidecar; the token never enters this process.

    Every keyword given here is a default for each call, which a call can override::

        with strongroom.App(provider="github", user_token=jwt) as app:
            response = app.get("https://api.github.com/user")

    `base_url` is the sidecar's address; by default STRONGROOM_URL, else http://127.0.0.1:15080.
    `timeout` is httpx's (seconds or an `httpx.Timeout`, None for none). `transport` replaces the
    network (an `httpx.MockTransport` in tests). `headers` are sent with every call and forwarded
    to the third-party API.

    Responses are `httpx.Response` objects, whatever the third-party API answered (a 404 from
    GitHub is a response, not an exception); refusals by the sidecar raise `SidecarError`
    subclasses. Redirects are returned, never followed: following one would call the new host
    directly, without the sidecar.
    """

    def _open_client(self, transport: httpx.BaseTransport | None) -> httpx.Client:
        return httpx.Client(transport=transport, trust_env=False, follow_redirects=False)

    def request(
        self, method: str, url: str | httpx.URL, **options: Unpack[_requests.BodyOptions]
    ) -> httpx.Response:
        """Send `method url` through the sidecar and return the third-party API's response."""
        call = self._prepare(method, url, options)
        return self._send(call, stream=False)

    @contextlib.contextmanager
    def stream(
        self, method: str, url: str | httpx.URL, **options: Unpack[_requests.BodyOptions]
    ) -> Iterator[httpx.Response]:
        """Like `request`, with the response body left unread for `iter_bytes()` and friends."""
        call = self._prepare(method, url, options)
        response = self._send(call, stream=True)
        try:
            yield response
        finally:
            response.close()

    def get(self, url: str | httpx.URL, **options: Unpack[_requests.CallOptions]) -> httpx.Response:
        return self.request("GET", url, **options)

    def delete(
        self, url: str | httpx.URL, **options: Unpack[_requests.CallOptions]
    ) -> httpx.Response:
        return self.request("DELETE", url, **options)

    def post(
        self, url: str | httpx.URL, **options: Unpack[_requests.BodyOptions]
    ) -> httpx.Response:
        return self.request("POST", url, **options)

    def put(self, url: str | httpx.URL, **options: Unpack[_requests.BodyOptions]) -> httpx.Response:
        return self.request("PUT", url, **options)

    def patch(
        self, url: str | httpx.URL, **options: Unpack[_requests.BodyOptions]
    ) -> httpx.Response:
        return self.request("PATCH", url, **options)

    def close(self) -> None:
        """Close the connections to the sidecar (and the transport)."""
        self._client.close()

    def __enter__(self) -> App:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _send(self, call: _requests.PreparedCall, *, stream: bool) -> httpx.Response:
        try:
            response = self._client.send(call.request, stream=stream)
        except (httpx.ConnectError, httpx.ConnectTimeout) as e:
            raise call.unavailable(e) from e
        if _requests.is_sidecar_error(response):
            try:
                response.read()
            finally:
                response.close()
            raise call.error_for(response)
        call.present(response)
        return response
