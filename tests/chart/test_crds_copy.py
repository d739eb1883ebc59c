"""Helm cannot read files outside the chart, so the chart carries a copy of crds/ in
files/crds/. The copy must be byte-identical, and what the chart renders from it must be the
same CRDs plus only the chart's labels and the keep annotation."""

from __future__ import annotations

import yaml

from tests.chart import rendering

SOURCE = rendering.ROOT / "crds"
COPY = rendering.CHART / "files" / "crds"


def test_chart_copy_of_the_crds_is_identical_to_crds_folder() -> None:
    source = {p.name: p.read_bytes() for p in SOURCE.glob("*.yaml")}
    copied = {p.name: p.read_bytes() for p in COPY.glob("*.yaml")}
    assert sorted(copied) == sorted(source), (
        "copy with: cp crds/*.yaml charts/strongroom/files/crds/"
    )
    for name, data in source.items():
        assert copied[name] == data, f"{name} differs: cp crds/{name} charts/strongroom/files/crds/"


def test_rendered_crds_equal_the_source_apart_from_labels_and_keep() -> None:
    rendered = {
        o["metadata"]["name"]: o
        for o in rendering.render()
        if o["kind"] == "CustomResourceDefinition" and o["spec"]["group"] == "strongroom.dev"
    }
    for path in SOURCE.glob("*.yaml"):
        source = yaml.safe_load(path.read_text())
        name = source["metadata"]["name"]
        got = rendered.pop(name)
        assert got["spec"] == source["spec"], name
        assert got["metadata"]["annotations"] == {"helm.sh/resource-policy": "keep"}
        assert source["metadata"].get("labels", {}).items() <= got["metadata"]["labels"].items()
    assert rendered == {}
