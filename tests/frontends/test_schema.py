"""The spec's JSON schema: generated, current in docs/, and in step with what cnncalc accepts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from cnncalc.frontends.load import ZOO, zoo_names
from cnncalc.frontends.schema import schema_text, spec_schema
from tests.conftest import cli

ROOT = Path(__file__).resolve().parents[2]
MODELINE = "# yaml-language-server: $schema=../../../docs/schema.json"


def validator():
    # the schema tests need a validator (a dev dependency); the rest of this file does not
    jsonschema = pytest.importorskip("jsonschema")
    return jsonschema.Draft7Validator(spec_schema())


def test_docs_schema_is_current():
    assert (ROOT / "docs" / "schema.json").read_text() == schema_text(), \
        "run: PYTHONPATH=src python -m cnncalc schema > docs/schema.json"


def test_schema_command_prints_it():
    r = cli("schema")
    assert r.code == 0 and json.loads(r.out) == spec_schema()


def test_schema_is_valid_draft7_and_accepts_every_zoo_spec():
    v = validator()
    type(v).check_schema(spec_schema())
    for name in zoo_names():
        doc = yaml.safe_load((ZOO / f"{name}.yaml").read_text())
        assert [e.message for e in v.iter_errors(doc)] == [], name


@pytest.mark.parametrize(("text", "path"), [
    ("input: 3x8x8\nlayrs: [relu]\n", []),                          # misspelt top key
    ("input: 3x8x8\nlayers: [{conv: {out: 8, kernal: 3}}]\n", ["layers", 0]),
    ("input: 3x8x8\nlayers: [{conv: {out: yes, k: 3}}]\n", ["layers", 0]),   # a bool
    ("input: 3x8x8\nlayers: [{conv: {k: 3}}]\n", ["layers", 0]),     # out missing
    ("input: 3x8x8\nlayers: [{conv: {out: 0, k: 3}}]\n", ["layers", 0]),
    ("input: 3x8x8\nlayers: [{linear: 10, repeat: -1}]\n", ["layers", 0]),
    ("input: {channels: 3, size: [8, 8, 8, 8]}\nlayers: [relu]\n", ["input"]),  # 4 axes
])
def test_schema_rejects_what_cnncalc_rejects(text, path):
    errors = list(validator().iter_errors(yaml.safe_load(text)))
    assert errors and [list(e.path) for e in errors][0] == path


def test_schema_accepts_aliases_primaries_and_expressions():
    doc = yaml.safe_load("input: 3x8x8\nblocks: {b: {args: [c], body: [{conv2d: {out_channels: "
                         "'$c * 2', k: [3, 3], p: same}}]}}\nlayers: [{linear: 10}, {b: 4}, "
                         "{residual: {body: [relu], shortcut: identity}}, {maxpool: 2}]\n")
    assert list(validator().iter_errors(doc)) == []


def test_every_zoo_spec_carries_the_modeline():
    for name in zoo_names():
        first = (ZOO / f"{name}.yaml").read_text().splitlines()[0]
        assert first == MODELINE, name
    # the relative path resolves from the zoo folder to the generated schema
    assert (ZOO / "../../../docs/schema.json").resolve() == (ROOT / "docs" / "schema.json")
