"""Every layer kind is declared once, completely: its torch side (built and exported from the
same description), its explain derivations and its ERF rule (or an explicit none).

A new kind without a sample here fails `test_every_kind_has_a_sample`: write one, and the other
tests then hold it to the same contract as every other kind.
"""

from __future__ import annotations

import pytest

from cnncalc.core import erf_theory
from cnncalc.core.engine import Graph
from cnncalc.core.layers.common import all_pads
from cnncalc.core.layers.registry import OPS, REQUIRED, all_kinds, lookup
from cnncalc.core.layers.saved import undeclared
from cnncalc.report import explain
from cnncalc.report.export_torch import OP_CALLS, OP_MODULES, export_torch

# kind -> the arguments it requires, and the input it is sampled on (joins get two inputs)
SAMPLES: dict[str, tuple[dict, tuple[int, ...]]] = {
    "conv": ({"out": 4, "kernel_size": 3, "stride": 2, "padding": 1}, (2, 9, 8)),
    "convT": ({"out": 4, "kernel_size": 3, "stride": 2, "padding": 1}, (2, 5, 4)),
    "linear": ({"out": 3}, (8, 3, 2)),  # on the channels at every position
    "maxpool": ({"kernel_size": 3, "stride": 2}, (2, 9, 8)),
    "avgpool": ({"kernel_size": 2}, (2, 9, 8)),
    "adaptive_avgpool": ({"size": [3, 2]}, (2, 9, 8)),
    "adaptive_maxpool": ({"size": [3, 2]}, (2, 9, 8)),
    "gap": ({}, (2, 9, 8)),
    "upsample": ({"scale_factor": 2}, (2, 5, 4)),
    "groupnorm": ({"groups": 2}, (4, 5, 4)),
    "flatten": ({}, (2, 3, 3)),
    "split": ({"parts": 2, "index": 1}, (4, 5, 4)),
    "shuffle": ({"groups": 2}, (4, 5, 4)),
    "dwconv": ({"kernel_size": 3}, (2, 5, 4)),
    "sepconv": ({"out": 4, "kernel_size": 3}, (2, 5, 4)),
    "to_tokens": ({}, (4, 3, 2)),
    "class_token": ({}, (4, 6)),  # C×N tokens
    "pos_embed": ({}, (4, 6)),
    "take_token": ({"index": 2}, (4, 6)),
    "attention": ({"heads": 2}, (8, 6)),
    "pad": ({"padding": ((1, 0), (0, 2))}, (2, 5, 4)),
    "window_attention": ({"heads": 2, "window": 3, "shift": 1}, (4, 7, 5)),  # padded to 9×6
    "patch_merge": ({}, (2, 5, 4)),  # odd rows: padded
}
# every spatial kind again on 1 and 3 spatial axes (C×L, C×T×H×W), with per-axis arguments,
# causal and (leading, trailing) padding: the same contract as the 2-D samples above
RANKED: list[tuple[str, dict, tuple[int, ...]]] = [
    ("conv", {"out": 4, "kernel_size": 3, "stride": 2, "padding": 1}, (2, 9)),
    ("conv", {"out": 4, "kernel_size": 2, "dilation": 2, "padding": "causal"}, (2, 9)),
    ("conv", {"out": 4, "kernel_size": 3, "padding": ((2, 0),)}, (2, 9)),
    ("conv", {"out": 4, "kernel_size": 3, "padding": ((1, 1), (2, 0))}, (2, 6, 5)),
    ("conv", {"out": 4, "kernel_size": (3, 3, 1), "stride": (1, 2, 2), "padding": (1, 1, 0)},
     (2, 4, 9, 8)),
    ("conv", {"out": 4, "kernel_size": 3, "padding": ((1, 1), (2, 0), (0, 1))}, (2, 4, 6, 5)),
    ("convT", {"out": 4, "kernel_size": 3, "stride": 2, "padding": 1}, (2, 5)),
    ("convT", {"out": 4, "kernel_size": (1, 3, 3), "stride": (1, 2, 2)}, (2, 3, 5, 4)),
    ("maxpool", {"kernel_size": 3, "stride": 2, "padding": 1}, (2, 9)),
    ("maxpool", {"kernel_size": 2, "stride": 1, "padding": "causal"}, (2, 9)),
    ("maxpool", {"kernel_size": 3, "stride": 2, "padding": ((1, 1), (2, 0))}, (2, 7, 6)),
    ("maxpool", {"kernel_size": (1, 3, 3), "stride": (1, 2, 2), "dilation": (1, 2, 1)},
     (2, 3, 9, 8)),
    ("avgpool", {"kernel_size": 2}, (2, 9)),
    ("avgpool", {"kernel_size": 2, "padding": ((1, 0), (0, 0), (1, 1))}, (2, 4, 6, 5)),
    ("adaptive_avgpool", {"size": (3,)}, (2, 9)),
    ("adaptive_avgpool", {"size": (1, 3, 2)}, (2, 4, 9, 8)),
    ("adaptive_maxpool", {"size": (4,)}, (2, 9)),
    ("adaptive_maxpool", {"size": (2, 3, 2)}, (2, 4, 9, 8)),
    ("gap", {}, (2, 9)),
    ("gap", {}, (2, 3, 5, 4)),
    ("upsample", {"scale_factor": 2}, (2, 5)),
    ("upsample", {"scale_factor": 2, "mode": "bilinear"}, (2, 5)),
    ("upsample", {"scale_factor": (1, 2, 2)}, (2, 2, 3, 4)),
    ("upsample", {"scale_factor": 2, "mode": "bilinear", "align_corners": True}, (2, 2, 3, 4)),
    ("bn", {}, (2, 9)),
    ("bn", {}, (2, 3, 5, 4)),
    ("groupnorm", {"groups": 2}, (4, 9)),
    ("groupnorm", {"groups": 2}, (4, 3, 5, 4)),
    ("layernorm", {}, (4, 9)),
    ("linear", {"out": 3}, (4, 2, 3, 2)),
    ("relu", {}, (2, 9)),
    ("scale", {}, (4, 3, 5, 4)),
    ("flatten", {}, (2, 9)),
    ("flatten", {}, (2, 2, 3, 3)),
    ("split", {"parts": 2, "index": 1}, (4, 9)),
    ("shuffle", {"groups": 2}, (4, 9)),
    ("shuffle", {"groups": 2}, (4, 2, 3, 3)),
    ("add", {}, (2, 9)),
    ("mul", {}, (2, 3, 5, 4)),
    ("concat", {}, (2, 9)),
    ("to_tokens", {}, (4, 2, 3, 2)),
    ("pad", {"padding": ((2, 0),)}, (2, 9)),
    ("pad", {"padding": ((1, 0), (0, 2), (1, 1))}, (2, 3, 4, 5)),
]
RANKED_IDS = [f"{n}-{len(s) - 1}d-{i}" for i, (n, _, s) in enumerate(RANKED)]
DEFAULT_INPUT = (4, 5, 4)
BUILT = [name for name, k in all_kinds().items() if k.category != "macro"]


