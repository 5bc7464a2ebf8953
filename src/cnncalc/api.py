"""The public Python API: `analyze`, `verify`, `erf` and `latency`, each returning a result object.

Every result renders the way the command does (`str(r)` is the table, `to_markdown()`,
`to_json()`, `to_csv()` where the command has CSV, `to_dict()`), shows itself in Jupyter
(`_repr_markdown_`, `_repr_html_`) and in rich (`__rich__`), and carries its headline numbers as
attributes. Errors are the `CnncalcError` family; a library never exits the process.

A source is a spec file, a zoo name, a Python spec (`net.py`), a model reference
(`model.py:Net`, `pkg.mod:factory`) or an `nn.Module` instance, or an earlier `Report` (its graph
and module are reused). For a torch module every measurement runs on the module itself (its own
code and weights, through its fx trace), never on a copy rebuilt from the graph; the user's
module is never moved, cast, re-initialised or left in another mode.

Nothing here imports torch at module level: `analyze` on a spec never loads it.
"""

from __future__ import annotations

import html
import json
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnncalc.core.errors import CnncalcError
from cnncalc.core.model import Model

if TYPE_CHECKING:
    from cnncalc.core.checks import Verification
    from cnncalc.core.engine import Graph
    from cnncalc.core.measured import Erf
    from cnncalc.core.timed import LatencyResult

InputSize = str | Sequence[int] | None
Args = Mapping[str, Any] | Sequence[str] | None


class Record(Mapping[str, Any]):
    """A read-only JSON object with attribute access: `layer.params`, `layer.rf.size`,
    `layer["rf"]["global"]`; nested objects are Records too."""

    def __init__(self, data: Mapping[str, Any]):
        self._data = dict(data)

    def __getitem__(self, key: str) -> Any:
        return _wrap(self._data[key])

    def __getattr__(self, key: str) -> Any:
        try:
            return _wrap(self._data[key])
        except KeyError:
            raise AttributeError(key) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def to_dict(self) -> dict[str, Any]:
        return dict(self._data)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in list(self._data.items())[:6]
                          if not isinstance(v, (dict, list)))
        return f"Record({shown}{', ...' if len(self._data) > 6 else ''})"


def _wrap(v: Any) -> Any:
    if isinstance(v, dict):
        return Record(v)
    if isinstance(v, list) and v and isinstance(v[0], dict):
        return [Record(x) for x in v]
    return v


class Result:
    """What every result shares: the renderings, built on `report`'s render functions."""

    FORMATS: tuple[str, ...] = ("table", "md", "json")

    def render(self, format: str = "table") -> str:
        raise NotImplementedError

    def _format(self, format: str) -> str:
        if format not in self.FORMATS:
            raise CnncalcError(f"{type(self).__name__} has no {format!r} output; choose one of "
                               f"{', '.join(self.FORMATS)}")
        return self.render(format)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self._format("json"))
        return data

    def to_json(self) -> str:
        return self._format("json")

    def to_markdown(self) -> str:
        return self._format("md")

    def to_csv(self) -> str:
        return self._format("csv")

    def __str__(self) -> str:
        return self._format("table")

    def __rich__(self) -> Any:
        from rich.text import Text

        return Text(str(self))

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def _repr_html_(self) -> str:
        return markdown_html(self.to_markdown())


