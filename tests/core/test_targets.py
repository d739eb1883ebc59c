"""Target checking: a credential only goes to an allowed host, over https, by a URL every
parser reads the same way."""

from __future__ import annotations

import typing
import urllib.parse

import hypothesis
import pytest
from hypothesis import strategies as st

from strongroom_core import targets

PATTERNS = [
    "api.github.com",
    "uploads.github.com:8443",
    "*.example.com",
    "localhost:8080",
    "127.0.0.1:9000",
    "[::1]:9000",
]

ALLOWED = [
    # (url, allow_loopback, normalised url)
    ("https://api.github.com/repos/a/b", False, "https://api.github.com/repos/a/b"),
    ("https://API.GitHub.COM/x", False, "https://api.github.com/x"),
    ("HTTPS://api.github.com/x", False, "https://api.github.com/x"),
    ("https://api.github.com./x", False, "https://api.github.com/x"),
    ("https://api.github.com:443/x", False, "https://api.github.com/x"),
    ("https://api.github.com", False, "https://api.github.com/"),
    ("https://api.github.com?q=1", False, "https://api.github.com/?q=1"),
    ("https://api.github.com/x?q=1#frag", False, "https://api.github.com/x?q=1"),
    ("https://api.github.com/a%2Fb?x=%40", False, "https://api.github.com/a%2Fb?x=%40"),
    ("https://api.github.com/ü?q=ä", False, "https://api.github.com/%C3%BC?q=%C3%A4"),
    ("https://api.github.com/@evil.com", False, "https://api.github.com/@evil.com"),
    ("https://uploads.github.com:8443/u", False, "https://uploads.github.com:8443/u"),
    ("https://a.example.com/", False, "https://a.example.com/"),
    ("https://a.b.c.example.com/", False, "https://a.b.c.example.com/"),
    ("https://A.Example.COM./", False, "https://a.example.com/"),
    ("https://bücher.example.com/", False, "https://xn--bcher-kva.example.com/"),
    ("https://xn--bcher-kva.example.com/", False, "https://xn--bcher-kva.example.com/"),
    ("https://api\u3002github\u3002com/", False, "https://api.github.com/"),
    ("https://\uff41\uff50\uff49.github.com/", False, "https://api.github.com/"),
    ("http://localhost:8080/x", True, "http://localhost:8080/x"),
    ("http://127.0.0.1:9000/", True, "http://127.0.0.1:9000/"),
    ("https://127.0.0.1:9000/", True, "https://127.0.0.1:9000/"),
    ("http://[::1]:9000/", True, "http://[::1]:9000/"),
    ("http://[0:0:0:0:0:0:0:1]:9000/", True, "http://[::1]:9000/"),
]

