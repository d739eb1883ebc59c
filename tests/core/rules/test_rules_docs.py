"""The examples in docs/policy.md are valid resources and decide as the page says."""

from __future__ import annotations

import pathlib
import re

import yaml

from strongroom_core import rules
from strongroom_core.resources import models, parsing
from tests.core.rules.calls import at, call

DOC = pathlib.Path(__file__).parents[3] / "docs" / "policy.md"


def _first_yaml_block() -> list[models.Resource]:
    block = re.search(r"```yaml\n(.*?)```", DOC.read_text("utf-8"), re.S)
    assert block is not None
    return [parsing.parse_resource(doc) for doc in yaml.safe_load_all(block.group(1))]


def test_the_example_app_and_grant_parse_and_compile() -> None:
    app, grant = _first_yaml_block()
    assert isinstance(app, models.App)
    assert isinstance(grant, models.Grant)
    wire_rules, restrictions = rules.to_wire(app, [grant])
    grants = {
        "gh-alice": {
            "provider": "github",
            "principal": {"kind": "user", "id": "alice"},
            "scopes": [],
            "restrictions": restrictions["gh-alice"],
        }
    }
    compiled = rules.compile([dict(r) for r in wire_rules], grants, app="demo")  # type: ignore[arg-type]
    monday_noon = at("2026-03-02T12:00", "Europe/Berlin")
    facts = {"grant": "gh-alice", "path": "/repos/acme/website/pulls"}
    assert compiled.decide(call(**facts), monday_noon).allowed
    late = compiled.decide(call(**facts), at("2026-03-02T20:00", "Europe/Berlin"))
    assert late.reason == (
        'outside time window Mon-Fri 08:00-19:00 Europe/Berlin (rule 2 "office-hours" of App demo)'
    )
    post = compiled.decide(call(method="POST", **facts), monday_noon)
    assert post.reason == "method POST not in [GET] (restrictions of Grant gh-alice)"
