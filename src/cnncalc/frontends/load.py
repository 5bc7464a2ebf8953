"""Finding and reading a spec file, its header (name, input, info, blocks), and building it."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from cnncalc.core.budget import LIMITS, parse_amount
from cnncalc.core.engine import Graph
from cnncalc.core.errors import CnncalcError, ErrorList, Loc, SpecError, did_you_mean
from cnncalc.core.layers.registry import Shape, all_names
from cnncalc.core.text import has_control, is_count
from cnncalc.frontends.lower import INPUT_REF, META, STRUCTURE, Block, Lowerer, Scope
from cnncalc.frontends.source import MAX_BYTES, YNode, load_yaml, read_user_file

TOP_KEYS = ("name", "description", "info", "input", "blocks", "layers", "budget")
ZOO = Path(__file__).resolve().parent.parent / "zoo"
MAX_INPUT = 100_000  # pixels per axis
T = TypeVar("T")


@dataclass
class Spec:
    name: str
    input_shape: Shape
    layers: YNode
    blocks: dict[str, Block] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    path: str = "<spec>"
    budget: dict[str, Any] = field(default_factory=dict)  # `cnncalc check`'s limits, and input


def zoo_names() -> list[str]:
    return sorted(p.stem for p in ZOO.glob("*.yaml"))


def find_spec(arg: str) -> Path:
    """A path to a spec file, or a bare zoo name (`resnet50`) resolved to the shipped spec."""
    path = Path(arg)
    if os.path.lexists(path):  # any kind of thing: read_user_file says what it is
        return path
    if not path.suffix and (ZOO / f"{arg}.yaml").is_file():
        return ZOO / f"{arg}.yaml"
    hint = did_you_mean(arg, zoo_names()) if not path.suffix else None
    raise SpecError(f"no spec file or zoo spec named {arg!r}", hint=hint or
                    "run `cnncalc zoo` for the zoo's names")


def load_spec(arg: str | Path) -> Spec:
    path = find_spec(str(arg))
    text = read_user_file(path, "spec file", MAX_BYTES)
    assert isinstance(text, str)
    shown = str(path) if not path.is_relative_to(ZOO) else f"zoo/{path.name}"
    return parse_spec(text, shown)


def parse_spec(text: str, filename: str = "<spec>") -> Spec:
    """Read the header; independent mistakes in it are reported together."""
    root = load_yaml(text, filename)
    if not root.is_map:
        raise SpecError("a spec is a mapping with 'input' and 'layers'", root.loc)
    errors = ErrorList()
    top = root.value
    meant: set[str] = set()  # a misspelt key already explains why the key it meant is missing
    for key in top:
        if key not in TOP_KEYS:
            close = difflib.get_close_matches(key, TOP_KEYS, n=1, cutoff=0.6)
            meant.update(close)
            errors.add(SpecError(f"unknown top-level key {key!r}; allowed: {', '.join(TOP_KEYS)}",
                                 root.keylocs[key], did_you_mean(key, TOP_KEYS)))
    for key in ("input", "layers"):
        if key not in top and key not in meant:
            errors.add(SpecError(f"spec needs {key!r}", root.loc))
    for key in ("name", "description"):
        if key in top and (not isinstance(top[key].value, (str, int)) or top[key].value is True
                           or top[key].value is False):
            errors.add(SpecError(f"{key!r} is a line of text, got {top[key].plain()!r}",
                                 top[key].loc))
        elif key in top and isinstance(top[key].value, str):
            try:
                line_of_text(key, top[key].value, top[key].loc)
            except SpecError as e:
                errors.add(e)
    info = top["info"].plain() if "info" in top else {}
    if not isinstance(info, dict):
        errors.add(SpecError("'info' is a mapping (paper, year, idea)", top["info"].loc))
    layers = top.get("layers")
    if layers is not None and (not layers.is_seq or not layers.value):
        errors.add(SpecError("'layers' is a non-empty list of layers", layers.loc))
    shape = _collect(errors, _input, top["input"]) if "input" in top else None
    blocks = _collect(errors, _blocks, top["blocks"]) if "blocks" in top else {}
    budget = _collect(errors, read_budget, top["budget"]) if "budget" in top else {}
    errors.check()
    name = top["name"].value if "name" in top else Path(filename).stem
    assert layers is not None and shape is not None and blocks is not None and budget is not None
    return Spec(str(name), shape, layers, blocks, info, filename, budget)


def line_of_text(what: str, text: str, loc: Loc | None = None) -> str:
    """`text` when it is one line of text: no line break, no control character."""
    c = has_control(text)
    if c is not None:
        raise SpecError(f"{what!r} is a line of text: it holds {c!r} (line breaks and control "
                        "characters are not allowed)", loc)
    return text


def _collect(errors: ErrorList, fn: Callable[[YNode], T], node: YNode) -> T | None:
    try:
        return fn(node)
    except SpecError as e:
        errors.add(e)
        return None


def _input(node: YNode) -> Shape:
    if isinstance(node.value, str):
        return parse_input(node.value, None, node.loc)
    if not node.is_map:
        raise SpecError("input is {channels: C, size: [H, W]} ([L], [T, H, W]) or 'CxHxW'",
                        node.loc)
    for key in node.value:
        if key not in ("channels", "size"):
            raise SpecError(f"input takes 'channels' and 'size', not {key!r}",
                            node.keylocs[key], did_you_mean(key, ["channels", "size"]))
    c = node.value.get("channels")
    size = node.value.get("size")
    if c is None or size is None:
        raise SpecError("input needs 'channels' and 'size'", node.loc)
    hw = size.plain()
    hw = [hw, hw] if isinstance(hw, int) and not isinstance(hw, bool) else hw
    dims = [c.value, *(hw if isinstance(hw, list) else [hw])]
    if isinstance(hw, list) and not 1 <= len(hw) <= 3:
        raise SpecError(f"input size {hw!r} has {len(hw)} axes: give 1 to 3 ([L], [H, W] or "
                        "[T, H, W])", size.loc)
    if not all(_dim(d) for d in dims):
        raise SpecError(f"input channels and size must be positive integers up to {MAX_INPUT:,}, "
                        f"got channels {c.plain()!r}, size {size.plain()!r}", node.loc)
    return tuple(dims)


def _dim(d: Any) -> bool:
    return isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= MAX_INPUT


def parse_input(text: str, channels: int | None, loc: Loc | None = None,
                rank: int | None = None) -> Shape:
    """'3x224x224', '224x224' (channels from the spec) or '224' (square); 1-D and 3-D inputs
    with their channels: '1x16000' (C×L), '3x16x112x112' (C×T×H×W). `rank`: the spatial axes
    the spec has, so that sizes without channels read as that many axes ('16000' on a 1-D
    spec, '16x112x112' or '112' on a 3-D one); any other count of numbers is the channels and
    the sizes (a 2-D spec on a C×T×H×W input: every kind takes any rank)."""
    parts = re.split(r"[x×,*]", text.strip().lower())
    dims = [int(p) for p in parts] if all(is_count(p.strip()) for p in parts) else []
    if channels is not None and dims:
        if rank is not None and rank != 2 and len(dims) in (1, rank):
            dims = [channels, *(dims * rank if len(dims) == 1 else dims)]
        elif len(dims) == 1:
            dims = [channels, *dims * 2]
        elif len(dims) == 2 and rank in (None, 2):
            dims = [channels, *dims]
    if 2 <= len(dims) <= 4 and not all(_dim(d) for d in dims):
        names = {2: "C, L", 3: "C, H, W", 4: "C, T, H, W"}[len(dims)]
        raise SpecError(f"bad input size {text!r}: each of {names} is an integer from 1 to "
                        f"{MAX_INPUT:,}", loc)
    if len(dims) > 4:
        raise SpecError(f"bad input size {text!r}: {len(dims) - 1} spatial axes; cnncalc takes "
                        "1 to 3 (CxL, CxHxW, CxTxHxW)", loc)
    if not 2 <= len(dims) <= 4:
        short = "write CxHxW like 3x224x224" + (", or HxW" if channels is not None else
                                                 " (a torch module has no channel count)")
        if rank not in (None, 2) or channels is None:
            short += "; CxL like 1x16000 or CxTxHxW like 3x16x112x112 for 1-D or 3-D"
        raise SpecError(f"bad input size {text!r}: {short}", loc)
    return tuple(dims)


def read_budget(node: YNode) -> dict[str, Any]:
    """`budget: {max_params: 5M, max_macs: 1G, max_memory: 8GiB, min_rf: 224, input: 3x224x224}`
    (a spec's, or a project file's): the limits as integers, the input as written."""
    keys = (*LIMITS, "input")
    if not node.is_map:
        raise SpecError("'budget' maps limits (" + ", ".join(keys) + ") to amounts like 5M",
                        node.loc)
    out: dict[str, Any] = {}
    for key, value in node.value.items():
        if key not in keys:
            raise SpecError(f"unknown budget key {key!r}; allowed: {', '.join(keys)}",
                            node.keylocs[key], did_you_mean(key, keys))
        if key == "input":
            if not isinstance(value.value, (str, int)) or isinstance(value.value, bool):
                raise SpecError("budget input is a size like 3x224x224", value.loc)
            out[key] = str(value.value)
            continue
        try:
            out[key] = parse_amount(value.value, key)
        except CnncalcError as e:
            raise SpecError(e.message, value.loc) from None
    return out


def _blocks(node: YNode) -> dict[str, Block]:
    if not node.is_map:
        raise SpecError("'blocks' maps block names to {args, body}", node.loc)
    reserved = set(all_names()) | set(STRUCTURE) | set(META)
    out: dict[str, Block] = {}
    for name, spec in node.value.items():
        loc = node.keylocs[name]
        if name in reserved:
            raise SpecError(f"block name {name!r} is already a layer kind or keyword", loc)
        if not spec.is_map or "body" not in spec.value:
            raise SpecError(f"block {name!r} needs a 'body' list (and optional 'args')", spec.loc)
        for key in spec.value:
            if key not in ("args", "body", "doc"):
                raise SpecError(f"block {name!r} takes 'args', 'body' and 'doc', not {key!r}",
                                spec.keylocs[key], did_you_mean(key, ["args", "body", "doc"]))
        out[name] = Block(name, _block_args(spec.value.get("args")), spec.value["body"], loc)
        if INPUT_REF in out[name].args:
            raise SpecError(f"block {name!r}: argument name {INPUT_REF!r} is reserved ($in is the "
                            "channel count entering the block)", spec.value["args"].loc)
        if not out[name].body.is_seq:
            raise SpecError(f"block {name!r}: 'body' is a list of layers", out[name].body.loc)
    return out


def _block_args(node: YNode | None) -> dict[str, YNode | None]:
    if node is None:
        return {}
    if node.is_seq:  # [out, stride]: all required
        names = [n.value for n in node.value]
        if not all(isinstance(n, str) for n in names):
            raise SpecError("block args are names", node.loc)
        return dict.fromkeys(names)
    if node.is_map:
        return {k: (None if v.value is None else v) for k, v in node.value.items()}
    raise SpecError("block 'args' is a mapping of names to defaults, or a list of names",
                    node.loc)


def build(spec: Spec, input_shape: Shape | None = None, batch: int = 1) -> Graph:
    """Lower the spec into the engine's graph for one input size."""
    g = Graph(input_shape or spec.input_shape, spec.name, batch)
    g.source, g.info = spec.path, spec.info
    errors = ErrorList()
    Lowerer(spec.blocks, g, errors).seq(spec.layers, "input", Scope(),
                                        {INPUT_REF: g.input_shape[0]})
    errors.check()
    return g


def analyze(arg: str | Path, input: str | None = None, batch: int = 1,
            args: list[str] | None = None) -> Graph:
    """Load a spec (file or zoo name) and build it: the one call behind most commands.

    `net.py`, `model.py:Net` and `pkg.mod:factory` are Python (spec/pysource.py); `args`
    (`name=value`) are keyword arguments for a Python class or factory."""
    from cnncalc.frontends.pysource import analyze_python, is_python

    if is_python(str(arg)):
        return analyze_python(str(arg), input, batch, args)
    if args:
        raise SpecError("--arg is for Python classes and factories (model.py:Net, pkg.mod:fn)")
    spec = load_spec(arg)
    shape = (parse_input(input, spec.input_shape[0], rank=len(spec.input_shape) - 1)
             if input else None)
    return build(spec, shape, batch)