def sample(name: str, given: dict | None = None, shape: tuple[int, ...] | None = None) -> Graph:
    """A graph whose last layer is one layer of the kind, its arguments completed with the
    registry's defaults (and normalised, as the spec loader does)."""
    kind = lookup(name)
    if given is None or shape is None:
        given, shape = SAMPLES.get(name, ({}, DEFAULT_INPUT))
    args = {a.name: given.get(a.name, a.default) for a in kind.args}
    assert REQUIRED not in args.values(), f"{name}: the sample misses a required argument"
    args = kind.normalize(args) if kind.normalize else args
    source = "input"
    if len(shape) == 2 and kind.category in ("token", "attention") or name == "take_token":
        # C×N tokens: a C×N×1 map, to_tokens first
        g = Graph((*shape, 1), name=f"sample_{name}")
        source = g.add("tokens", "to_tokens", {}, ("input",)).name
    else:
        g = Graph(shape, name=f"sample_{name}")
    inputs = (source, source) if kind.join else (source,)
    g.add(name, name, args, inputs)
    return g


def test_every_kind_has_a_sample():
    needs = {name for name, k in all_kinds().items()
             if any(a.required for a in k.args) or k.category == "macro"}
    assert needs - set(SAMPLES) == set(), "kinds with required arguments but no sample"
    assert set(SAMPLES) - set(all_kinds()) == set()


