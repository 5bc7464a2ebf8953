"""The zoo's saved-activation bytes, analytic beside measured (torch on CPU), and torchinfo's
estimate on the same nets; writes docs/memory.md.

    PYTHONPATH=src python benchmarks/memory_zoo.py [--batch 1] [--out docs/memory.md]

torchinfo is optional and never a dependency of cnncalc: install it for this script only, without
its dependencies so that it cannot pull another torch (`pip download --no-deps torchinfo` first,
then `pip install --no-deps torchinfo`, or into a folder on PYTHONPATH). Without it the torchinfo
column says so.
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

import torch

from cnncalc.core.memory import NOT_MODELLED, MemorySetup, fit, memory, parse_bytes
from cnncalc.frontends.load import analyze, zoo_names
from cnncalc.measure.build import build_module
from cnncalc.measure.memory import measure_saved

ROOT = Path(__file__).resolve().parents[1]


def mib(n: float) -> str:
    return f"{n / 2**20:,.1f}"


def torchinfo_bytes(net: torch.nn.Module, shape: tuple[int, ...]) -> int | None:
    """torchinfo's "Forward/backward pass size": the bytes of every module's output."""
    try:
        import torchinfo
    except ImportError:
        return None
    stats = torchinfo.summary(net, input_size=shape, verbose=0, mode="train")
    return int(stats.total_output_bytes)


def row(name: str, batch: int) -> list[str]:
    g = analyze(name)
    ours = memory(g, MemorySetup(batch=batch))
    torch.manual_seed(0)
    net = build_module(g)
    total, per_layer = measure_saved(net, torch.randn(batch, *g.input_shape))
    agree = sum(x.saved_bytes == per_layer.get(x.name, 0) for x in ours.layers)
    info = torchinfo_bytes(build_module(g).train(), (batch, *g.input_shape))
    fits = fit(g, MemorySetup(), parse_bytes("24GiB")).max_batch
    shape = "×".join(map(str, g.input_shape[1:]))
    return [name, shape, f"{ours.activations_saved_bytes:,}", f"{total:,}",
            f"{ours.activations_saved_bytes - total:+,}", f"{agree}/{len(ours.layers)}",
            "–" if info is None else mib(info),
            "–" if info is None else f"{total / info:.2f}×",
            mib(ours.peak_train_bytes), f"{fits:,}"]


HEADERS = ["spec", "input", "analytic saved B", "measured saved B", "diff", "layers equal",
           "torchinfo fwd/bwd MiB", "measured ÷ torchinfo", "peak train MiB (adam)",
           "max batch in 24 GiB"]

INTRO = """# Memory: what a training step keeps, and what fits

`cnncalc memory SPEC` answers before any GPU is rented: the bytes of the parameters, their
gradients, the optimizer's state, the activations autograd keeps for backward, the peaks of a
training step and of an inference pass, and with `--fit 24GiB` the largest batch that fits. It
is analytic (no torch; as fast as `cnncalc shapes`); `--measure` puts torch's numbers beside.

## The model