class Report(Result):
    """`analyze`'s answer: per layer shapes, params, MACs and receptive fields, with totals.

    `layers`: one Record per layer with the JSON contract's fields (name, kind, inputs,
    in_shape, out_shape, params, buffers, macs, flops, other_ops, activations, rf, rf_min,
    aligned, args); `totals`: params, buffers, macs, flops, other_ops, activations,
    activation_bytes, param_bytes; `warnings`; `partial` (what a traced model leaves unmapped:
    empty when nothing), `notes`; `graph` (the engine's graph) and `module` (the nn.Module, or
    None for a spec)."""

    FORMATS = ("table", "md", "json", "csv")

    def __init__(self, model: Model):
        from cnncalc.report.rows import graph_json

        self.model = model
        self._json = graph_json(model.graph)

    @property
    def graph(self) -> Graph:
        return self.model.graph

    @property
    def module(self) -> Any:
        return self.model.module

    @property
    def name(self) -> str:
        return self.graph.name

    @property
    def layers(self) -> list[Record]:
        return [Record(x) for x in self._json["layers"]]

    @property
    def totals(self) -> Record:
        return Record(self._json["totals"])

    @property
    def warnings(self) -> list[Record]:
        return [Record(w) for w in self._json["warnings"]]

    @property
    def partial(self) -> list[str]:
        return [str(p) for p in self.graph.partial]

    @property
    def notes(self) -> list[str]:
        return [str(n) for n in self.graph.notes]

    def render(self, format: str = "table", depth: int | None = None,
               all_ops: bool = False) -> str:
        from cnncalc.report.render import render, shapes_columns

        return render(self.graph, shapes_columns(self.graph.batch, all_ops), format, depth)

    def to_pandas(self) -> Any:
        """The layers as a pandas DataFrame (pandas is optional)."""
        try:
            import pandas
        except ImportError:
            raise CnncalcError("pandas is not installed: pip install pandas") from None
        return pandas.DataFrame(self._json["layers"])

    def __repr__(self) -> str:
        from cnncalc.report.rows import human, shape_str

        t = self.totals
        partial = ", PARTIAL" if self.partial else ""
        return (f"<Report {self.name}: input {shape_str(self.graph.input_shape, self.graph.batch)}"
                f", {len(self._json['layers'])} layers, {human(t.params)} params, "
                f"{human(t.macs)} MACs{partial}>")


class Verified(Result):
    """`verify`'s answer: each analytic number beside its measured twin. `agrees`,
    `disagreements`, `rows` (Records as in the JSON output), `verification` (the typed
    record)."""

    FORMATS = ("table", "md", "json", "csv")

    def __init__(self, verification: Verification, device: str):
        self.verification, self.device = verification, device

    @property
    def agrees(self) -> bool:
        return self.verification.agrees

    @property
    def disagreements(self) -> int:
        return self.verification.disagreements

    @property
    def rows(self) -> list[Record]:
        return [Record(x) for x in self.to_dict()["layers"]]

    def render(self, format: str = "table") -> str:
        from cnncalc.report.verify import render

        return render(self.verification, format, self.device)

    def __repr__(self) -> str:
        v = self.verification
        verdict = "all agree" if v.agrees else f"{v.disagreements} disagree"
        return f"<Verified {v.graph.name}: {len(v.rows)} layers, {verdict}>"


class ErfResult(Result):
    """`erf`'s answer: the measured effective receptive field of one layer's centre unit.
    The record's numbers are attributes: `sigma` (σ per axis, input pixels), `mean`,
    `erf_1sigma`, `erf_2sigma`, `ratio`, `theory_sigma`, `areas`, `log_areas`, `map`, `layer`,
    `init`, ...; `record` is the typed `Erf`."""

    def __init__(self, record: Erf, graph: Graph):
        self.record, self.graph = record, graph

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in ("record", "graph"):
            raise AttributeError(name)
        return getattr(self.record, name)

    def render(self, format: str = "table", heatmap: bool = True, log: bool = False) -> str:
        from cnncalc.report.erf import render

        return render(self.record, format, self.graph, heatmap, log)

    def save_png(self, path: str | Path, log: bool = False) -> None:
        """A figure: heatmap, RF box, 1σ/2σ ellipses, centre row (matplotlib)."""
        from cnncalc.report.erf import check_png, save_png

        check_png(str(path))
        save_png(self.record, str(path), log)

    def __repr__(self) -> str:
        e = self.record
        return (f"<ErfResult {e.spec} {e.layer}: sigma {e.sigma[0]:.2f}×{e.sigma[1]:.2f} px, "
                f"{e.samples} samples, init {e.init}>")


class Timed(Result):
    """`latency`'s answer: per batch size the median and spread of a forward pass. `median_ms`
    (the first batch size's), `batches`, `error` (why the loop stopped early, or None),
    `record` (the typed `LatencyResult`)."""

    FORMATS = ("table", "md", "json", "csv")

    def __init__(self, record: LatencyResult):
        self.record = record

    @property
    def median_ms(self) -> float:
        return self.record.batches[0].stats.median * 1e3

    @property
    def batches(self) -> list[Any]:
        return self.record.batches

    @property
    def error(self) -> str | None:
        return self.record.error

    def render(self, format: str = "table") -> str:
        from cnncalc.report.latency import render

        return render(self.record, format)

    def __repr__(self) -> str:
        r = self.record
        sizes = ", ".join(f"batch {b.batch}: {b.stats.median * 1e3:.3g} ms" for b in r.batches)
        return f"<Timed {r.spec} on {r.setup.device}: {sizes}>"


