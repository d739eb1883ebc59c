"""Injection: where a credential goes in a request, and templates that cannot misbehave."""

from __future__ import annotations

import base64

import hypothesis
import pytest
from hypothesis import strategies as st

from strongroom_core import injection

SECRET = "s3cr3t-value-never-shown"


def test_bearer_uses_the_default_field_without_a_format():
    result = injection.render(
        (injection.Injection("bearer"),), {"token": SECRET}, default_field="token"
    )
    assert result.headers == {"Authorization": f"Bearer {SECRET}"}
    assert result.query == {}


def test_bearer_for_oauth2_uses_access_token():
    result = injection.render(
        (injection.Injection("bearer"),), {"access_token": "at"}, default_field="access_token"
    )
    assert result.headers == {"Authorization": "Bearer at"}


def test_bearer_format_template_is_rendered():
    result = injection.render(
        (injection.Injection("bearer", format="{kind}-{token}"),),
        {"token": "t", "kind": "k"},
        default_field="token",
    )
    assert result.headers == {"Authorization": "Bearer k-t"}


def test_basic_encodes_username_and_password():
    result = injection.render(
        (injection.Injection("basic"),), {"username": "u", "password": "p:w"}, default_field="token"
    )
    assert result.headers == {"Authorization": "Basic " + base64.b64encode(b"u:p:w").decode()}


def test_basic_takes_custom_templates_and_a_literal_empty_password():
    result = injection.render(
        (injection.Injection("basic", username="{token}", password=""),),
        {"token": "sk_test"},
        default_field="token",
    )
    assert result.headers == {"Authorization": "Basic " + base64.b64encode(b"sk_test:").decode()}


def test_basic_refuses_a_username_with_a_colon_without_showing_it():
    with pytest.raises(injection.InjectionError) as info:
        injection.render(
            (injection.Injection("basic"),),
            {"username": f"a:{SECRET}", "password": "p"},
            default_field="token",
        )
    assert SECRET not in str(info.value)
    assert "username" in str(info.value)


def test_header_injection_sets_the_named_header():
    result = injection.render(
        (injection.Injection("header", name="X-Api-Key", format="Key {token}"),),
        {"token": "t"},
        default_field="token",
    )
    assert result.headers == {"X-Api-Key": "Key t"}


def test_header_injection_without_format_uses_the_default_field():
    result = injection.render(
        (injection.Injection("header", name="X-Api-Key"),), {"token": "t"}, default_field="token"
    )
    assert result.headers == {"X-Api-Key": "t"}


def test_query_injection_sets_the_parameter():
    result = injection.render(
        (injection.Injection("query", name="api_key"),), {"token": "t"}, default_field="token"
    )
    assert result.query == {"api_key": "t"}
    assert result.headers == {}


def test_several_injections_render_together():
    injections = (
        injection.Injection("header", name="DD-API-KEY", format="{api_key}"),
        injection.Injection("header", name="DD-APPLICATION-KEY", format="{app_key}"),
        injection.Injection("query", name="sig", format="{api_key}.{app_key}"),
        injection.Injection("header", name="X-Version", format="2023-06-01"),
    )
    result = injection.render(injections, {"api_key": "a", "app_key": "b"}, default_field="token")
    assert result.headers == {
        "DD-API-KEY": "a",
        "DD-APPLICATION-KEY": "b",
        "X-Version": "2023-06-01",
    }
    assert result.query == {"sig": "a.b"}


def test_missing_field_error_names_field_and_injection_but_no_value():
    injections = (
        injection.Injection("header", name="DD-API-KEY", format="{api_key}"),
        injection.Injection("header", name="DD-APPLICATION-KEY", format="{app_key}"),
    )
    with pytest.raises(injection.InjectionError) as info:
        injection.render(injections, {"api_key": SECRET}, default_field="token")
    message = str(info.value)
    assert "'app_key'" in message
    assert "injections[1]" in message
    assert "DD-APPLICATION-KEY" in message
    assert SECRET not in message
    assert info.value.field == "app_key"
    assert info.value.injection is not None
    assert "injections[1]" in info.value.injection


