"""What the SDK puts on the wire to the sidecar, on both clients."""

import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

import strongroom

from .conftest import AGENT_KEY, USER_TOKEN, Caller, FakeSidecar, MakeCaller

GITHUB = "https://api.github.com/user"


async def test_steering_headers_carry_every_given_argument(
    caller: Caller, sidecar: FakeSidecar
) -> None:
    await caller.request(
        "GET",
        GITHUB,
        grant="alice-github",
        user_token=USER_TOKEN,
        agent_key=AGENT_KEY,
        reason="show the profile",
        context={"ticket": "T-1", "step": "2"},
    )
    sent = sidecar.last
    assert sent.method == "GET"
    assert sent.url == "http://127.0.0.1:15080/proxy"
    assert sent.headers["Strongroom-Target"] == GITHUB
    assert sent.headers["Strongroom-Grant"] == "alice-github"
    assert sent.headers["Strongroom-User-Token"] == USER_TOKEN
    assert sent.headers["Strongroom-Agent-Key"] == AGENT_KEY
    assert sent.headers["Strongroom-Reason"] == "show the profile"
    assert json.loads(sent.headers["Strongroom-Context"]) == {"ticket": "T-1", "step": "2"}
    assert "Strongroom-Provider" not in sent.headers


async def test_only_the_target_is_sent_when_nothing_else_is_given(
    caller: Caller, sidecar: FakeSidecar
) -> None:
    await caller.request("GET", GITHUB)
    steering = [key for key in sidecar.last.headers if key.lower().startswith("strongroom-")]
    assert steering == ["strongroom-target"]


async def test_app_defaults_apply_to_every_call(
    make_caller: MakeCaller, sidecar: FakeSidecar
) -> None:
    caller = make_caller(provider="github", user_token=USER_TOKEN, agent_key=AGENT_KEY)
    await caller.request("GET", GITHUB)
    assert sidecar.last.headers["Strongroom-Provider"] == "github"
    assert sidecar.last.headers["Strongroom-User-Token"] == USER_TOKEN
    assert sidecar.last.headers["Strongroom-Agent-Key"] == AGENT_KEY


async def test_per_call_arguments_override_the_app_defaults(
    make_caller: MakeCaller, sidecar: FakeSidecar
) -> None:
    caller = make_caller(provider="github", user_token=USER_TOKEN)
    await caller.request("GET", GITHUB, provider="slack", user_token="bob.jwt.token")
    assert sidecar.last.headers["Strongroom-Provider"] == "slack"
    assert sidecar.last.headers["Strongroom-User-Token"] == "bob.jwt.token"


async def test_a_per_call_grant_replaces_the_default_provider(
    make_caller: MakeCaller, sidecar: FakeSidecar
) -> None:
    caller = make_caller(provider="github")
    await caller.request("GET", GITHUB, grant="ci-bot")
    assert sidecar.last.headers["Strongroom-Grant"] == "ci-bot"
    assert "Strongroom-Provider" not in sidecar.last.headers


async def test_grant_and_provider_together_are_refused_per_call(
    caller: Caller, sidecar: FakeSidecar
) -> None:
    with pytest.raises(strongroom.UsageError, match="grant and provider"):
        await caller.request("GET", GITHUB, grant="g", provider="github")
    assert sidecar.sent == []


def test_grant_and_provider_together_are_refused_as_defaults() -> None:
    for make in (strongroom.App, strongroom.AsyncApp):
        with pytest.raises(strongroom.UsageError, match="grant and provider"):
            make(grant="g", provider="github")


async def test_params_merge_into_the_target_query(caller: Caller, sidecar: FakeSidecar) -> None:
    await caller.request(
        "GET", "https://api.github.com/search?q=old&sort=stars", params={"q": "new", "page": 2}
    )
    target = httpx.URL(sidecar.last.headers["Strongroom-Target"])
    assert target.params.multi_items() == [("q", "new"), ("sort", "stars"), ("page", "2")]
    assert target.path == "/search"


async def test_the_fragment_is_not_part_of_the_target(caller: Caller, sidecar: FakeSidecar) -> None:
    await caller.request("GET", "https://example.com/a?b=1#section")
    assert sidecar.last.headers["Strongroom-Target"] == "https://example.com/a?b=1"