# Loading -------------------------------------------------------------------------------------

def _is_module(obj: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.nn.Module)


def _input(input_size: InputSize, batch: int) -> tuple[str | None, int]:
    """(C, H, W), (N, C, H, W) as torchinfo takes it, (H, W), (N, C, T, H, W), or text
    ('CxHxW', 'CxL', 'CxTxHxW') -> the CLI's text and the batch. A 4-tuple is batch-prefixed
    (torchinfo's convention): give a C×T×H×W input as text or with its batch."""
    if input_size is None or isinstance(input_size, str):
        return input_size, batch
    dims = list(input_size)
    if not all(isinstance(d, int) and not isinstance(d, bool) for d in dims) or \
            len(dims) not in (2, 3, 4, 5):
        raise CnncalcError(f"input_size is (C, H, W), (N, C, H, W) or (N, C, T, H, W) of "
                           f"integers, got {input_size!r}")
    if len(dims) in (4, 5):
        if batch not in (1, dims[0]):
            raise CnncalcError(f"input_size {tuple(dims)} says batch {dims[0]}, batch= says "
                               f"{batch}")
        batch, dims = dims[0], dims[1:]
    if batch < 1:
        raise CnncalcError(f"batch is a positive integer, got {batch}")
    return "x".join(map(str, dims)), batch


def _args(args: Args) -> list[str] | None:
    if args is None or isinstance(args, (list, tuple)):
        return list(args) if args else None
    if isinstance(args, Mapping):
        return [f"{k}={v!r}" for k, v in args.items()]
    raise CnncalcError("args is a mapping of keyword arguments (or 'name=value' strings)")


def load(source: Any, input_size: InputSize = None, batch: int = 1,
         args: Args = None) -> Model:
    """The source as a `Model`: the engine's graph, and for a torch module the module beside
    its trace."""
    if isinstance(source, Report) and input_size is None and args is None:
        return source.model
    if isinstance(source, Model):
        return source
    if isinstance(source, Report):
        source = source.module if source.module is not None else source.graph.source
    text, batch = _input(input_size, batch)
    if _is_module(source):
        if args:
            raise CnncalcError("args are for a model class or factory, not a module instance")
        if text is None:
            raise CnncalcError(f"{type(source).__name__} is a torch module: give input_size "
                               "(C, H, W), e.g. input_size=(3, 224, 224)")
        from cnncalc.frontends.load import parse_input
        from cnncalc.frontends.model import from_module
        from cnncalc.measure.module import evaluating

        with evaluating(source):  # the trace runs in eval mode; the user's modes come back
            return from_module(source, parse_input(text, None), batch)
    if isinstance(source, (str, Path)):
        from cnncalc.frontends.model import open_source

        return open_source(source, text, batch, _args(args))
    raise CnncalcError(f"cannot analyze a {type(source).__name__}: give a spec path, a zoo "
                       "name, a Python spec, 'model.py:Net' or an nn.Module")


def analyze(source: Any, input_size: InputSize = None, batch: int = 1,
            args: Args = None) -> Report:
    """Per layer output shape, params, MACs and receptive field, with totals (no torch for a
    spec).

    >>> cnncalc.analyze("resnet50").totals.params
    25557032
    """
    return Report(load(source, input_size, batch, args))


# Measuring -----------------------------------------------------------------------------------

def _device(model: Model, device: str | None) -> Any:
    """The torch.device to measure on: `device`, else the module's own (CPU for a spec)."""
    from cnncalc.measure.device import pick_device
    from cnncalc.measure.module import placement

    if device is not None:
        return pick_device(device)
    return placement(model.module)[0] if model.is_module else pick_device("cpu")


