"""The analytic memory model (core/memory.py), torch-free: hand arithmetic beside each number.
Torch's own numbers beside ours are in tests/measure/test_memory.py and tests/core/test_kinds.py."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest

from cnncalc.core.engine import Graph
from cnncalc.core.errors import CnncalcError
from cnncalc.core.memory import MemorySetup, fit, memory, parse_bytes
from cnncalc.frontends.load import analyze

CONV = {"kernel_size": 3, "stride": 1, "padding": 1, "dilation": 1, "groups": 1, "bias": False}


def chain() -> Graph:
    """conv(3→8) → relu → maxpool 2 → flatten → linear 10, on 3×8×8."""
    g = Graph((3, 8, 8))
    g.add("conv", "conv", {**CONV, "out": 8}, ["input"])
    g.add("relu", "relu", {}, ["conv"])
    g.add("pool", "maxpool", {"kernel_size": 2, "stride": 2, "padding": 0, "dilation": 1,
                              "ceil_mode": False}, ["relu"])
    g.add("flat", "flatten", {}, ["pool"])
    g.add("fc", "linear", {"out": 10, "bias": True}, ["flat"])
    return g


def test_saved_tensors_by_hand():
    r = memory(chain(), MemorySetup(batch=2))
    by = {x.name: x for x in r.layers}
    assert by["conv"].saved_bytes == 2 * 3 * 64 * 4  # the image: 1,536
    assert by["relu"].saved_bytes == 2 * 8 * 64 * 4  # its output: 4,096
    assert by["pool"].saved_bytes == 2 * 8 * 16 * 8  # relu's output again (once) + int64 indices
    assert by["flat"].out_bytes == 0  # a view of the pool's output
    assert by["fc"].saved_bytes == 2 * 128 * 4  # the pool's output, through the view: 1,024
    assert r.activations_saved_bytes == 1_536 + 4_096 + 2_048 + 1_024  # = 8,704


def test_totals_and_optimizers():
    g = chain()
    params = 8 * 3 * 9 + 128 * 10 + 10  # = 1,506
    for name, factor in (("sgd", 0), ("momentum", 1), ("adam", 2), ("adamw", 2)):
        r = memory(g, MemorySetup(optimizer=name))
        assert (r.params_bytes, r.grads_bytes) == (params * 4, params * 4)
        assert r.optimizer_bytes == factor * params * 4
    half = memory(g, MemorySetup(dtype="float16"))
    amp = memory(g, MemorySetup(dtype="float16", amp=True))
    assert half.params_bytes == params * 2 and amp.params_bytes == params * 4  # master weights
    assert half.layers[1].saved_bytes == 8 * 64 * 2  # relu's output in float16


def test_inference_peak_is_the_largest_live_set():
    r = memory(chain(), MemorySetup(batch=1, mode="infer"))
    image, conv, relu = 3 * 64 * 4, 8 * 64 * 4, 8 * 64 * 4
    # while relu runs: the image (the caller holds it), conv's output and relu's output
    assert r.layers[1].live_bytes == image + conv + relu
    assert r.peak_infer_bytes == r.params_bytes + r.buffers_bytes + image + conv + relu


def test_peak_train_adds_the_parts():
    r = memory(chain(), MemorySetup(batch=4))
    fixed = r.params_bytes + r.grads_bytes + r.optimizer_bytes + r.buffers_bytes
    assert r.peak_train_bytes == fixed + max(
        r.forward_peak_bytes, r.activations_saved_bytes + r.backward_transient_bytes)


def test_checkpointing_stages_keeps_less():
    g = analyze("resnet18")
    plain = memory(g, MemorySetup(batch=8))
    ckpt = memory(g, MemorySetup(batch=8, checkpoint="stages"))
    # each top-level group keeps only its input (the stem's four single layers included)
    assert ckpt.activations_saved_bytes < plain.activations_saved_bytes / 1.5
    assert ckpt.peak_train_bytes < plain.peak_train_bytes


def test_fit_finds_the_largest_batch():
    g = analyze("resnet50")
    budget = parse_bytes("24GiB")
    r = fit(g, MemorySetup(), budget)
    b = r.max_batch
    assert b is not None and b > 1 and r.setup.batch == b
    assert memory(g, MemorySetup(batch=b)).peak_train_bytes <= budget
    assert memory(g, MemorySetup(batch=b + 1)).peak_train_bytes > budget


def test_fit_below_the_parameters_names_the_floor():
    g = analyze("resnet50")
    with pytest.raises(CnncalcError, match=r"below the memory of the parameters, gradients, "
                                           r"optimizer state and buffers alone: 390\.2 MiB"):
        fit(g, MemorySetup(), parse_bytes("100MiB"))
    between = fit(g, MemorySetup(), parse_bytes("400MiB"))
    assert between.max_batch == 0 and "not even batch 1" in between.notes[0]


@pytest.mark.parametrize(("text", "value"), [
    ("24GiB", 24 * 2**30), ("24GB", 24 * 10**9), ("24G", 24 * 2**30), ("800 MiB", 800 * 2**20),
    ("1.5KiB", 1536), ("1000", 1000)])
def test_parse_bytes(text, value):
    assert parse_bytes(text) == value


@pytest.mark.parametrize("text", ["", "GiB", "-1GiB", "24XB", "0"])
def test_parse_bytes_refuses(text):
    with pytest.raises(CnncalcError, match="cannot read the memory size"):
        parse_bytes(text)


def test_bad_setup_is_one_error():
    with pytest.raises(CnncalcError, match="unknown optimizer 'lion'"):
        memory(chain(), replace(MemorySetup(), optimizer="lion"))


def test_the_analytic_path_imports_no_torch():
    code = ("import sys\nfrom cnncalc.frontends.load import analyze\n"
            "from cnncalc.core.memory import MemorySetup, memory\n"
            "from cnncalc.report.memory import render\n"
            "render(memory(analyze('resnet50'), MemorySetup()), 'table')\n"
            "assert 'torch' not in sys.modules\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