async def test_non_ascii_urls_become_a_valid_header(caller: Caller, sidecar: FakeSidecar) -> None:
    await caller.request("GET", "https://bücher.example/straße", params={"q": "ü"})
    assert (
        sidecar.last.headers["Strongroom-Target"]
        == "https://xn--bcher-kva.example/stra%C3%9Fe?q=%C3%BC"
    )


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("/user", "absolute URL"),
        ("api.github.com/user", "absolute URL"),
        ("ftp://files.example.com/x", "scheme must be https"),
        ("https://user:pass@api.github.com/", "must not contain a user name or password"),
        ("https://api.github.com:port/", "not a valid URL"),
    ],
)
async def test_unusable_urls_are_refused_before_sending(
    caller: Caller, sidecar: FakeSidecar, url: str, complaint: str
) -> None:
    with pytest.raises(strongroom.UsageError, match=r"^url: ") as caught:
        await caller.request("GET", url)
    assert complaint in str(caught.value)
    assert "pass" not in str(caught.value).replace("password", "")
    assert sidecar.sent == []


async def test_a_url_that_is_not_a_string_is_refused(caller: Caller) -> None:
    with pytest.raises(strongroom.UsageError, match="url: expected a string"):
        await caller.request("GET", 42)  # type: ignore[arg-type]


async def test_methods_are_upper_cased_and_extension_methods_pass(
    caller: Caller, sidecar: FakeSidecar
) -> None:
    await caller.request("propfind", "https://dav.example.com/")
    assert sidecar.last.method == "PROPFIND"


@pytest.mark.parametrize("method", ["", "GET /", "GE\nT", None])
async def test_invalid_methods_are_refused(caller: Caller, method: object) -> None:
    with pytest.raises(strongroom.UsageError, match=r"^method: "):
        await caller.request(method, GITHUB)  # type: ignore[arg-type]


async def test_unknown_keyword_arguments_are_refused(caller: Caller) -> None:
    with pytest.raises(strongroom.UsageError, match="user_tokn"):
        await caller.request("GET", GITHUB, user_tokn="x")


async def test_caller_headers_are_forwarded_and_merged_over_the_app_headers(
    make_caller: MakeCaller, sidecar: FakeSidecar
) -> None:
    caller = make_caller(headers={"Accept": "application/vnd.github+json", "X-Team": "core"})
    await caller.request("GET", GITHUB, headers={"X-Team": "infra", "If-None-Match": '"e1"'})
    headers = sidecar.last.headers
    assert headers["Accept"] == "application/vnd.github+json"
    assert headers.get_list("X-Team") == ["infra"]
    assert headers["If-None-Match"] == '"e1"'
    assert headers["User-Agent"].startswith(f"strongroom-python/{strongroom.__version__} ")


@pytest.mark.parametrize("header", ["Strongroom-Grant", "strongroom-user-token", "Strongroom-X"])
async def test_sidecar_headers_in_caller_headers_are_refused(
    make_caller: MakeCaller, header: str
) -> None:
    with pytest.raises(strongroom.UsageError, match="reserved for the sidecar"):
        await make_caller().request("GET", GITHUB, headers={header: "x"})
    with pytest.raises(strongroom.UsageError, match=r"^headers: .*reserved for the sidecar"):
        make_caller(headers={header: "x"})


@pytest.mark.parametrize(
    "body",
    [
        {"json": {"name": "strongroom", "tags": ["a", "ü"]}},
        {"data": {"grant_type": "client_credentials", "scope": "a b"}},
        {"content": b"\x00\x01raw bytes"},
        {"content": "text body"},
        {
            "data": {"purpose": "avatar"},
            "files": {"file": ("a.png", b"\x89PNG...", "image/png")},
            "headers": {"Content-Type": "multipart/form-data; boundary=fixed-boundary"},
        },
        {"files": [("a", b"one"), ("b", ("b.txt", b"two"))]},
    ],
    ids=["json", "form", "bytes", "text", "multipart", "files-only"],
)
async def test_bodies_are_encoded_exactly_as_httpx_encodes_them(
    caller: Caller, sidecar: FakeSidecar, body: dict[str, object]
) -> None:
    await caller.request("POST", GITHUB, **body)
    direct = httpx.Request("POST", GITHUB, **body)  # type: ignore[arg-type]
    direct.read()
    sent = sidecar.last
    if "boundary=" in direct.headers.get("Content-Type", "") and "headers" not in body:
        # httpx picks a random boundary per request; compare the structure instead.
        assert sent.headers["Content-Type"].startswith("multipart/form-data; boundary=")
        boundary = sent.headers["Content-Type"].split("boundary=")[1]
        direct_boundary = direct.headers["Content-Type"].split("boundary=")[1]
        assert sent.body == direct.content.replace(direct_boundary.encode(), boundary.encode())
    else:
        assert sent.headers.get("Content-Type") == direct.headers.get("Content-Type")
        assert sent.body == direct.content
    assert sent.headers["Content-Length"] == str(len(sent.body))


