"""What autograd keeps, measured by torch beside the analytic `saved_bytes`: every zoo spec, per
layer and in total, exactly; the optimizer's state after one real step; CUDA's peaks (skipped
without CUDA).

The measured side runs one training forward on CPU under saved_tensors_hooks and counts each
storage once, parameters and buffers left out (measure/memory.py).
"""

from __future__ import annotations

import pytest

from cnncalc.core.engine import Graph
from cnncalc.core.errors import CnncalcError
from cnncalc.core.memory import MemorySetup, SavedTensor, memory
from cnncalc.frontends.load import analyze, zoo_names

torch = pytest.importorskip("torch")


def measured(g: Graph, batch: int = 2):
    from cnncalc.measure.build import build_module
    from cnncalc.measure.memory import measure_saved

    torch.manual_seed(0)
    return measure_saved(build_module(g), torch.randn(batch, *g.input_shape))


def small(name: str) -> Graph:
    """The spec at 128×128 where it takes it (faster), else at its own input."""
    try:
        return analyze(name, "128x128")
    except CnncalcError:
        return analyze(name)


@pytest.mark.parametrize("name", zoo_names())
def test_zoo_saved_bytes_equal_torch_per_layer(name):
    g = small(name)
    ours = memory(g, MemorySetup(batch=2))
    total, per_layer = measured(g)
    assert {x.name: x.saved_bytes for x in ours.layers if x.saved_bytes} == per_layer
    assert ours.activations_saved_bytes == total


def test_resnet_block_by_hand():
    # conv → bn → relu → conv at batch 2, float32: the second conv keeps relu's output, which
    # relu keeps already; bn keeps conv1's output and 2 × 8 float32 statistics.
    g = Graph((3, 8, 8))
    g.add("conv1", "conv", {"out": 8, "kernel_size": 3, "stride": 1, "padding": 1,
                            "dilation": 1, "groups": 1, "bias": False}, ["input"])
    g.add("bn", "bn", {"eps": 1e-5, "momentum": 0.1, "affine": True}, ["conv1"])
    g.add("relu", "relu", {}, ["bn"])
    g.add("conv2", "conv", {"out": 4, "kernel_size": 3, "stride": 1, "padding": 1,
                            "dilation": 1, "groups": 1, "bias": False}, ["relu"])
    r = memory(g, MemorySetup(batch=2))
    image, act = 2 * 3 * 8 * 8 * 4, 2 * 8 * 8 * 8 * 4  # = 1,536 and 4,096 bytes
    assert [x.saved_bytes for x in r.layers] == [image, act + 2 * 8 * 4, act, 0]
    assert r.activations_saved_bytes == 1_536 + 4_096 + 64 + 4_096  # = 9,792
    total, per_layer = measured(g)
    assert total == 9_792 and per_layer == {"conv1": 1_536, "bn": 4_160, "relu": 4_096}


def test_channels_last_linear_copies_a_plain_map_only():
    # convnext's linear on a map reads N·H·W × C rows: after a conv (N×C×H×W) that is a copy of
    # its own; after a layernorm (whose output is N×H×W×C already) it is the same storage.
    g = Graph((4, 5, 5))
    g.add("conv", "conv", {"out": 4, "kernel_size": 1, "stride": 1, "padding": 0,
                           "dilation": 1, "groups": 1, "bias": True}, ["input"])
    g.add("fc1", "linear", {"out": 8, "bias": True}, ["conv"])
    g.add("ln", "layernorm", {"eps": 1e-6, "affine": True}, ["fc1"])
    g.add("fc2", "linear", {"out": 4, "bias": True}, ["ln"])
    r = memory(g, MemorySetup(batch=2))
    by = {x.name: x for x in r.layers}
    assert by["fc1"].saved_bytes == 2 * 4 * 25 * 4  # a copy: 800 bytes
    assert by["fc2"].saved == (SavedTensor("input", "float32", 1_600, "ln"),)  # ln's, no copy
    assert by["fc2"].saved_bytes == 2 * 8 * 25 * 4  # = 1,600
    assert by["ln"].saved_bytes == 2 * 8 * 25 * 4 + 2 * (2 * 25 * 4)  # fc1's output + mean, rstd
    total, per_layer = measured(g)
    assert per_layer == {"conv": 800, "fc1": 800, "ln": 2_000, "fc2": 1_600}
    assert total == r.activations_saved_bytes


def test_one_optimizer_step_measures_the_state():
    from cnncalc.measure.build import build_module
    from cnncalc.measure.memory import measure_optimizer

    g = analyze("lenet5")
    for name, factor in (("sgd", 0), ("momentum", 1), ("adam", 2), ("adamw", 2)):
        ours = memory(g, MemorySetup(optimizer=name))
        assert ours.optimizer_bytes == factor * g.totals().params * 4
        net = build_module(g)
        total, steps = measure_optimizer(net, torch.randn(2, *g.input_shape), name)
        tensors = len(list(net.parameters()))
        # Adam keeps one float32 step counter per parameter tensor besides its two moments
        assert steps == (4 * tensors if name.startswith("adam") else 0)
        assert total - steps == ours.optimizer_bytes


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_peaks_beside_the_model():
    from cnncalc.measure.memory import measure_cuda

    g = analyze("resnet18")
    setup = MemorySetup(batch=16, optimizer="adam")
    train, infer = measure_cuda(g, setup, "cuda")
    ours = memory(g, setup)
    # the allocator rounds and keeps workspaces: within 25% of the model, never far below it
    assert 0.75 * train <= ours.peak_train_bytes <= 1.25 * train
    assert 0.5 * infer <= ours.peak_infer_bytes <= 1.5 * infer


def test_layers_no_gradient_reaches_keep_nothing(spec):
    # found by verify's saved-bytes check: a gate read straight off the input. The input needs
    # no gradient, so the pool on it keeps nothing (torch makes no backward node), and the
    # multiply keeps the input only for the gate's gradient (8×20×24 floats, 15,360 B a sample)
    path = spec("""
        - mul: [[], [{adaptive_avgpool: [1, 24]}, {conv: {out: 8, k: 1}}, sigmoid]]
        - {maxpool: 2}
        """, input="8x20x24")
    g = analyze(path)
    ours = {x.name: x.saved_bytes for x in memory(g, MemorySetup(batch=2)).layers}
    total, per_layer = measured(g)
    assert {k: v for k, v in ours.items() if v} == per_layer
    assert ours["adaptive_avgpool1"] == 0
    assert per_layer["mul1"] == 2 * 8 * 20 * 24 * 4  # = 30,720: the input, for the gate's grad