REFUSED = [
    # (url, allow_loopback, code)
    ("", False, "invalid_target"),
    ("api.github.com/x", False, "invalid_target"),
    ("//api.github.com/x", False, "invalid_target"),
    ("/x", False, "invalid_target"),
    ("https:/api.github.com/x", False, "invalid_target"),
    ("ftp://api.github.com/", False, "invalid_target"),
    ("javascript:alert(1)", False, "invalid_target"),
    ("file:///etc/passwd", False, "invalid_target"),
    ("https:///x", False, "invalid_target"),
    ("https://:443/", False, "invalid_target"),
    ("https://api.github.com:99999/", False, "invalid_target"),
    ("https://api.github.com:0/", False, "invalid_target"),
    ("https://api.github.com:-1/", False, "invalid_target"),
    ("https://api.github.com:0443/", False, "invalid_target"),
    ("https://api.github.com:/", False, "invalid_target"),
    ("https://api.github.com:443:443/", False, "invalid_target"),
    ("https://api.github.com\\@evil.com/", False, "invalid_target"),
    ("https://evil.com\\api.github.com/", False, "invalid_target"),
    ("https://api.github.com /", False, "invalid_target"),
    ("https://api.github.com\t/", False, "invalid_target"),
    ("https://api.github.com\u200b/", False, "invalid_target"),
    ("https://api.git\u00adhub.com/", False, "invalid_target"),
    ("https://api\x00.github.com/", False, "invalid_target"),
    ("https://api%2egithub.com/", False, "invalid_target"),
    ("https://%61pi.github.com/", False, "invalid_target"),
    ("https://api..github.com/", False, "invalid_target"),
    ("https://.api.github.com/", False, "invalid_target"),
    ("https://api.github.com../", False, "invalid_target"),
    ("https://-api.github.com/", False, "invalid_target"),
    ("https://api_x.example.com/", False, "invalid_target"),
    ("https://xn--zz-.example.com/", False, "invalid_target"),
    ("https://[::1/", True, "invalid_target"),
    ("https://[::1]x/", True, "invalid_target"),
    ("https://::1/", True, "invalid_target"),
    ("https://[fe80::1%25eth0]/", False, "invalid_target"),
    ("https://[v1.fe]/", False, "invalid_target"),
    ("https://evil.com\uff0fapi.github.com/", False, "invalid_target"),
    ("https://evil.com\uff20api.github.com/", False, "invalid_target"),
    ("https://api.github.com\uff1a443/", False, "invalid_target"),
    ("https://api.github.com;evil.com/", False, "invalid_target"),
    ("https://api.github.com/a/../admin", False, "invalid_target"),
    ("https://api.github.com/a/%2e%2E/admin", False, "invalid_target"),
    ("https://api.github.com/./x", False, "invalid_target"),
    ("https://user@api.github.com/", False, "userinfo_in_url"),
    ("https://user:pass@api.github.com/", False, "userinfo_in_url"),
    ("https://api.github.com@evil.com/", False, "userinfo_in_url"),
    ("https://@api.github.com/", False, "userinfo_in_url"),
    ("https://api.github.com%2F@evil.com/", False, "userinfo_in_url"),
    ("http://api.github.com/", False, "insecure_scheme"),
    ("http://api.github.com/", True, "insecure_scheme"),
    ("HTTP://api.github.com/", False, "insecure_scheme"),
    ("http://localhost:8080/", False, "insecure_scheme"),
    ("http://127.0.0.1:9000/", False, "insecure_scheme"),
    ("https://1.2.3.4/", False, "ip_literal_not_allowed"),
    ("https://10.0.0.1/", True, "ip_literal_not_allowed"),
    ("https://127.0.0.1:9000/", False, "ip_literal_not_allowed"),
    ("https://2130706433/", True, "ip_literal_not_allowed"),
    ("https://0x7f.1/", True, "ip_literal_not_allowed"),
    ("https://0x7f000001/", True, "ip_literal_not_allowed"),
    ("https://0177.0.0.1/", True, "ip_literal_not_allowed"),
    ("https://127.1/", True, "ip_literal_not_allowed"),
    ("https://127.0.0.1.example/", False, "host_not_allowed"),
    ("https://[::1]:9000/", False, "ip_literal_not_allowed"),
    ("https://[2001:db8::1]/", False, "ip_literal_not_allowed"),
    ("https://[::ffff:127.0.0.1]:9000/", True, "ip_literal_not_allowed"),
    ("https://[::ffff:7f00:1]/", True, "ip_literal_not_allowed"),
    ("https://127.0.0.2:9000/", True, "host_not_allowed"),
    ("https://example.com/", False, "host_not_allowed"),
    ("https://evilexample.com/", False, "host_not_allowed"),
    ("https://example.com.evil.com/", False, "host_not_allowed"),
    ("https://a.example.com.evil.com/", False, "host_not_allowed"),
    ("https://api.github.com.evil.com/", False, "host_not_allowed"),
    ("https://evil.com/api.github.com", False, "host_not_allowed"),
    ("https://evil.com?https://api.github.com/", False, "host_not_allowed"),
    ("https://evil.com#@api.github.com/", False, "host_not_allowed"),
    ("https://github.com/", False, "host_not_allowed"),
    ("https://api.github.com:8443/", False, "host_not_allowed"),
    ("https://uploads.github.com/", False, "host_not_allowed"),
    ("https://a.example.com:8443/", False, "host_not_allowed"),
    ("https://localhost:8080/", False, "host_not_allowed"),
    ("https://sub.localhost:8080/", False, "host_not_allowed"),
    ("http://localhost:8081/", True, "host_not_allowed"),
    ("https://api\u3002github\u3002com.evil.com/", False, "host_not_allowed"),
]