@pytest.mark.parametrize("name", sorted(all_kinds()))
def test_every_kind_declares_its_torch_side(name):
    kind = lookup(name)
    if kind.category == "macro":
        assert kind.torch is None and kind.expand is not None
        return
    assert kind.torch is not None
    if kind.torch.op is not None:
        assert kind.torch.op in OPS


def test_every_op_is_rendered_by_the_builder_and_the_export():
    assert set(OP_MODULES) == set(OPS) and set(OP_CALLS) == set(OPS)


@pytest.mark.parametrize("name", BUILT)
def test_every_kind_has_an_erf_rule_or_an_explicit_none(name):
    assert (name in erf_theory.RULES) != (name in erf_theory.NO_CLOSED_FORM), name


@pytest.mark.parametrize("name", BUILT)
def test_every_kind_has_its_explain_derivations(name):
    g = sample(name)
    x = g.layers[-1]
    if x.macs:  # a kind with MACs shows its weight's factors
        assert explain.macs_steps(x), f"{name}: MACs without a derivation"
    if x.params:
        assert explain.params_steps(x), f"{name}: params without a derivation"
    grid_changes = len(x.out_shape) != len(x.in_shapes[0]) or (
        len(x.out_shape) == 3 and x.out_shape[1:] != x.in_shapes[0][1:])
    size_given = any(a.name in ("size", "out") for a in lookup(name).args)
    if grid_changes and not size_given and name != "gap":  # gap: 1×1 by definition
        assert explain.shape_steps(x), f"{name}: the output size is not derived"
    if name in SAMPLES and lookup(name).window:
        k = x.args["kernel_size"]
        assert explain.rf_steps(g, x), f"{name}: a window without its RF recurrence ({k})"


@pytest.mark.parametrize("name", BUILT)
def test_the_builder_and_the_export_agree_with_the_engine(name):
    builder_and_export_agree(sample(name), name)


@pytest.mark.parametrize(("name", "args", "shape"), RANKED, ids=RANKED_IDS)
def test_on_1_and_3_axes_the_builder_and_the_export_agree_with_the_engine(name, args, shape):
    builder_and_export_agree(sample(name, args, shape), name)


def builder_and_export_agree(g: Graph, name: str) -> None:
    torch = pytest.importorskip("torch")
    from cnncalc.measure.build import build_module

    net = build_module(g)
    x = torch.randn(2, *g.input_shape)
    with torch.no_grad():
        y = net(x)
    assert tuple(y.shape[1:]) == g.layers[-1].out_shape
    built = sum(p.numel() for p in net.parameters())
    assert built == g.totals().params

    namespace: dict = {}
    exec(compile(export_torch(g), f"<export {name}>", "exec"), namespace)  # our own output
    cls = [v for k, v in namespace.items() if isinstance(v, type) and k != "nn"][-1]
    exported = cls().eval()
    assert sum(p.numel() for p in exported.parameters()) == built
    # one layer: the same tensors in the same order, under the export's attribute names
    mine, theirs = net.state_dict(), exported.state_dict()
    assert [v.shape for v in mine.values()] == [v.shape for v in theirs.values()]
    exported.load_state_dict(dict(zip(theirs, mine.values())), strict=True)
    with torch.no_grad():
        # nn.MultiheadAttention's fused kernel rounds apart from the written-out matmuls;
        # every other kind must match to allclose's default tolerance
        atol = 1e-6 if name == "attention" else 1e-8
        assert torch.allclose(exported(x), y, atol=atol)


