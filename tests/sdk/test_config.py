import httpx
import pytest

import strongroom

from .conftest import FakeSidecar


def test_default_address_is_the_loopback_sidecar(sidecar: FakeSidecar) -> None:
    with strongroom.App(transport=sidecar.transport()) as app:
        app.get("https://api.github.com/user")
    assert str(app.base_url) == "http://127.0.0.1:15080"
    assert sidecar.last.url == "http://127.0.0.1:15080/proxy"


def test_strongroom_url_from_the_environment_is_used(
    sidecar: FakeSidecar, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRONGROOM_URL", "http://localhost:9999")
    with strongroom.App(transport=sidecar.transport()) as app:
        app.get("https://api.github.com/user")
    assert sidecar.last.url == "http://localhost:9999/proxy"


def test_empty_strongroom_url_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STRONGROOM_URL", "")
    assert str(strongroom.App().base_url) == "http://127.0.0.1:15080"


def test_base_url_argument_wins_over_the_environment(
    sidecar: FakeSidecar, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRONGROOM_URL", "http://localhost:9999")
    with strongroom.App("http://127.0.0.2:15080", transport=sidecar.transport()) as app:
        app.get("https://api.github.com/user")
    assert sidecar.last.url == "http://127.0.0.2:15080/proxy"


def test_a_path_prefix_on_the_address_is_kept(sidecar: FakeSidecar) -> None:
    with strongroom.App("https://gateway.local/strongroom/", transport=sidecar.transport()) as app:
        app.get("https://api.github.com/user")
    assert sidecar.last.url == "https://gateway.local/strongroom/proxy"


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("127.0.0.1:15080", "absolute http:// or https:// URL"),
        ("ftp://127.0.0.1:15080", "absolute http:// or https:// URL"),
        ("/relative", "absolute http:// or https:// URL"),
        ("http://127.0.0.1:15080/?x=1", "query or a fragment"),
        ("http://127.0.0.1:abc", "not a valid URL"),
    ],
)
async def test_invalid_strongroom_url_fails_at_creation_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str, complaint: str
) -> None:
    monkeypatch.setenv("STRONGROOM_URL", value)
    for make in (strongroom.App, strongroom.AsyncApp):
        with pytest.raises(strongroom.UsageError) as caught:
            make()
        assert "STRONGROOM_URL" in str(caught.value)
        assert complaint in str(caught.value)
        assert "unset it" in str(caught.value)


def test_invalid_base_url_argument_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(strongroom.UsageError, match=r"^base_url="):
        strongroom.App("localhost")


def test_address_with_a_password_is_refused_without_repeating_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STRONGROOM_URL", "http://admin:hunter2@127.0.0.1:15080")
    with pytest.raises(strongroom.UsageError, match="STRONGROOM_URL") as caught:
        strongroom.App()
    assert "hunter2" not in str(caught.value)


def test_base_url_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(strongroom.UsageError, match="base_url: expected a string"):
        strongroom.App(15080)  # type: ignore[arg-type]


def test_base_url_accepts_an_httpx_url() -> None:
    app = strongroom.App(httpx.URL("http://127.0.0.1:1"))
    assert app.base_url.port == 1
    app.close()