def _net(model: Model, device: Any, dtype: Any = None, weights: str | Path | None = None,
         copy: bool = False) -> Any:
    """What to measure: the user's module (a copy when it must move, change or take weights),
    a spec's net with `weights` loaded, or None (the measurement builds the spec's net)."""
    if model.is_module:
        from cnncalc.measure.module import module_net

        net = module_net(model, device, dtype, copy_always=copy or weights is not None)
        if weights is not None:
            from cnncalc.measure.weights import load_weights

            load_weights(net.module, weights, what=model.graph.name)
        return net
    if weights is None:
        return None
    from cnncalc.measure.build import build_module
    from cnncalc.measure.weights import load_weights

    net = build_module(model.graph)
    load_weights(net, weights, export_names(model.graph, net), model.graph.name)
    return net


def export_names(g: Graph, net: Any) -> dict[str, str]:
    """The state_dict names `export --to torch` writes -> the built net's: the export flattens
    `layer1.0.conv1` into the attribute `layer1_0_conv1` and writes a layer scale as the
    attribute itself (an nn.Parameter), where the built net has `<layer>.gamma`."""
    from cnncalc.report.export_torch import idents

    names = idents(g)
    out: dict[str, str] = {}
    for x in g.layers:
        for key in net.layer(x.name).state_dict():
            exported = names[x.name] if x.kind == "scale" and key == "gamma" else \
                f"{names[x.name]}.{key}"
            out[exported] = f"{x.name}.{key}"
    return out


def verify(source: Any, input_size: InputSize = None, *, device: str | None = None,
           rf: str = "stages", fvcore: bool = True, args: Args = None,
           progress: Callable[[int, int], None] | None = None) -> Verified:
    """Analytic beside measured, per layer: output shape, params, MACs (FlopCounterMode / 2,
    fvcore beside) and receptive field by gradient support. For a torch module the measured
    side is the module's own forward, parameters and FlopCounterMode; receptive fields are
    measured on the rows no unmapped op feeds."""
    if rf not in ("stages", "all", "none"):
        raise CnncalcError(f"unknown rf {rf!r}; choose stages, all or none")
    model = load(source, input_size, args=args)
    from cnncalc.core.checks import compare
    from cnncalc.measure.counts import measure_counts
    from cnncalc.measure.device import out_of_memory, reserve
    from cnncalc.measure.module import measurable, measure_module_counts
    from cnncalc.measure.support import measure_fields, select

    g = model.graph
    dev = _device(model, device)
    reserve(g, 1, dev, f"verifying {g.name}", backward=True)  # before any tensor exists
    with out_of_memory(f"measuring {g.name} on {dev}"):
        m = measure_module_counts(model, dev, fvcore) if model.is_module else \
            measure_counts(g, dev, fvcore)
        fields = measure_fields(g, measurable(g, select(g, rf)), dev, progress)
        v = compare(g, m, fields, None if model.is_module else _saved(g, dev))
    return Verified(v, str(dev))


def _saved(g: Any, device: Any) -> dict[str, int] | None:
    """Bytes autograd keeps per layer in one training forward of the spec's net (batch 1,
    float32), the storage charged to the first layer that keeps it. On CPU only: the analytic
    model states torch's CPU rules (on CUDA dropout keeps a 1-byte mask); None elsewhere, or
    when the net cannot train at batch 1 (batchnorm on one value per channel)."""
    if str(device) != "cpu":
        return None
    from cnncalc.core.optional import require_torch
    from cnncalc.measure.build import build_module
    from cnncalc.measure.memory import measure_saved

    torch = require_torch()
    torch.manual_seed(0)
    try:
        return measure_saved(build_module(g), torch.randn(1, *g.input_shape))[1]
    except (RuntimeError, ValueError):  # e.g. "Expected more than 1 value per channel"
        return None