def test_missing_default_field_for_bearer_is_named():
    with pytest.raises(injection.InjectionError, match="'token'"):
        injection.render((injection.Injection("bearer"),), {"tok": SECRET}, default_field="token")


def test_non_string_credential_value_is_refused_without_showing_it():
    with pytest.raises(injection.InjectionError) as info:
        injection.render((injection.Injection("bearer"),), {"token": 12345}, default_field="token")  # type: ignore[dict-item]
    assert "12345" not in str(info.value)


@pytest.mark.parametrize("bad", [f"{SECRET}\r\nX-Evil: 1", f"{SECRET}\n", "\x00", "tab\there", "é"])
def test_header_value_with_control_or_non_ascii_characters_is_refused(bad: str):
    with pytest.raises(injection.InjectionError) as info:
        injection.render((injection.Injection("bearer"),), {"token": bad}, default_field="token")
    assert SECRET not in str(info.value)
    assert "token" in str(info.value)


def test_query_value_may_carry_characters_the_client_will_encode():
    result = injection.render(
        (injection.Injection("query", name="k"),), {"token": "a b&c=é"}, default_field="token"
    )
    assert result.query == {"k": "a b&c=é"}


@pytest.mark.parametrize(
    "template",
    [
        "{token.__class__}",
        "{token.__class__.__init__.__globals__}",
        "{token[0]}",
        "{0}",
        "{}",
        "{token:>999999}",
        "{token!r}",
        "{token:{other}}",
        "{token",
        "token}",
        "{ token }",
        "{1abc}",
    ],
)
def test_template_attacks_are_refused_with_a_clear_error(template: str):
    with pytest.raises(injection.InjectionError, match=r"template|placeholder|format spec"):
        injection.validate_template(template)
    with pytest.raises(injection.InjectionError):
        injection.render(
            (injection.Injection("header", name="X", format=template),),
            {"token": "t", "other": "o"},
            default_field="token",
        )


def test_escaped_braces_render_literally():
    result = injection.render(
        (injection.Injection("header", name="X", format="{{literal}} {token}"),),
        {"token": "t"},
        default_field="token",
    )
    assert result.headers == {"X": "{literal} t"}


def test_validate_template_lists_fields_in_order_without_repeats():
    assert injection.validate_template("{b}-{a}-{b}") == ["b", "a"]
    assert injection.validate_template("2023-06-01") == []
    assert injection.validate_template("{api-key}") == ["api-key"]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (injection.Injection("header"), "needs a name"),
        (injection.Injection("query", name=""), "needs a name"),
        (injection.Injection("header", name="X Api"), "not a valid HTTP header name"),
        (injection.Injection("header", name="X:Api"), "not a valid HTTP header name"),
        (injection.Injection("header", name="Host"), "frames or routes"),
        (injection.Injection("header", name="content-length"), "frames or routes"),
        (injection.Injection("query", name="a\nb"), "control characters"),
        (injection.Injection("cookie"), "use one of"),  # type: ignore[arg-type]
    ],
)
def test_injections_that_can_never_work_are_refused_at_compile(
    bad: injection.Injection, message: str
):
    with pytest.raises(injection.InjectionError, match=message):
        injection.CompiledInjections.compile([bad], default_field="token")


def test_two_injections_writing_the_same_header_are_refused_case_insensitively():
    with pytest.raises(injection.InjectionError, match=r"injections\[0\]"):
        injection.CompiledInjections.compile(
            [injection.Injection("bearer"), injection.Injection("header", name="authorization")],
            default_field="token",
        )


def test_two_injections_writing_the_same_query_parameter_are_refused():
    with pytest.raises(injection.InjectionError, match="already writes"):
        injection.CompiledInjections.compile(
            [injection.Injection("query", name="k"), injection.Injection("query", name="k")],
            default_field="token",
        )