@pytest.mark.parametrize(
    "body",
    [
        {"json": {"a": 1}, "content": b"x"},
        {"json": {"a": 1}, "data": {"b": "2"}},
        {"content": b"x", "files": {"f": b"y"}},
    ],
)
async def test_two_kinds_of_body_are_refused(
    caller: Caller, sidecar: FakeSidecar, body: dict[str, object]
) -> None:
    with pytest.raises(strongroom.UsageError, match="one kind of body"):
        await caller.request("POST", GITHUB, **body)
    assert sidecar.sent == []


def test_an_iterator_body_is_streamed_upstream_in_chunks(sidecar: FakeSidecar) -> None:
    produced: list[bytes] = []

    def chunks() -> Iterator[bytes]:
        for part in (b"first,", b"second,", b"third"):
            produced.append(part)
            yield part

    with strongroom.App(transport=sidecar.transport()) as app:
        app.post("https://uploads.example.com/blob", content=chunks())
    assert produced == [b"first,", b"second,", b"third"]
    assert sidecar.last.body == b"first,second,third"
    assert sidecar.last.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in sidecar.last.headers


async def test_an_async_iterator_body_is_streamed_upstream_in_chunks(
    sidecar: FakeSidecar,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for part in (b"first,", b"second,", b"third"):
            yield part

    async with strongroom.AsyncApp(transport=sidecar.async_transport()) as app:
        await app.post("https://uploads.example.com/blob", content=chunks())
    assert sidecar.last.body == b"first,second,third"
    assert sidecar.last.headers["Transfer-Encoding"] == "chunked"


async def test_shortcuts_send_their_method(caller: Caller, sidecar: FakeSidecar) -> None:
    app = caller.sync_app or caller.async_app
    assert app is not None
    for name in ("get", "post", "put", "patch", "delete"):
        result = getattr(app, name)(GITHUB, grant="g")
        if caller.async_app is not None:
            await result
        assert sidecar.last.method == name.upper()
        assert sidecar.last.headers["Strongroom-Grant"] == "g"


async def test_unicode_reasons_are_sent_as_utf8(caller: Caller, sidecar: FakeSidecar) -> None:
    await caller.request("GET", GITHUB, reason="Rechnung für Müller")
    raw = {key.lower(): value for key, value in sidecar.last.headers.raw}
    assert raw[b"strongroom-reason"] == "Rechnung für Müller".encode()


async def test_a_reason_of_500_characters_passes_and_501_is_refused(
    caller: Caller, sidecar: FakeSidecar
) -> None:
    await caller.request("GET", GITHUB, reason="r" * 500)
    assert sidecar.last.headers["Strongroom-Reason"] == "r" * 500
    with pytest.raises(strongroom.UsageError, match=r"^reason: at most 500 characters, got 501"):
        await caller.request("GET", GITHUB, reason="r" * 501)


@pytest.mark.parametrize("reason", ["two\nlines", "tab\there", 42])
async def test_reasons_that_cannot_be_a_header_are_refused(caller: Caller, reason: object) -> None:
    with pytest.raises(strongroom.UsageError, match=r"^reason: "):
        await caller.request("GET", GITHUB, reason=reason)


async def test_empty_reason_and_context_send_nothing(caller: Caller, sidecar: FakeSidecar) -> None:
    await caller.request("GET", GITHUB, reason="", context={})
    assert "Strongroom-Reason" not in sidecar.last.headers
    assert "Strongroom-Context" not in sidecar.last.headers


async def test_context_is_compact_ascii_json(caller: Caller, sidecar: FakeSidecar) -> None:
    await caller.request("GET", GITHUB, context={"customer": "Zoë", "id": "7"})
    header = sidecar.last.headers["Strongroom-Context"]
    assert header == '{"customer":"Zo\\u00eb","id":"7"}'
    assert json.loads(header) == {"customer": "Zoë", "id": "7"}


@pytest.mark.parametrize("context", [{"id": 7}, {1: "x"}, ["a", "b"], "k=v"])
async def test_context_that_is_not_strings_to_strings_is_refused(
    caller: Caller, context: object
) -> None:
    with pytest.raises(strongroom.UsageError, match=r"^context: "):
        await caller.request("GET", GITHUB, context=context)


@pytest.mark.parametrize("argument", ["grant", "provider"])
@pytest.mark.parametrize("value", ["", "with space", "new\nline", 5])
async def test_unusable_grant_and_provider_names_are_refused(
    caller: Caller, argument: str, value: object
) -> None:
    with pytest.raises(strongroom.UsageError, match=rf"^{argument}: "):
        await caller.request("GET", GITHUB, **{argument: value})


async def test_timeout_defaults_to_30_seconds_and_a_call_can_override_it(
    make_caller: MakeCaller, sidecar: FakeSidecar
) -> None:
    caller = make_caller()
    await caller.request("GET", GITHUB)
    assert sidecar.last.timeout["read"] == 30.0
    await caller.request("GET", GITHUB, timeout=2.5)
    assert sidecar.last.timeout == {"connect": 2.5, "read": 2.5, "write": 2.5, "pool": 2.5}
    await caller.request("GET", GITHUB, timeout=None)
    assert sidecar.last.timeout["read"] == 30.0
    await make_caller(timeout=httpx.Timeout(5.0, read=60.0)).request("GET", GITHUB)
    assert sidecar.last.timeout["read"] == 60.0


async def test_an_unusable_timeout_is_refused(caller: Caller) -> None:
    for unusable in ("soon", -1, True, [1]):
        with pytest.raises(strongroom.UsageError, match=r"^timeout: "):
            await caller.request("GET", GITHUB, timeout=unusable)
    with pytest.raises(strongroom.UsageError, match=r"^timeout: "):
        strongroom.App(timeout=-5)


async def test_cookies_set_by_one_api_are_not_sent_to_the_next(
    caller: Caller, sidecar: FakeSidecar
) -> None:
    sidecar.respond = lambda request: httpx.Response(
        200, headers={"Set-Cookie": "session=from-github; Path=/"}
    )
    await caller.request("GET", GITHUB)
    await caller.request("GET", "https://slack.com/api/auth.test")
    assert "Cookie" not in sidecar.last.headers


async def test_redirects_are_returned_and_never_followed(
    caller: Caller, sidecar: FakeSidecar
) -> None:
    sidecar.respond = lambda request: httpx.Response(
        302, headers={"Location": "https://elsewhere.example.com/"}
    )
    response = await caller.request("GET", GITHUB)
    assert response.status_code == 302
    assert response.headers["Location"] == "https://elsewhere.example.com/"
    assert len(sidecar.sent) == 1


async def test_narrow_is_sent_as_compact_json(caller: Caller, sidecar: FakeSidecar) -> None:
    await caller.request("GET", GITHUB, narrow={"methods": ["GET"], "paths": ["/repos/acme/**"]})
    header = sidecar.last.headers["Strongroom-Narrow"]
    assert json.loads(header) == {"methods": ["GET"], "paths": ["/repos/acme/**"]}


@pytest.mark.parametrize(
    ("narrow", "message"),
    [
        ({"verbs": ["GET"]}, r"^narrow: unknown key\(s\) verbs"),
        ({"methods": "GET"}, r"^narrow\.methods: expected a list of strings"),
        ({"paths": ["/a", 3]}, r"^narrow\.paths: every item must be a string"),
        (["GET"], r"^narrow: expected a dict"),
    ],
)
async def test_narrowing_that_cannot_be_sent_is_refused(
    caller: Caller, narrow: object, message: str
) -> None:
    with pytest.raises(strongroom.UsageError, match=message):
        await caller.request("GET", GITHUB, narrow=narrow)
