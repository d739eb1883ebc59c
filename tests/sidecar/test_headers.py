from __future__ import annotations

import json

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from strongroom_sidecar import headers, problems


def parse(**values: str) -> headers.CallHeaders:
    return headers.parse(CIMultiDict(values))


def refusal(**values: str) -> problems.Refusal:
    with pytest.raises(problems.Refusal) as info:
        headers.parse(CIMultiDict(values))
    return info.value


def test_missing_target_is_refused() -> None:
    assert refusal(**{"Strongroom-Grant": "g"}).code == "missing_target"


def test_grant_name_that_is_not_a_resource_name_names_the_header() -> None:
    r = refusal(**{"Strongroom-Target": "https://a/", "Strongroom-Grant": "Bad Name"})
    assert r.code == "invalid_header"
    assert "Strongroom-Grant" in r.detail


def test_reason_is_truncated_to_500_characters() -> None:
    call = parse(**{"Strongroom-Target": "https://a/", "Strongroom-Reason": "x" * 900})
    assert len(call.reason) == 500


@pytest.mark.parametrize(
    "context",
    ["not json", "[1, 2]", json.dumps({"n": 1}), json.dumps({"k": "v" * 600}), "x" * 5000],
)
def test_malformed_or_oversized_context_is_refused_naming_the_header(context: str) -> None:
    r = refusal(**{"Strongroom-Target": "https://a/", "Strongroom-Context": context})
    assert r.code == "invalid_header"
    assert "Strongroom-Context" in r.detail


def test_context_object_of_strings_is_kept() -> None:
    call = parse(**{"Strongroom-Target": "https://a/", "Strongroom-Context": '{"ticket": "T-1"}'})
    assert call.context == {"ticket": "T-1"}


def test_empty_user_token_is_refused() -> None:
    r = refusal(**{"Strongroom-Target": "https://a/", "Strongroom-User-Token": " "})
    assert (r.code, "Strongroom-User-Token" in r.detail) == ("invalid_header", True)


def test_trace_id_is_taken_from_traceparent() -> None:
    call = parse(
        **{
            "Strongroom-Target": "https://a/",
            "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        }
    )
    assert call.trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"


def test_forwarded_headers_drop_hop_by_hop_host_and_every_strongroom_header() -> None:
    incoming = CIMultiDictProxy(
        CIMultiDict(
            [
                ("Host", "127.0.0.1:15080"),
                ("Connection", "keep-alive, X-Private"),
                ("X-Private", "1"),
                ("Keep-Alive", "timeout=5"),
                ("Transfer-Encoding", "chunked"),
                ("Proxy-Authorization", "Basic eA=="),
                ("Strongroom-Target", "https://a/"),
                ("Strongroom-User-Token", "jwt"),
                ("Strongroom-Anything-New", "x"),
                ("Authorization", "Bearer caller-own"),
                ("Accept", "application/json"),
                ("X-Many", "1"),
                ("X-Many", "2"),
            ]
        )
    )
    out = headers.forwarded(incoming, replaced={"Authorization": "Bearer injected"})
    assert list(out.items()) == [
        ("Accept", "application/json"),
        ("X-Many", "1"),
        ("X-Many", "2"),
    ]
