"""`AsyncApp`: the asynchronous client. Sending and reading only; building is in `_requests`."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Unpack

import httpx

from strongroom import _requests


class AsyncApp(_requests.BaseApp[httpx.AsyncBaseTransport, httpx.AsyncClient]):
    """Calls third-party APIs through the Strongroom sidecar; the token never enters this process.

    Every keyword given here is a default for each call, which a call can override::

        async with strongroom.AsyncApp(provider="github", user_token=jwt) as app:
            response = await app.get("https://api.github.com/user")

    `base_url` is the sidecar's address; by default STRONGROOM_URL, else http://127.0.0.1:15080.
    `timeout` is httpx's (seconds or an `httpx.Timeout`, None for none). `transport` replaces the
    network (an `httpx.MockTransport` in tests). `headers` are sent with every call and forwarded
    to the third-party API.

    Responses are `httpx.Response` objects, whatever the third-party API answered (a 404 from
    GitHub is a response, not an exception); refusals by the sidecar raise `SidecarError`
    subclasses. Redirects are returned, never followed: following one would call the new host
    directly, without the sidecar.
    """

    def _open_client(self, transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=transport, trust_env=False, follow_redirects=False)

    async def request(
        self, method: str, url: str | httpx.URL, **options: Unpack[_requests.BodyOptions]
    ) -> httpx.Response:
        """Send `method url` through the sidecar and return the third-party API's response."""
        call = self._prepare(method, url, options)
        return await self._send(call, stream=False)

    @contextlib.asynccontextmanager
    async def stream(
        self, method: str, url: str | httpx.URL, **options: Unpack[_requests.BodyOptions]
    ) -> AsyncIterator[httpx.Response]:
        """Like `request`, with the response body left unread for `aiter_bytes()` and friends."""
        call = self._prepare(method, url, options)
        response = await self._send(call, stream=True)
        try:
            yield response
        finally:
            await response.aclose()

    async def get(
        self, url: str | httpx.URL, **options: Unpack[_requests.CallOptions]
    ) -> httpx.Response:
        return await self.request("GET", url, **options)

    async def delete(
        self, url: str | httpx.URL, **options: Unpack[_requests.CallOptions]
    ) -> httpx.Response:
        return await self.request("DELETE", url, **options)

    async def post(
        self, url: str | httpx.URL, **options: Unpack[_requests.BodyOptions]
    ) -> httpx.Response:
        return await self.request("POST", url, **options)

    async def put(
        self, url: str | httpx.URL, **options: Unpack[_requests.BodyOptions]
    ) -> httpx.Response:
        return await self.request("PUT", url, **options)

    async def patch(
        self, url: str | httpx.URL, **options: Unpack[_requests.BodyOptions]
    ) -> httpx.Response:
        return await self.request("PATCH", url, **options)

    async def aclose(self) -> None:
        """Close the connections to the sidecar (and the transport)."""
        await self._client.aclose()

    close = aclose
    """The same as `aclose()`, for symmetry with `App.close()`."""

    async def __aenter__(self) -> AsyncApp:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def _send(self, call: _requests.PreparedCall, *, stream: bool) -> httpx.Response:
        try:
            response = await self._client.send(call.request, stream=stream)
        except (httpx.ConnectError, httpx.ConnectTimeout) as e:
            raise call.unavailable(e) from e
        if _requests.is_sidecar_error(response):
            try:
                await response.aread()
            finally:
                await response.aclose()
            raise call.error_for(response)
        call.present(response)
        return response
