"""Training and inference memory, analytic: what autograd keeps, what is live, what fits.

Each kind declares the tensors its backward reads (`Kind.saved`, core/layers/saved.py) and
whether its output is a view of its input (`Kind.view`). Here those declarations become bytes,
through *storages*: a layer's output is a new storage or (a view) its input's, and a saved tensor
is a storage, counted once however many layers keep it — as torch keeps it once. A storage is
charged to the first layer that saves it. Standard library only.

Totals (docs/memory.md):
  params_bytes, grads_bytes (one gradient per parameter), optimizer_bytes (sgd 0, momentum 1×,
  adam/adamw 2× the parameters), buffers_bytes, activations_saved_bytes (the storages autograd
  keeps after the forward), backward_transient_bytes (the largest output gradient plus input
  gradients of one layer), peak_train_bytes = params + grads + optimizer + buffers + the larger
  of the forward's peak and saved + transient; peak_infer_bytes = params + buffers + the largest
  set of live tensors at any layer of a forward without autograd (input included).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from cnncalc.core.engine import Graph, Layer
from cnncalc.core.errors import CnncalcError
from cnncalc.core.layers.common import numel
from cnncalc.core.layers.registry import Kind, lookup
from cnncalc.core.layers.saved import DTYPE_BYTES, Saved

DTYPES = {"float32": 4, "float16": 2, "bfloat16": 2}
OPTIMIZERS = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}  # state values per parameter
MODES = ("train", "infer")
CHECKPOINTS = ("none", "stages")
NOT_MODELLED = (
    "allocator rounding and caching (the CUDA caching allocator rounds blocks up to 512 B and "
    "keeps freed blocks reserved)",
    "cuDNN/oneDNN workspaces and temporary buffers inside an op",
    "the CUDA context (some hundreds of MiB per process)",
    "gradients of a branching tensor awaiting accumulation, and the loss",
)


@dataclass(frozen=True)
class MemorySetup:
    """What the user asked for: batch, dtype (with amp: float16/bfloat16 activations over
    float32 master weights), optimizer, train or infer, activation checkpointing."""

    batch: int = 1
    dtype: str = "float32"
    amp: bool = False
    optimizer: str = "adam"
    mode: str = "train"
    checkpoint: str = "none"
    input_grad: bool = False  # the input needs a gradient (as a layer's input inside a net)

    def check(self) -> None:
        for value, known, what in ((self.dtype, DTYPES, "dtype"),
                                   (self.optimizer, OPTIMIZERS, "optimizer"),
                                   (self.mode, MODES, "mode"),
                                   (self.checkpoint, CHECKPOINTS, "checkpoint")):
            if value not in known:
                raise CnncalcError(f"unknown {what} {value!r}; choose one of {', '.join(known)}")
        if self.amp and self.dtype == "float32":
            raise CnncalcError("--amp needs a half dtype: --dtype float16 or bfloat16")

    @property
    def act_bytes(self) -> int:
        return DTYPES[self.dtype]

    @property
    def param_bytes(self) -> int:
        return 4 if self.amp else DTYPES[self.dtype]


@dataclass(frozen=True)
class SavedTensor:
    """One tensor a layer keeps for backward.

    what: its name ("input", "output", "mean", "indices", "input nhwc copy", "weight cast").
    of: whose storage it is, a layer's name or "input" (the net's input), when it is another
    value's tensor; None for a tensor of the layer's own.
    kept_already: an earlier layer keeps this storage, and is charged its bytes.
    """

    what: str
    dtype: str
    bytes: int
    of: str | None = None
    kept_already: bool = False


@dataclass(frozen=True)
class LayerMemory:
    name: str
    kind: str
    out_shape: tuple[int, ...]
    out_bytes: int  # the output's own storage (0 for a view of its input)
    saved_bytes: int  # storages first kept for backward by this layer
    saved: tuple[SavedTensor, ...]  # what it keeps, each storage charged to its first keeper
    live_bytes: int  # activations live while it runs, without autograd (input included)


@dataclass
class MeasuredMemory:
    """What measure/memory.py measured with torch, as a plain record."""

    saved_bytes: int
    saved_per_layer: dict[str, int] = field(default_factory=dict)
    optimizer_bytes: int | None = None
    optimizer_step_bytes: int = 0  # of which Adam's per-parameter step counters
    device: str = "cpu"
    peak_train_bytes: int | None = None  # CUDA only
    peak_infer_bytes: int | None = None
    torch_version: str = ""


@dataclass
class MemoryResult:
    spec: str
    input_shape: tuple[int, ...]
    setup: MemorySetup
    params: int
    layers: list[LayerMemory]
    params_bytes: int
    grads_bytes: int
    optimizer_bytes: int
    buffers_bytes: int
    activations_saved_bytes: int
    backward_transient_bytes: int
    recompute_bytes: int  # with --checkpoint stages: the largest stage's saved tensors
    forward_peak_bytes: int  # activations at the forward's peak in training
    peak_train_bytes: int
    peak_infer_bytes: int
    fit_bytes: int | None = None
    max_batch: int | None = None
    notes: list[str] = field(default_factory=list)
    measured: MeasuredMemory | None = None

    @property
    def peak_bytes(self) -> int:
        return self.peak_train_bytes if self.setup.mode == "train" else self.peak_infer_bytes

    @property
    def static_bytes(self) -> int:
        """What does not grow with the batch: parameters, gradients, optimizer state, buffers."""
        train = self.setup.mode == "train"
        return self.params_bytes + self.buffers_bytes + train * (
            self.grads_bytes + self.optimizer_bytes)


# Storages ---------------------------------------------------------------------------------

@dataclass
class _Value:
    storage: str
    layout: str  # "nchw", or "nhwc" (N×H×W×C-contiguous, after a channels-last module)


@dataclass
class _Walk:
    """The forward pass as storages: sizes, who saves what, and when each is last read."""

    sizes: dict[str, int] = field(default_factory=dict)
    created: dict[str, int] = field(default_factory=dict)  # storage -> step (input: -1)
    last: dict[str, int] = field(default_factory=dict)  # storage -> last step that reads it
    saved_by: dict[str, int] = field(default_factory=dict)  # storage -> first step saving it
    kept: dict[int, list[SavedTensor]] = field(default_factory=dict)  # step -> what it keeps
    transient: dict[int, int] = field(default_factory=dict)  # step -> bytes of op-local copies
    grads: dict[int, int] = field(default_factory=dict)  # step -> output + input gradients
    private: set[str] = field(default_factory=set)  # a layer's own saved tensors (autograd only)
    storage_of: dict[str, str] = field(default_factory=dict)  # value -> its storage


def _is_map(shape: tuple[int, ...]) -> bool:
    return len(shape) == 3 and shape[1] * shape[2] > 1


def _layout(kind: Kind, x: Layer, ins: list[_Value]) -> str:
    if not _is_map(x.out_shape):
        return "nchw"
    if kind.torch is not None and kind.torch.channels_last:
        return "nhwc"
    if kind.name == "shuffle":
        return "nchw"
    return ins[0].layout  # elementwise, conv, pools and joins follow their (first) input


def _walk(g: Graph, setup: MemorySetup) -> _Walk:
    b, act = setup.batch, setup.act_bytes
    w = _Walk()
    in_bytes = 4 if setup.amp else act
    w.sizes["input"], w.created["input"], w.last["input"] = numel(g.input_shape) * b * in_bytes, \
        -1, len(g.layers)
    values = {"input": _Value("input", "nchw")}
    # autograd keeps nothing for a value no gradient flows to: the input, and what layers
    # without parameters make from it alone (a pool or a gate reading the input directly)
    needs_grad = {"input": setup.input_grad}
    for i, x in enumerate(g.layers):
        kind = lookup(x.kind)
        assert kind is not None
        ins = [values[n] for n in x.inputs]
        for v in ins:
            w.last[v.storage] = max(w.last[v.storage], i)
        layout = _layout(kind, x, ins)
        reshapes_nhwc = len(x.out_shape) != 3 and ins[0].layout == "nhwc"  # flatten copies
        if kind.view(x.args) and not reshapes_nhwc:
            out = _Value(ins[0].storage, layout)
        else:
            out = _Value(x.name, layout)
            w.sizes[x.name], w.created[x.name], w.last[x.name] = \
                numel(x.out_shape) * b * act, i, i
        values[x.name] = out
        w.storage_of[x.name] = out.storage
        w.grads[i] = (numel(x.out_shape) + sum(numel(s) for s in x.in_shapes)) * b * act
        grads_in = [needs_grad[n] for n in x.inputs]
        needs_grad[x.name] = x.params > 0 or any(grads_in)
        for s in kind.saved(x.args, x.in_shapes, x.out_shape):
            # an input is kept for the gradient of the layer's parameters or of its other
            # inputs (a multiply keeps a only when b needs a gradient), the rest only when
            # the output needs one
            other = any(d for j, d in enumerate(grads_in) if j != s.index)
            if s.what == "input" and kind.join and not (other or x.params > 0):
                continue
            if not needs_grad[x.name]:
                continue
            _save(w, i, x, s, ins, out, setup)
        if setup.amp and kind.category in ("conv", "linear"):
            weight = x.params - (x.out_shape[0] if x.args.get("bias") else 0)
            _private(w, i, f"{x.name}:weight-cast", weight * act, "weight cast", setup.dtype)
    if g.layers:
        w.last[values[g.output.name].storage] = len(g.layers)
    return w


def _save(w: _Walk, i: int, x: Layer, s: Saved, ins: list[_Value], out: _Value,
          setup: MemorySetup) -> None:
    b, act = setup.batch, setup.act_bytes
    if s.what == "tensor":
        size = s.numel * (b if s.per_sample else 1) * (act if s.dtype == "act"
                                                         else DTYPE_BYTES[s.dtype])
        _private(w, i, f"{x.name}:{s.name}", size, s.name,
                 setup.dtype if s.dtype == "act" else s.dtype)
        return
    if s.what == "output":
        _share(w, i, out.storage, "output", setup.dtype)
        return
    v = ins[s.index]
    copy = s.nhwc and _is_map(x.in_shapes[s.index]) and v.layout != "nhwc"
    cast = setup.amp and v.storage == "input"
    if copy or cast:
        size = numel(x.in_shapes[s.index]) * b * act
        _private(w, i, f"{x.name}:{s.name}-copy", size,
                 f"{s.name} {'nhwc' if copy else 'cast'} copy", setup.dtype)
        if copy:
            w.transient[i] = w.transient.get(i, 0) + size  # the same copy without autograd
        return
    # the input image is float32 under amp (its cast copy is kept above)
    _share(w, i, v.storage, s.name, "float32" if v.storage == "input" and setup.amp
           else setup.dtype)


def _private(w: _Walk, i: int, storage: str, size: int, what: str, dtype: str) -> None:
    w.sizes[storage], w.created[storage], w.last[storage] = size, i, i
    w.saved_by[storage] = i
    w.private.add(storage)
    w.kept.setdefault(i, []).append(SavedTensor(what, dtype, size))


def _share(w: _Walk, i: int, storage: str, what: str, dtype: str) -> None:
    first = w.saved_by.setdefault(storage, i)
    w.kept.setdefault(i, []).append(
        SavedTensor(what, dtype, w.sizes[storage], storage, first != i))


# Totals -----------------------------------------------------------------------------------

def _live(w: _Walk, step: int, keep: frozenset[str] = frozenset()) -> int:
    """Bytes live at `step`: storages made and still to be read, and those in `keep`."""
    return sum(size for s, size in w.sizes.items()
               if w.created[s] <= step and (s in keep or (w.last[s] >= step
                                                          and s not in w.private)))


def _stages(g: Graph) -> Iterator[list[int]]:
    """Consecutive layers under one top-level name: the checkpointed segments."""
    run: list[int] = []
    for i, x in enumerate(g.layers):
        if run and g.layers[run[-1]].name.split(".")[0] != x.name.split(".")[0]:
            yield run
            run = []
        run.append(i)
    if run:
        yield run


def _checkpointed(g: Graph, w: _Walk) -> tuple[int, int]:
    """Saved bytes with each stage checkpointed (the stages' inputs), and the largest stage's
    own saved bytes, recomputed during its backward."""
    bounds: set[str] = set()
    largest = 0
    index = {x.name: i for i, x in enumerate(g.layers)}
    for run in _stages(g):
        inside = set(run)
        for i in run:
            for n in g.layers[i].inputs:
                if n == "input" or index[n] not in inside:
                    bounds.add(w.storage_of.get(n, "input"))
        own = sum(w.sizes[s] for s, j in w.saved_by.items() if j in inside)
        largest = max(largest, own)
    return sum(w.sizes[s] for s in bounds), largest


def memory(g: Graph, setup: MemorySetup) -> MemoryResult:
    """The memory of one training step or inference pass of `g` at `setup.batch`."""
    setup.check()
    w = _walk(g, setup)
    steps = range(len(g.layers))
    params = sum(x.params for x in g.layers)
    pb = setup.param_bytes
    params_bytes, grads_bytes = params * pb, params * pb
    optimizer_bytes = OPTIMIZERS[setup.optimizer] * params * pb
    buffers_bytes = sum(x.buffers for x in g.layers) * pb
    saved = set(w.saved_by)
    saved_bytes = sum(w.sizes[s] for s in saved)
    recompute = 0
    if setup.checkpoint == "stages":
        saved_bytes, recompute = _checkpointed(g, w)
    live = {i: _live(w, i) + w.transient.get(i, 0) for i in steps}
    forward_peak = max((_live(w, i, frozenset(s for s in saved if w.saved_by[s] <= i))
                        for i in steps), default=w.sizes["input"])
    if setup.checkpoint == "stages":
        forward_peak = max((live[i] for i in steps), default=w.sizes["input"]) + saved_bytes
    transient = max(w.grads.values(), default=0)
    peak_train = params_bytes + grads_bytes + optimizer_bytes + buffers_bytes + max(
        forward_peak, saved_bytes + recompute + transient)
    peak_infer = params_bytes + buffers_bytes + max(live.values(), default=w.sizes["input"])
    layers = []
    for i, x in enumerate(g.layers):
        first = sum(w.sizes[s] for s in saved if w.saved_by[s] == i)
        layers.append(LayerMemory(x.name, x.kind, x.out_shape, w.sizes.get(x.name, 0)
                                  if w.created.get(x.name) == i else 0, first,
                                  tuple(w.kept.get(i, [])), live[i]))
    refusal = train_refusal(g, setup.batch) if setup.mode == "train" else None
    return MemoryResult(g.name, g.input_shape, setup, params, layers, params_bytes, grads_bytes,
                        optimizer_bytes, buffers_bytes, saved_bytes, transient, recompute,
                        forward_peak, peak_train, peak_infer,
                        notes=[f"warning: {refusal}"] if refusal else [])


def train_refusal(g: Graph, batch: int) -> str | None:
    """Why torch refuses a training forward of `g` at `batch`, naming the layer; None when it
    does not. Batch norm in training needs more than one value per channel to normalise
    (torch's `_verify_batch_size`: batch × the spatial size of its input)."""
    for x in g.layers:
        if x.kind == "bn" and batch * numel(x.in_shapes[0][1:]) == 1:
            shape = "×".join(map(str, x.in_shapes[0]))
            return (f"{x.name}: batch norm in training needs more than one value per channel, "
                    f"and batch {batch} of a {shape} input gives one: use --batch 2 or a larger "
                    "--input")
    return None


# --fit ------------------------------------------------------------------------------------

UNITS = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40,
         "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
         "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
MAX_BATCH = 2**31


def parse_bytes(text: str) -> int:
    """'24GiB' (2^30), '24GB' (10^9), '24G' (= GiB, as nvidia-smi counts), '800MiB', '1e9'."""
    t = text.strip().lower().replace(" ", "")
    digits = t.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = t[len(digits):]
    try:
        value = float(digits)
    except ValueError:
        value = -1.0
    if unit not in UNITS or value <= 0:
        raise CnncalcError(f"cannot read the memory size {text!r}",
                           hint="write it as 24GiB, 24GB, 800MiB or a number of bytes")
    return int(value * UNITS[unit])


def fit(g: Graph, setup: MemorySetup, budget: int) -> MemoryResult:
    """The result at the largest batch whose peak (train or infer, as `setup.mode`) fits in
    `budget` bytes; max_batch 0 when not even one sample does. A budget below the memory that
    does not depend on the batch (parameters, gradients, optimizer state, buffers) is an error
    naming that floor."""
    def peak(b: int) -> int:
        return memory(g, replace(setup, batch=b)).peak_bytes

    one = memory(g, replace(setup, batch=1))
    if budget < one.static_bytes:
        what = "parameters, gradients, optimizer state and buffers" if setup.mode == "train" \
            else "parameters and buffers"
        raise CnncalcError(f"--fit {_gib(budget)} is below the memory of the {what} alone: "
                           f"{_gib(one.static_bytes)} ({one.static_bytes:,} bytes); no batch fits")
    lo, hi = 0, 1
    while hi < MAX_BATCH and peak(hi) <= budget:
        lo, hi = hi, hi * 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if peak(mid) <= budget else (lo, mid)
    result = memory(g, replace(setup, batch=max(lo, 1)))
    result.fit_bytes, result.max_batch = budget, lo
    if lo == 0:
        result.notes.append(f"not even batch 1 fits in {_gib(budget)}: it needs "
                            f"{_gib(result.peak_bytes)}")
    return result


def _gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"
