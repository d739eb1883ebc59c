"""Agent API keys in core: format, hashing, the keys document, rotation with an overlap,
pruning, and what an access set allows."""

from __future__ import annotations

import re

import pytest

from strongroom_core.agents import access, keys
from tests import canary

NOW = 1_800_000_000.0


def test_a_new_key_is_random_carries_its_kid_and_only_its_hash_is_kept() -> None:
    first, second = keys.generate(), keys.generate()
    canary.register(first.plaintext)
    canary.register(second.plaintext)
    assert re.fullmatch(r"sra_[0-9a-f]{16}_[A-Za-z0-9_-]{43}", first.plaintext)
    assert first.plaintext != second.plaintext
    assert keys.kid_of(first.plaintext) == first.kid
    assert keys.matches(first.plaintext, first.sha256)
    assert not keys.matches(second.plaintext, first.sha256)
    assert first.plaintext not in repr(first)
    document = keys.new_document(first, NOW)
    assert first.plaintext not in str(document)
    assert keys.wire(document) == [{"kid": first.kid, "sha256": first.sha256}]


@pytest.mark.parametrize(
    "value", ["", "sra_", "sra_xyz_abc", "sk_live_123", "sra_0123456789abcdef_short"]
)
def test_malformed_keys_are_refused_without_quoting_them(value: str) -> None:
    with pytest.raises(keys.KeyFormatError) as info:
        keys.kid_of(value)
    if len(value) > len(keys.PREFIX):
        assert value not in str(info.value)


def test_rotation_adds_a_key_and_ends_the_older_ones_after_the_overlap() -> None:
    first = keys.generate()
    document = keys.new_document(first, NOW)
    rotated, second = keys.rotate(document, NOW + 10, overlap=60)
    assert [k["kid"] for k in rotated["keys"]] == [first.kid, second.kid]
    assert rotated["keys"][0]["notAfter"] == NOW + 70
    assert "notAfter" not in rotated["keys"][1]
    assert "notAfter" not in document["keys"][0], "the input document is left alone"


def test_a_second_rotation_never_extends_an_earlier_end() -> None:
    document = keys.new_document(keys.generate(), NOW)
    once, _ = keys.rotate(document, NOW, overlap=10)
    twice, _ = keys.rotate(once, NOW + 1, overlap=3600)
    assert twice["keys"][0]["notAfter"] == NOW + 10
    assert twice["keys"][1]["notAfter"] == NOW + 3601
    assert "notAfter" not in twice["keys"][2]


def test_keys_past_their_end_are_pruned_and_the_current_key_stays() -> None:
    document = keys.new_document(keys.generate(), NOW)
    rotated, current = keys.rotate(document, NOW, overlap=5)
    assert len(keys.prune(rotated, NOW + 4)["keys"]) == 2
    pruned = keys.prune(rotated, NOW + 5)
    assert [k["kid"] for k in pruned["keys"]] == [current.kid]


def test_rotation_refuses_a_negative_overlap() -> None:
    with pytest.raises(ValueError, match="overlap"):
        keys.rotate(keys.new_document(keys.generate(), NOW), NOW, overlap=-1)


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({}, "format"),
        ({"format": keys.FORMAT}, "keys"),
        ({"format": keys.FORMAT, "keys": [1]}, "keys[0]"),
        ({"format": keys.FORMAT, "keys": [{"kid": "a"}]}, "keys[0].sha256"),
        (
            {"format": keys.FORMAT, "keys": [{"kid": "a", "sha256": "b", "notAfter": "x"}]},
            "notAfter",
        ),
    ],
)
def test_a_malformed_keys_document_names_the_field(document: object, field: str) -> None:
    with pytest.raises(keys.KeysDocumentError, match=re.escape(field)):
        keys.check_document(document)


ACCESS = access.AccessSet.from_wire(
    "ci-bot",
    [{"grant": "gh-deploy"}, {"provider": "slack", "scopes": ["chat:write"]}, {"provider": "s3"}],
)


@pytest.mark.parametrize(
    ("grant", "provider", "kind", "owner", "scopes", "allowed", "says"),
    [
        ("mine", "x", "agent", "ci-bot", (), True, "own grant"),
        ("theirs", "x", "agent", "other-bot", (), False, "another agent's grant"),
        ("gh-deploy", "github", "system", "ops", ("repo",), True, "spec.access[0]"),
        ("sl", "slack", "system", "ops", ("chat:write",), True, "spec.access[1]"),
        ("sl-admin", "slack", "system", "ops", ("chat:write", "admin"), False, "[admin]"),
        ("bucket", "s3", "system", "ops", ("anything",), True, "spec.access[2]"),
        ("gh-other", "github", "system", "ops", (), False, "names neither grant gh-other"),
    ],
)
def test_an_access_set_allows_exactly_its_entries_with_a_reason(
    grant: str,
    provider: str,
    kind: str,
    owner: str,
    scopes: tuple[str, ...],
    allowed: bool,
    says: str,
) -> None:
    verdict, reason = ACCESS.check(grant, provider, kind, owner, scopes)
    assert verdict is allowed
    assert says in reason