def test_compiled_injections_expose_fields_and_target_names():
    compiled = injection.CompiledInjections.compile(
        [
            injection.Injection("bearer"),
            injection.Injection("header", name="X-App", format="{app_key}"),
            injection.Injection("query", name="k", format="{token}"),
        ],
        default_field="token",
    )
    assert compiled.fields == {"token", "app_key"}
    assert compiled.header_names == {"authorization", "x-app"}
    assert compiled.query_names == {"k"}
    first = compiled.render({"token": "t", "app_key": "a"})
    second = compiled.render({"token": "u", "app_key": "b"})
    assert first.headers["X-App"] == "a"
    assert second.headers["X-App"] == "b"


def test_from_spec_builds_injections_with_defaults():
    built = injection.from_spec(
        [
            {},
            {"type": "header", "name": "X", "format": "{token}"},
            {"type": "basic", "password": ""},
        ]
    )
    assert built == (
        injection.Injection("bearer"),
        injection.Injection("header", name="X", format="{token}"),
        injection.Injection("basic", password=""),
    )


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"type": "magic"}, r"injections\[0\]\.type"),
        ({"type": "header", "name": 3}, r"injections\[0\]\.name must be a string"),
        ({"type": "bearer", "extra": 1}, "unknown keys extra"),
        ("bearer", "must be an object"),
    ],
)
def test_from_spec_names_the_offending_key(item: object, message: str):
    with pytest.raises(injection.InjectionError, match=message):
        injection.from_spec([item])  # type: ignore[list-item]


@hypothesis.given(st.text(max_size=60))
def test_validate_template_raises_only_injection_errors(template: str):
    try:
        fields = injection.validate_template(template)
    except injection.InjectionError:
        return
    for field in fields:
        assert f"{{{field}}}" in template


@hypothesis.given(
    st.lists(
        st.tuples(
            st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=5),
            st.sampled_from(["token", "app_key", "x"]),
        ),
        max_size=4,
    )
)
def test_rendering_substitutes_each_placeholder_with_its_field(parts: list[tuple[str, str]]):
    template = "".join(f"{literal}{{{field}}}" for literal, field in parts)
    credential = {"token": "T", "app_key": "A", "x": "X"}
    compiled = injection.CompiledInjections.compile(
        [injection.Injection("query", name="q", format=template or "{token}")],
        default_field="token",
    )
    expected = "".join(literal + credential[field] for literal, field in parts) or "T"
    assert compiled.render(credential).query == {"q": expected}


def test_check_reports_every_problem_with_its_path():
    problems = injection.check(
        [
            injection.Injection("bearer"),
            injection.Injection("header", name="X-App", format="{app_key}"),
            injection.Injection("header", format="{token}"),
            injection.Injection("header", name="X-Bad", format="{a.b}"),
        ],
        default_field="token",
        fields=["token"],
    )
    paths = [path for path, _ in problems]
    assert paths == ["injections[1]", "injections[2]", "injections[3]"]
    assert "'app_key'" in problems[0][1]
    assert "needs a name" in problems[1][1]
    assert "injections[2]" in problems[1][1]
    assert "placeholder" in problems[2][1]


def test_check_reports_duplicates_once_each_injection_is_fine():
    problems = injection.check(
        [injection.Injection("bearer"), injection.Injection("basic")],
        default_field="token",
        fields=["token", "username", "password"],
    )
    assert problems == [
        (
            "injections[1]",
            "injections[1] (basic) writes 'Authorization', which injections[0] (bearer) already "
            "writes; keep one of them",
        )
    ]


def test_check_accepts_a_good_provider():
    assert (
        injection.check(
            [injection.Injection("header", name="DD-API-KEY", format="{api_key}")],
            default_field="token",
            fields=["api_key"],
        )
        == []
    )
