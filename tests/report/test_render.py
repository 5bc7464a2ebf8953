"""Rendering records at a fixed width: the engine's graph in, text out; nothing computed here."""

from __future__ import annotations

from cnncalc.core.engine import Graph
from cnncalc.report.render import render, shapes_columns, text
from cnncalc.report.rows import rows


def tiny() -> Graph:
    g = Graph((3, 32, 32), "tiny")
    g.add("c1", "conv", {"out": 8, "kernel_size": 3, "stride": 1, "padding": 1, "dilation": 1,
                         "groups": 1, "bias": True}, ["input"])
    g.add("pool", "maxpool", {"kernel_size": 2, "stride": 2, "padding": 0, "dilation": 1,
                              "ceil_mode": False}, ["c1"])
    g.add("flat", "flatten", {}, ["pool"])
    g.add("fc", "linear", {"out": 10, "bias": True}, ["flat"])
    return g


TABLE = """\
tiny: input 1×3×32×32
┏━━━━━━━┳━━━━━━━━━┳━━━━━━━━━┳━━━━━━━━┳━━━━━━━━━┳━━━━━━━━┳━━━━━━┓
┃ Layer ┃ Kind    ┃ Output  ┃ Params ┃    MACs ┃     RF ┃ Jump ┃
┡━━━━━━━╇━━━━━━━━━╇━━━━━━━━━╇━━━━━━━━╇━━━━━━━━━╇━━━━━━━━╇━━━━━━┩
│ c1    │ conv    │ 8×32×32 │    224 │ 221,184 │      3 │    1 │
│ pool  │ maxpool │ 8×16×16 │      0 │       0 │      4 │    2 │
│ flat  │ flatten │ 2048    │      0 │       0 │      4 │    2 │
│ fc    │ linear  │ 10      │ 20,490 │  20,480 │ global │    – │
└───────┴─────────┴─────────┴────────┴─────────┴────────┴──────┘
Params             20,714 (20.71K)
MACs               241,664 (241.66K)
FLOPs              483,328 (483.33K)
Activation memory  48.04 KiB (float32, batch 1)
Parameter memory   80.91 KiB (float32)
MACs = conv/linear multiply-accumulates without bias (= FlopCounterMode/2); FLOPs = 2 × MACs; params = learnable parameters
"""


def test_table_at_a_fixed_width():
    # params 8·3·3·3 + 8 = 224 and 2048·10 + 10 = 20,490; MACs 224−8 = 216 × 32·32 = 221,184
    # and 20,480; activations (8·32·32 + 8·16·16 + 2048 + 10)·4 bytes = 49,192 B = 48.04 KiB
    g = tiny()
    out = text(g, shapes_columns(1, False), rows(g), totals=True, width=140)
    assert out == TABLE


def test_markdown_and_csv_carry_the_same_numbers():
    md = render(tiny(), shapes_columns(1, False), "md")
    assert "| `c1` | conv | 8×32×32 | 224 | 221,184 | 3 | 1 |" in md
    assert "| Params | 20,714 (20.71K) |" in md
    csv = render(tiny(), shapes_columns(1, False), "csv")
    head, c1 = csv.splitlines()[:2]
    assert head.startswith("name,kind,inputs,in_shape,out_shape,params,buffers,macs,flops,"
                           "other_ops,activations,rf_size_h,")
    assert c1.startswith("c1,conv,input,3x32x32,8x32x32,224,0,221184,442368,")


def test_json_is_the_records():
    import json

    data = json.loads(render(tiny(), shapes_columns(1, False), "json"))
    fc = data["layers"][-1]
    assert (fc["name"], fc["out_shape"], fc["params"], fc["macs"]) == ("fc", [10], 20_490, 20_480)
    assert data["totals"]["flops"] == 2 * 241_664
