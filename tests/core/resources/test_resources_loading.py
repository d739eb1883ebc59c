"""load_documents and load_folder: one entry per document; a bad document never loses the others."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from strongroom_core.resources import loading, models
from tests import canary

APP = """\
apiVersion: strongroom.dev/v1alpha1
kind: App
metadata:
  name: demo
spec:
  serviceAccounts: [web]
"""

AGENT = """\
apiVersion: strongroom.dev/v1alpha1
kind: Agent
metadata:
  name: bot
spec:
  appRef: demo
"""


def test_every_document_of_a_multi_document_file_is_loaded_in_order() -> None:
    loaded = loading.load_documents(f"---\n{APP}---\n\n---\n{AGENT}...\n", "demo.yaml")
    assert [type(item) for item in loaded] == [models.App, models.Agent]


def test_malformed_yaml_reports_source_and_line_and_keeps_the_other_documents() -> None:
    broken = "apiVersion: strongroom.dev/v1alpha1\nkind: Grant\nmetadata:\n  name: g\nspec: [a\n"
    text = f"{APP}---\n{broken}---\n{AGENT}"
    loaded = loading.load_documents(text, "demo.yaml")
    assert isinstance(loaded[0], models.App)
    assert isinstance(loaded[2], models.Agent)
    failure = loaded[1]
    assert isinstance(failure, loading.LoadFailure)
    assert (failure.source, failure.index, failure.kind, failure.name) == (
        "demo.yaml",
        1,
        "Grant",
        "g",
    )
    assert failure.error.startswith("malformed YAML: ")
    # The document starts on line 8; the unclosed list is on line 12, its last line.
    assert failure.line == 12
    assert str(failure).startswith(f"demo.yaml:{failure.line}: document 1 (Grant g): malformed")


def test_malformed_yaml_line_points_at_the_offending_line() -> None:
    loaded = loading.load_documents(f"{APP}---\nkind: App\nspec: a: b\n", "x.yaml")
    failure = loaded[1]
    assert isinstance(failure, loading.LoadFailure)
    assert failure.line == 9
    assert failure.error == "malformed YAML: mapping values are not allowed here"


def test_malformed_yaml_error_never_quotes_the_source_line() -> None:
    secret = canary.new("token")
    text = f'apiVersion: x\nkind: Grant\nspec: {{sealedValue: "{secret}", : : [}}\n'
    (failure,) = loading.load_documents(text, "leak.yaml")
    assert isinstance(failure, loading.LoadFailure)
    assert canary.found_in(str(failure)) == []


def test_invalid_resource_becomes_a_failure_naming_field_and_line() -> None:
    bad = AGENT.replace("appRef: demo", "appRef: demo\n  suspended: maybe")
    loaded = loading.load_documents(f"{APP}---\n{bad}", "x.yaml")
    failure = loaded[1]
    assert isinstance(failure, loading.LoadFailure)
    assert (failure.kind, failure.name, failure.line) == ("Agent", "bot", 8)
    assert failure.error == "spec.suspended: must be a boolean (true or false), not a string"
    assert str(failure) == (
        "x.yaml:8: document 1 (Agent bot): "
        "spec.suspended: must be a boolean (true or false), not a string"
    )


@pytest.mark.parametrize("text", ["just text\n", "- a\n- b\n", "42\n"])
def test_a_document_that_is_not_a_mapping_is_a_failure(text: str) -> None:
    (failure,) = loading.load_documents(text, "odd.yaml")
    assert isinstance(failure, loading.LoadFailure)
    assert failure.error == "document: must be a mapping"


def test_foreign_kinds_are_failures_that_name_their_kind() -> None:
    text = "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {}\n"
    (failure,) = loading.load_documents(text, "secret.yaml")
    assert isinstance(failure, loading.LoadFailure)
    assert failure.kind == "Secret"
    assert "apiVersion: must be strongroom.dev/v1alpha1" in failure.error


def test_timestamps_stay_strings_so_unquoted_expiry_parses() -> None:
    grant = textwrap.dedent(
        """\
        apiVersion: strongroom.dev/v1alpha1
        kind: Grant
        metadata: {name: g, creationTimestamp: 2030-01-01T00:00:00Z}
        spec:
          appRef: demo
          providerRef: p
          principal: {kind: system, id: nightly}
          expiresAt: 2030-01-02T00:00:00Z
        """
    )
    (loaded,) = loading.load_documents(grant, "g.yaml")
    assert isinstance(loaded, models.Grant)
    assert loaded.meta.creation_timestamp == 1893456000.0
    assert loaded.expires_at == 1893456000.0 + 86400


def test_empty_text_loads_nothing() -> None:
    assert loading.load_documents("", "empty.yaml") == []
    assert loading.load_documents("# only a comment\n---\n", "empty.yaml") == []


def test_loopback_option_reaches_the_parser() -> None:
    provider = textwrap.dedent(
        """\
        apiVersion: strongroom.dev/v1alpha1
        kind: Provider
        metadata: {name: local}
        spec:
          appRef: demo
          type: oauth2
          allowedHosts: ["127.0.0.1:9000"]
          oauth2: {tokenURL: "http://127.0.0.1:9000/token", clientId: c, clientAuthMethod: none}
        """
    )
    (refused,) = loading.load_documents(provider, "p.yaml")
    assert isinstance(refused, loading.LoadFailure)
    (accepted,) = loading.load_documents(provider, "p.yaml", allow_loopback_http=True)
    assert isinstance(accepted, models.Provider)


def test_load_folder_reads_yaml_and_yml_files_in_sorted_order(tmp_path: Path) -> None:
    (tmp_path / "b.yml").write_text(AGENT)
    (tmp_path / "a.yaml").write_text(APP)
    (tmp_path / "c.yaml").write_text("spec: [\n")
    (tmp_path / "notes.txt").write_text("not yaml: [")
    (tmp_path / "sub.yaml").mkdir()
    loaded = loading.load_folder(tmp_path)
    assert [type(item) for item in loaded] == [models.App, models.Agent, loading.LoadFailure]
    failure = loaded[2]
    assert isinstance(failure, loading.LoadFailure)
    assert failure.source == str(tmp_path / "c.yaml")


def test_load_folder_reports_an_unreadable_file_and_goes_on(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_bytes(b"\xff\xfe not utf-8")
    (tmp_path / "b.yaml").write_text(APP)
    loaded = loading.load_folder(tmp_path)
    assert isinstance(loaded[0], loading.LoadFailure)
    assert loaded[0].error.startswith("cannot read")
    assert isinstance(loaded[1], models.App)