@pytest.mark.parametrize("name", BUILT)
def test_every_built_kind_reads_back_through_the_fx_import(name):
    pytest.importorskip("torch")
    from cnncalc.frontends.torch_model.trace import trace_graph
    from cnncalc.measure.build import build_module

    g = sample(name)
    back = trace_graph(build_module(g), g.input_shape)
    assert [(x.kind, x.out_shape, x.params) for x in back.layers] == \
        [(x.kind, x.out_shape, x.params) for x in g.layers]


@pytest.mark.parametrize(("name", "args", "shape"), RANKED, ids=RANKED_IDS)
def test_on_1_and_3_axes_every_kind_reads_back_through_the_fx_import(name, args, shape):
    """A layer padded by (leading, trailing) pairs or 'causal' is built as a pad then the
    layer; the pad folds back into the layer (frontends/torch_model/fold.py): the same rows,
    arguments, output, params and MACs."""
    pytest.importorskip("torch")
    from cnncalc.frontends.torch_model.trace import trace_graph
    from cnncalc.measure.build import build_module

    g = sample(name, args, shape)
    back = trace_graph(build_module(g), g.input_shape)
    assert [x.kind for x in back.layers] == [x.kind for x in g.layers]
    if "padding" in g.output.args:  # pairs equal to (d·(k−1), 0) read back as 'causal'
        rank = len(g.input_shape) - 1
        assert all_pads(back.output.args, rank) == all_pads(g.output.args, rank)
    assert back.output.out_shape == g.output.out_shape
    assert (back.totals().params, back.totals().macs) == (g.totals().params, g.totals().macs)


@pytest.mark.parametrize("name", BUILT)
def test_every_kind_declares_what_autograd_keeps(name):
    kind = lookup(name)
    assert kind.saved is not undeclared, f"{name}: declare saved= (core/layers/saved.py)"
    x = sample(name).layers[-1]
    for s in kind.saved(x.args, x.in_shapes, x.out_shape):
        assert s.what in ("input", "output", "tensor") and s.index < len(x.in_shapes)
        assert s.what != "tensor" or (s.numel > 0 and s.name)


@pytest.mark.parametrize("name", BUILT)
def test_every_kind_saves_what_torch_saves(name):
    """One layer in training mode at batch 2, its input requiring grad (as a layer's input
    does inside a net): the analytic saved bytes beside torch's, under saved_tensors_hooks, each
    storage once, parameters and buffers left out."""
    saves_what_torch_saves(sample(name))


@pytest.mark.parametrize(("name", "args", "shape"), RANKED, ids=RANKED_IDS)
def test_on_1_and_3_axes_every_kind_saves_what_torch_saves(name, args, shape):
    saves_what_torch_saves(sample(name, args, shape))


def saves_what_torch_saves(g: Graph) -> None:
    torch = pytest.importorskip("torch")
    from cnncalc.core.memory import MemorySetup, memory
    from cnncalc.measure.build import build_module
    from cnncalc.measure.memory import measure_saved

    ours = memory(g, MemorySetup(batch=2, input_grad=True)).activations_saved_bytes
    x = torch.randn(2, *g.input_shape, requires_grad=True)
    theirs, _ = measure_saved(build_module(g), x)
    assert ours == theirs


def test_layer_scale_on_tokens_scales_the_channels():
    """`scale` after attention (CaiT's layer scale): one gamma per channel of C×N tokens."""
    torch = pytest.importorskip("torch")
    from cnncalc.measure.build import build_module

    g = Graph((8, 6, 1), name="tokens_scale")
    g.add("tokens", "to_tokens", {}, ("input",))
    g.add("gamma", "scale", {"init": 0.5}, ("tokens",))
    assert g.totals().params == 8  # C
    net = build_module(g)
    x = torch.randn(2, 8, 6, 1)
    assert torch.allclose(net(x), 0.5 * x.flatten(2))
    namespace: dict = {}
    exec(compile(export_torch(g), "<export tokens_scale>", "exec"), namespace)
    cls = [v for k, v in namespace.items() if isinstance(v, type) and k != "nn"][-1]
    assert torch.allclose(cls()(x), 0.5 * x.flatten(2))
