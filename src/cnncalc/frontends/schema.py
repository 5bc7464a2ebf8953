"""The spec language as a JSON Schema, generated from the layer registry.

Editors (VS Code's YAML extension, anything on yaml-language-server) read it through the
`# yaml-language-server: $schema=...` line at the top of a spec and then complete kinds and
arguments and underline wrong ones. Every kind, alias and argument comes from the registry, so the
schema cannot drift from what cnncalc accepts; `docs/schema.json` is this output, checked by a test.

The schema is looser than cnncalc in two places, on purpose: block names are the spec's own, so an
unknown key in an item is taken for a block use; and any number may be a `$expression`.
"""

from __future__ import annotations

import json
from typing import Any

from cnncalc.core.layers.registry import Arg, Kind, all_kinds
from cnncalc.frontends.args import MAX_DIM
from cnncalc.frontends.load import MAX_INPUT, TOP_KEYS
from cnncalc.frontends.lower import MAX_REPEAT, SHORTCUTS, STRUCTURE
from cnncalc.frontends.source import MAX_DEPTH

SCHEMA_ID = "https://cnncalc.dev/schema/spec.json"
Json = dict[str, Any]

EXPR: Json = {"type": "string", "pattern": r"\$",
              "description": "an expression over block arguments, e.g. \"$out * 4\""}
REF_EXPR: Json = {"$ref": "#/definitions/expr"}


def _int(low: int, high: int = MAX_DIM) -> Json:
    return {"anyOf": [{"type": "integer", "minimum": low, "maximum": high}, REF_EXPR]}


def _pair(low: int) -> Json:
    one = {"type": "integer", "minimum": low, "maximum": MAX_DIM}
    return {"anyOf": [one, {"type": "array", "items": {"anyOf": [one, REF_EXPR]},
                            "minItems": 1, "maxItems": 3}, REF_EXPR]}


def _pads() -> Json:
    """Padding: an int, one per axis, (leading, trailing) pairs per axis, or 'causal'."""
    out = _pair(0)
    one = {"type": "integer", "minimum": 0, "maximum": MAX_DIM}
    two = {"type": "array", "items": {"anyOf": [one, REF_EXPR]}, "minItems": 2, "maxItems": 2}
    out["anyOf"].append({"type": "array", "items": two, "minItems": 1, "maxItems": 3})
    out["anyOf"].append({"enum": ["causal"]})
    return out


def arg_schema(arg: Arg) -> Json:
    """The JSON Schema of one argument's value, from its registry type."""
    t = arg.type
    if t in ("int", "nonneg"):
        out = _int(1 if t == "int" else 0)
    elif t in ("pair", "size"):
        out = _pair(1)
    elif t == "pair0":
        out = _pair(0)
    elif t == "pads":
        out = _pads()
    elif t == "padding":
        out = _pads()
        out["anyOf"].append({"enum": ["same", "valid"]})
    elif t == "bool":
        out = {"anyOf": [{"type": "boolean"}, REF_EXPR]}
    elif t == "float":
        out = {"anyOf": [{"type": "number"}, REF_EXPR]}
    elif t == "choice":
        out = {"anyOf": [{"enum": list(arg.choices)}, REF_EXPR]}
    elif t == "ints":
        out = {"anyOf": [{"type": "array", "minItems": 1, "items": _int(1)}, REF_EXPR]}
    else:  # pragma: no cover - a new Arg type must be added here (test_schema_covers_every_type)
        raise ValueError(f"no schema for argument type {t!r}")
    if arg.doc:
        out["description"] = arg.doc
    if not arg.required and arg.default is not None:
        out["default"] = list(arg.default) if isinstance(arg.default, tuple) else arg.default
    return out


def kind_schema(kind: Kind) -> Json:
    """A kind's value: a mapping of its arguments, or its primary argument alone, or nothing."""
    props: Json = {}
    for arg in kind.args:
        for name in (arg.name, *arg.aliases):
            props[name] = arg_schema(arg)
    mapping: Json = {"type": "object", "properties": props, "additionalProperties": False}
    required = [a for a in kind.args if a.required]
    if required:
        mapping["allOf"] = [{"anyOf": [{"required": [n]} for n in (a.name, *a.aliases)]}
                            for a in required]
    forms = [mapping]
    if kind.primary:
        primary = kind.arg(kind.primary)
        assert primary is not None
        forms.append(arg_schema(primary))
    if not required:
        forms.append({"type": "null"})
    return {"description": kind.doc, "anyOf": forms}