def erf(source: Any, input_size: InputSize = None, *, layer: str | None = None,
        samples: int = 32, init: str | None = None, linear: bool = False, seed: int = 0,
        device: str | None = None, chunk: int | None = None, aggregate: str = "abs",
        inputs: str = "randn", images: str | None = None,
        mean: str | Sequence[float] | None = None, std: str | Sequence[float] | None = None,
        weights: str | Path | None = None, args: Args = None,
        progress: Callable[[int, int], None] | None = None) -> ErfResult:
    """The effective receptive field of a layer's centre unit: the gradient over random inputs,
    its σ and contribution areas, beside the theoretical field and the closed form. A torch
    module (or a spec with `weights`) is measured with its own weights unless `init` is given
    (default, uniform or constant: set on a copy). `images` (a folder or a glob) replaces the
    random inputs with real images, resized, centre-cropped and normalised by `mean` and `std`
    (ImageNet's by default, "none" for none): the protocol of RepLKNet's ERF script."""
    model = load(source, input_size, args=args)
    from cnncalc.measure.erf import measure_erf

    batch = None
    if images is not None:
        from cnncalc.measure.images import image_paths, load_images, parse_values

        c = model.graph.input_shape[0]
        batch = load_images(image_paths(images), model.graph.input_shape,
                            parse_values(mean, c, "mean"), parse_values(std, c, "std"))
    elif mean is not None or std is not None:
        raise CnncalcError("--mean and --std normalise --images")
    dev = _device(model, device)
    e = measure_erf(model.graph, layer, samples, init, linear, seed, dev, chunk, aggregate,
                    inputs, progress, net=_net(model, dev, weights=weights), images=batch)
    return ErfResult(e, model.graph)


def latency(source: Any, input_size: InputSize = None, *, batches: Sequence[int] | str = (1,),
            device: str | None = None, dtype: str | None = None, channels_last: bool = False,
            threads: int | None = None, compile: bool = False, min_time: float = 1.0,
            per_layer: bool = False, peak_gflops: float | None = None,
            weights: str | Path | None = None, args: Args = None,
            progress: Callable[..., None] | None = None) -> Timed:
    """Measured latency per batch size: median and p10–p90, images/s, achieved GMAC/s. A torch
    module is timed itself, in eval mode under inference_mode, on its own device in its own
    dtype unless told (then on a copy)."""
    from cnncalc.core.timed import Setup
    from cnncalc.measure.latency import check_dtype, measure_latency, parse_batches
    from cnncalc.measure.module import evaluating, placement

    if dtype is not None:
        check_dtype(dtype)
    sizes = parse_batches(batches if isinstance(batches, str) else
                          ",".join(map(str, batches)))
    model = load(source, input_size, args=args)
    dev = _device(model, device)
    if dtype is None:
        dtype = str(placement(model.module)[1]).removeprefix("torch.") if model.is_module \
            else "float32"
    check_dtype(dtype)
    setup = Setup(str(dev), dtype, channels_last, threads, compile, min_time, per_layer,
                  peak_gflops)
    net = _net(model, dev, _dtype(dtype), weights, copy=channels_last)
    if net is not None and model.is_module:
        with evaluating(net.module):
            result = measure_latency(model.graph, sizes, setup, progress, net)
    else:
        result = measure_latency(model.graph, sizes, setup, progress, net)
    if not result.batches:
        raise CnncalcError(result.error or "nothing was timed")
    return Timed(result)


def _dtype(name: str) -> Any:
    from cnncalc.core.optional import require_torch

    return getattr(require_torch(), name)


# Jupyter -------------------------------------------------------------------------------------

def markdown_html(text: str) -> str:
    """The Markdown the renderers write (bold lines, pipe tables, bullets, italics) as HTML."""
    out: list[str] = []
    rows: list[str] = []

    def inline(s: str) -> str:
        s = html.escape(s)
        s = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", s)
        s = re.sub(r"`(.+?)`", r"<code>\1</code>", s)
        return re.sub(r"(?<!\w)_(.+?)_(?!\w)", r"<i>\1</i>", s)

    def flush() -> None:
        if rows:
            cells = [[c.strip().replace("\\|", "|") for c in
                      re.split(r"(?<!\\)\|", r.strip()[1:-1])] for r in rows]
            body = [r for r in cells[1:] if not all(set(c) <= set(":-") for c in r)]
            head = "".join(f"<th>{inline(c)}</th>" for c in cells[0])
            trs = "".join("<tr>" + "".join(f"<td>{inline(c)}</td>" for c in r) + "</tr>"
                          for r in body)
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{trs}</tbody></table>")
            rows.clear()

    for line in text.splitlines():
        if line.startswith("|"):
            rows.append(line)
            continue
        flush()
        if line.strip():
            out.append(f"<p>{inline(line.lstrip('- '))}</p>")
    flush()
    return "\n".join(out)
