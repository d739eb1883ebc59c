from __future__ import annotations

from strongroom_sidecar import state
from tests.sidecar import builders


def fresh() -> state.AppState:
    return state.AppState(builders.NAMESPACE, builders.APP)


def test_replayed_or_older_grant_versions_change_nothing() -> None:
    app = fresh()
    assert app.put_grant(builders.grant(version=2, sealed="v2"))
    assert not app.put_grant(builders.grant(version=2, sealed="replayed"))
    assert not app.put_grant(builders.grant(version=1, sealed="old"))
    assert app.grants["echo-demo"].sealed == "v2"


def test_recreated_grant_with_a_new_uid_replaces_the_old_one_at_any_version() -> None:
    app = fresh()
    app.put_grant(builders.grant(version=5, uid="old"))
    assert app.put_grant(builders.grant(version=1, uid="new"))
    assert app.grants["echo-demo"].uid == "new"


def test_cached_credential_is_dropped_when_the_record_changes() -> None:
    app = fresh()
    record = builders.grant(version=1)
    app.put_grant(record)
    app.cache_credential(record, {"token": "t1"})
    assert app.cached_credential(record) == {"token": "t1"}
    newer = builders.grant(version=2)
    app.put_grant(newer)
    assert app.cached_credential(newer) is None
    assert app.cached_credential(record) is None


def test_credential_of_a_stale_record_is_not_cached() -> None:
    app = fresh()
    stale = builders.grant(version=1)
    app.put_grant(builders.grant(version=2))
    app.cache_credential(stale, {"token": "old"})
    assert app.cached_credential(app.grants["echo-demo"]) is None


def test_resync_drops_grants_the_new_snapshot_does_not_mention() -> None:
    app = fresh()
    app.put_grant(builders.grant("kept"))
    app.put_grant(builders.grant("deleted-while-away"))
    app.mark_synced()
    app.begin_resync()
    app.put_grant(builders.grant("kept"))
    app.mark_synced()
    assert sorted(app.grants) == ["kept"]


def test_same_policy_digest_is_not_compiled_again() -> None:
    app = fresh()
    compiled = builders.compiled_policy({"echo": builders.provider_policy(["a.example"])}, [])
    assert app.set_policy(compiled)
    first = app.providers["echo"]
    assert not app.set_policy(compiled)
    assert app.providers["echo"] is first


def test_malformed_provider_is_left_out_and_the_rest_still_serve() -> None:
    app = fresh()
    broken = builders.provider_policy(["a.example"], [{"type": "header"}])  # header needs a name
    app.set_policy(
        builders.compiled_policy(
            {"broken": broken, "fine": builders.provider_policy(["b.example"])}, []
        )
    )
    assert sorted(app.providers) == ["fine"]


def test_ready_needs_keys_policy_and_a_synced_snapshot() -> None:
    app = fresh()
    assert not app.ready
    app.set_policy(builders.compiled_policy({}, []))
    app.mark_synced()
    assert not app.ready  # no keys yet