def _item(kinds: dict[str, Kind]) -> Json:
    props: Json = {}
    for kind in kinds.values():
        for name in (kind.name, *kind.aliases):
            props[name] = {"$ref": f"#/definitions/kind.{kind.name}"}
    layers = {"$ref": "#/definitions/layers"}
    paths = {"anyOf": [{"type": "array", "items": layers},
                       {"type": "object", "additionalProperties": layers}]}
    for word in STRUCTURE:
        props[word] = {"$ref": "#/definitions/layers"} if word == "seq" else paths
    props["residual"] = {"description": "body + shortcut, added", "anyOf": [
        {"$ref": "#/definitions/layers"},
        {"type": "object", "required": ["body"], "additionalProperties": False, "properties": {
            "body": {"$ref": "#/definitions/layers"},
            "shortcut": {"anyOf": [{"enum": list(SHORTCUTS)}, {"$ref": "#/definitions/layers"},
                                   REF_EXPR]}}}]}
    props["name"] = {"type": ["string", "integer"],
                     "description": "the layer's or group's name: letters, digits, _ and -"}
    props["repeat"] = {**_int(0, MAX_REPEAT), "description": "copies named 0..N-1; $i is the index"}
    props["if"] = {"anyOf": [{"type": "boolean"}, REF_EXPR],
                   "description": "the item is left out when false"}
    names = sorted({n for k in kinds.values() for n in (k.name, *k.aliases)})
    return {"anyOf": [
        {"anyOf": [{"enum": names}, {"type": "string"}],
         "description": "a kind or block with no arguments"},
        {"type": "object", "minProperties": 1, "properties": props,
         "additionalProperties": {"description": "a block use: {block: {arg: value}}"}},
    ]}


_AMOUNT = {"anyOf": [{"type": "integer", "minimum": 0},
                     {"type": "string", "pattern": r"^\s*[0-9.]+(e[0-9]+)?\s*[A-Za-z]*\s*$"}]}
BUDGET: Json = {
    "type": "object", "additionalProperties": False,
    "description": "limits for `cnncalc check`: exit 1 when the network is over any of them",
    "properties": {"max_params": _AMOUNT, "max_macs": _AMOUNT, "max_memory": _AMOUNT,
                   "min_rf": _AMOUNT, "input": {"type": ["string", "integer"]}}}


def spec_schema() -> Json:
    """The whole schema (draft-07, the draft yaml-language-server reads best)."""
    kinds = all_kinds()
    dims = {"type": "integer", "minimum": 1, "maximum": MAX_INPUT}
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "cnncalc spec",
        "description": f"A CNN for cnncalc: input, optional blocks, layers (nesting up to "
                       f"{MAX_DEPTH} levels). See docs/spec.md.",
        "type": "object",
        "required": ["input", "layers"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": ["string", "integer"]},
            "description": {"type": "string"},
            "info": {"type": "object", "description": "paper, year, idea: shown by cnncalc zoo"},
            "input": {"anyOf": [
                {"type": "string",
                 "pattern": r"^\s*\d+(\s*[x×,*]\s*\d+){1,3}\s*$"},
                {"type": "object", "required": ["channels", "size"], "additionalProperties": False,
                 "properties": {"channels": dims, "size": {"anyOf": [
                     dims, {"type": "array", "items": dims, "minItems": 1, "maxItems": 3}]}}}]},
            "blocks": {"type": "object", "additionalProperties": {"$ref": "#/definitions/block"},
                       "propertyNames": {"not": {"enum": [*kinds, *STRUCTURE, "name", "repeat",
                                                          "if"]}}},
            "layers": {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/item"}},
            "budget": BUDGET,
        },
        "definitions": {
            "layers": {"type": "array", "items": {"$ref": "#/definitions/item"}},
            "item": _item(kinds),
            "block": {"type": "object", "required": ["body"], "additionalProperties": False,
                      "properties": {
                          "args": {"anyOf": [
                              {"type": "array", "items": {"type": "string"}},
                              {"type": "object", "propertyNames": {"not": {"const": "in"}}}]},
                          "body": {"$ref": "#/definitions/layers"},
                          "doc": {"type": "string"}}},
            "expr": EXPR,
            **{f"kind.{k.name}": kind_schema(k) for k in kinds.values()},
        },
    }


def schema_text() -> str:
    """The schema as written to docs/schema.json."""
    assert set(TOP_KEYS) == set(spec_schema()["properties"])
    return json.dumps(spec_schema(), indent=2, ensure_ascii=False) + "\n"