@pytest.mark.parametrize(("url", "allow_loopback", "expected"), ALLOWED)
def test_allowed_targets_are_normalised(url: str, allow_loopback: bool, expected: str):
    target = targets.check_target(url, PATTERNS, allow_loopback=allow_loopback)
    assert target.url == expected
    assert urllib.parse.urlsplit(target.url).hostname == target.host
    assert targets.check_target(target.url, PATTERNS, allow_loopback=allow_loopback) == target


@pytest.mark.parametrize(("url", "allow_loopback", "code"), REFUSED)
def test_refused_targets_carry_a_stable_code(url: str, allow_loopback: bool, code: str):
    with pytest.raises(targets.TargetRefused) as info:
        targets.check_target(url, PATTERNS, allow_loopback=allow_loopback)
    assert info.value.code == code
    assert str(info.value).startswith(f"{code}: ")


def test_the_table_covers_at_least_forty_urls():
    assert len(ALLOWED) + len(REFUSED) >= 40


def test_target_fields_are_split_out():
    target = targets.check_target(
        "https://Uploads.GitHub.com:8443/a/b?c=d#e", PATTERNS, allow_loopback=False
    )
    assert target == targets.Target(
        scheme="https",
        host="uploads.github.com",
        port=8443,
        path_and_query="/a/b?c=d",
        url="https://uploads.github.com:8443/a/b?c=d",
    )


def test_refusal_detail_never_shows_the_path_or_query():
    with pytest.raises(targets.TargetRefused) as info:
        targets.check_target("https://evil.com/p?token=hunter2", PATTERNS, allow_loopback=False)
    assert "hunter2" not in str(info.value)
    assert "evil.com" in info.value.detail


def test_overlong_url_is_refused():
    with pytest.raises(targets.TargetRefused) as info:
        targets.check_target(
            "https://api.github.com/" + "a" * targets.MAX_URL_LENGTH, PATTERNS, allow_loopback=False
        )
    assert info.value.code == "invalid_target"


def test_non_string_target_is_refused():
    with pytest.raises(targets.TargetRefused):
        targets.check_target(None, PATTERNS, allow_loopback=False)  # type: ignore[arg-type]


def test_precompiled_allowed_hosts_give_the_same_answer():
    compiled = targets.AllowedHosts.compile(PATTERNS)
    target = targets.check_target("https://a.example.com/", compiled, allow_loopback=False)
    assert target.host == "a.example.com"


def test_a_single_string_instead_of_a_list_is_a_programming_error():
    with pytest.raises(TypeError):
        targets.check_target("https://api.github.com/", "api.github.com", allow_loopback=False)


def test_a_bad_pattern_is_reported_with_its_index():
    with pytest.raises(targets.InvalidHostPattern, match=r"allowedHosts\[1\]"):
        targets.AllowedHosts.compile(["api.github.com", "*.com"])


@pytest.mark.parametrize(
    "pattern",
    [
        "api.github.com",
        "API.GitHub.com",
        "api.github.com:8443",
        "*.example.com",
        "*.example.com:8443",
        "*.co.uk",
        "bücher.example",
        "localhost",
        "localhost:8080",
        "127.0.0.1:9000",
        "[::1]",
        "[::1]:9000",
    ],
)
def test_valid_host_patterns(pattern: str):
    assert targets.validate_host_pattern(pattern) is None


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("", "non-empty"),
        ("https://api.github.com", "without scheme"),
        ("api.github.com/repos", "without scheme or path"),
        ("user@api.github.com", "'@'"),
        ("api.github.com ", "spaces"),
        ("*", "'*' is only allowed"),
        ("*.com", "at least two labels"),
        ("a.*.com", "'*' is only allowed"),
        ("*x.example.com", "'*' is only allowed"),
        ("*.*.example.com", "'*' is only allowed"),
        ("10.0.0.1", "IP addresses"),
        ("[2001:db8::1]", "IP addresses"),
        ("0x7f.1", "four decimal numbers"),
        ("*.0.0.1", "four decimal numbers"),
        ("api.github.com:0", "port"),
        ("api.github.com:https", "port"),
        ("api..github.com", "label"),
        ("%61pi.github.com", "percent"),
    ],
)
def test_invalid_host_patterns_say_why(pattern: str, reason: str):
    problem = targets.validate_host_pattern(pattern)
    assert problem is not None
    assert reason in problem