- **Saved activations.** Each layer kind declares the tensors its backward reads
  (`saved=` in `core/layers/`, next to its shape, params and MACs): conv, transposed conv and
  linear keep their input; relu, sigmoid and tanh their output; the other activations (relu6 —
  torch's hardtanh —, gelu, silu, hardswish, hardsigmoid, mish, leaky relu) their input;
  batchnorm in training its input and two float32 statistics per channel; layernorm its input
  and a float32 mean and rstd per position; groupnorm its input and two per group; max pools
  their input and int64 indices of the output's size; average and adaptive average pools their
  input (to 1×1 none: torch takes a mean); layer scale its input; multiply every factor; dropout
  on CPU a noise tensor of the input's size and dtype (CUDA keeps a bool mask, 1 byte a value);
  stochastic depth a bool per sample; add, concat, split, shuffle, flatten, identity and
  upsampling nothing. Nothing is kept where no gradient flows: the input needs none, nor what
  layers without parameters make from it alone, and a multiply keeps a factor only for the
  other factor's gradient. A tensor is a **storage**: a view (flatten, split, identity, dropout with
  p = 0) shares its input's, and a storage kept by several layers (a ReLU's output kept by the
  ReLU and by the conv after it) is counted once, charged to the first layer that keeps it.
  nn.Linear on a map (ConvNeXt's pointwise MLP) reads N·H·W × C rows: when its input is a plain
  N×C×H×W map torch copies it and keeps the copy; after a layernorm or another linear (whose
  outputs are N×H×W×C in memory) it keeps the producer's storage. The model follows that layout
  through the graph (convs, elementwise ops and joins keep their first input's layout).
- **Parameters, gradients, optimizer.** params × bytes; one gradient each; sgd 0, momentum 1×,
  adam and adamw 2× (their per-tensor `step` counters, 4 bytes per parameter tensor, are not
  counted: `--measure` shows them apart). Buffers (batchnorm's running statistics) apart.
- **Peaks.** `peak_train_bytes` = params + grads + optimizer + buffers + the larger of the
  forward's peak (saved so far + live) and saved + the largest backward transient (one layer's
  output gradient and input gradients). `peak_infer_bytes` = params + buffers + the largest set
  of tensors live at any layer without autograd (the input, held by the caller, included).
- **dtype, amp, checkpointing.** `--dtype float16|bfloat16` halves activations and weights;
  `--amp` keeps float32 master weights, gradients and optimizer state with half activations,
  plus the half copy of each conv/linear weight and of the input image that autocast keeps
  (layernorm and groupnorm, which CUDA autocast runs in float32, are not special-cased).
  `--checkpoint stages` checkpoints each top-level group: the forward keeps only the groups'
  inputs, and the backward recomputes one group at a time (`recompute_bytes`, the largest).
- **`--fit BYTES`**: the largest batch whose peak (train or infer, by `--mode`) fits, found
  exactly on the same model; below the batch-independent memory (parameters, gradients,
  optimizer state, buffers) it is an error naming that floor.

## Not modelled

"""

MEASURED = """
## Measured beside (`--measure`)

- **Saved tensors, CPU, exact**: one training forward of the built module under
  `torch.autograd.graph.saved_tensors_hooks`; each packed tensor charged by its storage to the
  layer running (a forward pre-hook per layer); parameters' and buffers' storages left out.
- **Optimizer state**: one real step, the bytes of `optimizer.state`.
- **CUDA** (`--device cuda`): `torch.cuda.max_memory_allocated` around a full training step
  (after a first step, so the optimizer state exists) and around an inference pass.
- **In `cnncalc verify`**: on CPU, every spec's saved bytes per layer and in all, beside this
  model (a disagreement is a disagreement: exit 1); a torch model's are not measured there.
- **A step torch refuses**: batch norm in training needs more than one value per channel
  (batch × its input's spatial size). The analytic output says so in a warning naming the
  layer (resnet18 at 3×32×32, batch 1: `layer4.0.bn1`, a 512×1×1 input), and `--measure` is
  then that one line as an error (exit 2), before torch builds anything: use `--batch 2` or a
  larger `--input`. In `--mode infer` batch norm uses its running statistics: no warning.

## Output

The terminal table is report/table.py's (every command's): numbers, shapes and byte counts
are never cut; at a narrow terminal the names wrap, then `Saved tensors` and then `Kind` are
left out (one line says which), then each layer is printed as a block; piped, the whole table.
Per layer the bytes are shown short (`3.06 MiB`); the totals show each number exactly and
short (`46,758,048 B (44.59 MiB)`), one value a row, what it counts in its label.

JSON (`--format json`), one record per layer in `layers`:

| field | meaning |
|---|---|
| `name`, `kind`, `out_shape` | the layer, its kind, its output shape (no batch) |
| `out_bytes` | its output's own storage (0 for a view of its input) |
| `saved_bytes` | the storages this layer is the first to keep for backward |
| `saved` | what it keeps: a list of `{"what", "dtype", "bytes", "of", "kept_already"}` |
| `live_bytes` | activations live while it runs without autograd (input included) |

In `saved`, `what` names the tensor (`input`, `output`, `mean`, `invstd`, `rstd`,
`indices`, `noise`, `input nhwc copy`, `weight cast`, …), `bytes` is its storage's size,
`of` is whose storage it is (a layer's name, `input` for the net's input; `null` for a
tensor of the layer's own), and `kept_already` is true when an earlier layer keeps it and is
charged for it: `saved_bytes` = the sum of `bytes` over the entries not `kept_already`.
`totals` holds `params` and the `*_bytes` of the table's totals (`params_bytes`,
`buffers_bytes`, `grads_bytes`, `optimizer_bytes`, `activations_saved_bytes`,
`backward_transient_bytes`, `recompute_bytes` with `--checkpoint stages`,
`peak_train_bytes`, `peak_infer_bytes`; `max_batch` and `fit_bytes` with `--fit`);
`measured` what `--measure` measured; `notes` the warnings.

CSV (`--format csv`) is the layer records for machines: numbers as plain integers (bytes, no
units or separators), `out_shape` as `64x112x112`, and `saved` as the `;`-joined names of
what the layer keeps (`input;mean;invstd`), without their bytes: a CSV cell holds one value,
and the bytes a layer is charged are `saved_bytes` (the per-tensor bytes are in JSON).
With `--measure`, `measured_saved_bytes` follows.

## The zoo, analytic beside measured
"""

TORCHINFO = """
torchinfo's "Forward/backward pass size" (`total_output_bytes`) is twice the sum of every
leaf module's output (once for the forward, once for the gradients). It does not look at what
autograd keeps: it counts a ReLU's output and the conv input that is the same tensor as two,
counts outputs nothing keeps (add, concat, upsampling, an average pool to 1×1) and views
(flatten, identity) as memory, and misses what is not an output: batchnorm's statistics, max
pooling's int64 indices, dropout's noise, the copies of nn.Linear on a map. The column
"measured ÷ torchinfo" is torch's saved bytes over torchinfo's estimate: neither a fixed ratio
nor a bound.
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "docs" / "memory.md"))
    a = ap.parse_args()
    rows = []
    for name in zoo_names():
        rows.append(row(name, a.batch))
        print(" | ".join(rows[-1]), flush=True)
    table = ["| " + " | ".join(HEADERS) + " |",
             "|" + "|".join(["---"] * 2 + ["---:"] * (len(HEADERS) - 2)) + "|",
             *("| " + " | ".join(r) + " |" for r in rows)]
    try:
        import torchinfo
        ti = f"torchinfo {torchinfo.__version__}"
    except ImportError:
        ti = "torchinfo not installed"
    lines = [INTRO.rstrip(), "", *(f"- {x}." for x in NOT_MODELLED), MEASURED,
             f"Batch {a.batch}, each spec at its own input, float32, training mode; torch "
             f"{torch.__version__} on CPU ({platform.machine()}), {ti}. Peak train and max batch "
             "from the analytic model (adam). Generated by `benchmarks/memory_zoo.py`.", "",
             *table, TORCHINFO]
    Path(a.out).write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