@pytest.mark.parametrize(
    ("host", "port", "patterns", "allowed"),
    [
        ("a.example.com", 443, ["*.example.com"], True),
        ("a.b.example.com", None, ["*.example.com"], True),
        ("example.com", 443, ["*.example.com"], False),
        ("evilexample.com", 443, ["*.example.com"], False),
        ("A.Example.com.", 443, ["*.example.com"], True),
        ("api.github.com", 443, ["api.github.com"], True),
        ("api.github.com", 8443, ["api.github.com"], False),
        ("api.github.com", 8443, ["api.github.com:8443"], True),
        ("api.github.com", 443, ["api.github.com:8443"], False),
        ("api.github.com", 443, ["api.github.com:443"], True),
        ("[::1]", 9000, ["[::1]:9000"], True),
        ("0x7f.1", 9000, ["127.0.0.1:9000"], False),
        ("bad host", 443, ["api.github.com"], False),
    ],
)
def test_host_allowed(host: str, port: int | None, patterns: list[str], allowed: bool):
    assert targets.host_allowed(host, port, patterns) is allowed


def test_host_allowed_uses_the_schemes_default_port():
    assert targets.host_allowed("localhost", 80, ["localhost"], scheme="http")
    assert not targets.host_allowed("localhost", 80, ["localhost"], scheme="https")


_PIECES = st.sampled_from(
    [
        "api.github.com",
        "a.example.com",
        "example.com",
        "evil.com",
        "localhost",
        "127.0.0.1",
        "[::1]",
        "0x7f.1",
        "2130706433",
        ":",
        ":443",
        ":8443",
        ":9000",
        "@",
        "\\",
        "/",
        "?",
        "#",
        ".",
        "..",
        "%2e",
        "%40",
        "[",
        "]",
        "\u3002",
        "\uff0e",
        "ü",
        "xn--",
        "*",
        " ",
        "\t",
        "",
        "user:pw@",
        "https://",
        "http://",
        "HTTPS://",
        "//",
    ]
)
_URLS = st.one_of(
    st.text(max_size=80),
    st.builds(
        lambda scheme, parts: scheme + "".join(parts),
        st.sampled_from(["https://", "http://", "HTTPS://", "https:/", "ftp://", ""]),
        st.lists(_PIECES, max_size=8),
    ),
)


@hypothesis.settings(max_examples=400)
@hypothesis.given(url=_URLS, allow_loopback=st.booleans())
def test_check_target_only_ever_refuses_and_accepted_hosts_match_a_pattern(
    url: str, allow_loopback: bool
):
    try:
        target = targets.check_target(url, PATTERNS, allow_loopback=allow_loopback)
    except targets.TargetRefused as e:
        refused: targets.TargetRefused | None = e
    else:
        refused = None
    if refused is not None:
        assert refused.code in typing.get_args(targets.RefusalCode)
        return
    assert targets.host_allowed(target.host, target.port, PATTERNS, scheme=target.scheme)
    assert target.scheme == "https" or (
        allow_loopback and target.host in ("localhost", "127.0.0.1", "::1")
    )
    assert urllib.parse.urlsplit(target.url).hostname == target.host
    assert urllib.parse.urlsplit(target.url).port in (None, target.port)
    assert "@" not in urllib.parse.urlsplit(target.url).netloc
