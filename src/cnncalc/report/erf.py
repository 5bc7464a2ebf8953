"""Rendering a measured effective receptive field: the numbers (table, md, json, csv), a terminal
heatmap with the theoretical field outlined (24-bit colour on a terminal, a character ramp with
NO_COLOR or in a pipe), and a matplotlib figure (matplotlib imported where used)."""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cnncalc.core.engine import Graph
from cnncalc.core.errors import CnncalcError
from cnncalc.core.measured import Area, Erf, ErfSeries
from cnncalc.report import table, terminal
from cnncalc.report.markdown import md_table
from cnncalc.report.rows import layer_json
from cnncalc.report.table import Col

FORMATS = ("table", "md", "json", "csv")
CHARS = " .:-=+*%@"  # the ramp without colour, dark to bright
SIGMA_LINE = ("σ: moments of the normalised map per axis; ERF size = 2σ (±1σ) and 4σ (±2σ); "
              "closed form σ² = Σ J²·d²·(k²−1)/12 (linear, uniform kernels; residuals mix paths)")
# A dark-to-bright ramp (viridis' ends and middle), interpolated for the heatmap.
RAMP = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))


def pair(v: tuple[float, ...], style: str = ".2f") -> str:
    """One number when every axis prints the same, else h × w (t × h × w)."""
    shown = [f"{x:{style}}" for x in v]
    return shown[0] if len(set(shown)) == 1 else " × ".join(shown)


def area_cell(a: Area, rank: int = 2) -> str:
    """The square's side, as a square: '7×7 px (1.20% of the input)'; '7 px' on one axis,
    '7×7×7 px' on three."""
    return f"{'×'.join([str(a.side)] * rank)} px ({a.ratio:.2%} of the input)" \
        if a.side and a.ratio is not None else "not reached inside the input"


def rf_cell(e: Erf) -> str:
    """The theoretical field and its centre; `?` after an unmapped op, as `rf` shows it."""
    if e.rf_size is None or e.rf_centre is None:
        ops = e.rf_unknown_after
        return (f"? (PARTIAL: {e.layer} comes after the unmapped op{'s' * (len(ops) > 1)} "
                f"{', '.join(ops)})")
    return pair(e.rf_size, "g") + f", centre at pixel {pair(e.rf_centre, 'g')}"


def numbers(e: Erf) -> list[tuple[str, str]]:
    """(quantity, value) rows; h × w where the axes differ."""
    rows = [
        ("Theoretical RF", rf_cell(e)),
        ("Measured centre", pair(e.mean)),
        ("σ measured", pair(e.sigma)),
        ("σ closed form", pair(e.theory_sigma) if e.theory_sigma else
         f"n/a ({e.theory_note})"),
    ]
    if e.theory_sigma:
        rel = tuple(round(m / t - 1, 6) + 0.0 for m, t in zip(e.sigma, e.theory_sigma))
        rows.append(("σ measured / closed form − 1", pair(rel, "+.2%")))
    rows += [
        ("ERF at ±1σ (2σ)", pair(e.erf_1sigma, ".1f") + " px"),
        ("ERF at ±2σ (4σ)", pair(e.erf_2sigma, ".1f") + " px"),
        ("ERF(±2σ) / theoretical RF", pair(e.ratio) if e.ratio else "?"),
    ]
    rank = len(e.input_shape) - 1
    box = {1: "Window", 2: "Square", 3: "Cube"}[rank]
    for a, b in zip(e.areas, e.log_areas):
        if area_cell(a, rank) == area_cell(b, rank):  # the same square on both scales: one row
            rows.append((f"{box} holding {a.t:.0%} (raw and log10(1+x))", area_cell(a, rank)))
        else:
            rows += [(f"{box} holding {a.t:.0%} (raw)", area_cell(a, rank)),
                     (f"{box} holding {b.t:.0%} (log10(1+x))", area_cell(b, rank))]
    return rows


def heading(e: Erf) -> str:
    act = "linear" if e.linear else "with activations"
    shape = "×".join(map(str, e.input_shape))
    view = {2: " (the map: one row)", 4: " (the map: the centre frame)"}.get(len(e.input_shape),
                                                                           "")
    return (f"{e.spec}: ERF of {e.layer}'s centre unit, input {shape}{view}, {e.samples} samples "
            f"({e.inputs}), init {e.init}, {act}, {e.aggregate} gradient, {e.device}, "
            f"{e.seconds:.2f} s{status(e)}")


def status(e: Erf) -> str:
    """The PARTIAL status, in the heading (footer lines get lost on paste)."""
    if not e.partial:
        return ""
    unknown = f"; {e.layer}'s theoretical RF unknown: ?" if e.rf_size is None else ""
    return f" (PARTIAL: {len(e.partial)} op(s) not mapped{unknown})"


FLAT = ("±2σ spans 95% of a Gaussian but more than the support of a flatter profile (uniform "
        "over w pixels: 4σ = 4·w/√12 ≈ 1.15·w)")


def notes(e: Erf) -> list[str]:
    out = []
    if e.rf_clipped:
        out.append("the theoretical field reaches past the input: the map is cut at the border "
                   "(use a larger --input)")
    if e.ratio and max(e.ratio) > 1:
        out.append(f"ERF(±2σ) / theoretical RF above 1: {FLAT}; it means a profile flatter "
                   "than a Gaussian, not a field wider than the theoretical one")
    if e.rf_size is None:
        out.append("the squares are centred on the measured centre: the theoretical one is "
                   "unknown")
    out += [f"PARTIAL: {p}" for p in e.partial]
    if all(a.side is None for a in e.log_areas) and any(a.side for a in e.areas):
        out.append("log10(1 + x) of this map is 0 in float64: the gradients are below 1e-16 "
                   "(RepLKNet's log scale depends on the gradient's scale)")
    if e.theory_note and e.theory_sigma:
        out.append(e.theory_note)
    return out


def render(result: Erf | ErfSeries, format: str, g: Graph | None = None,
           with_heatmap: bool = True, log: bool = False, width: int | None | bool = True) -> str:
    """One measured map's numbers, or a series of stacks: a table (one map's with its heatmap,
    at the terminal's width: `width=True`), Markdown, JSON or CSV (one map's names its layer in
    `g`)."""
    if isinstance(result, ErfSeries):
        return render_series(result, format, width)
    if format in ("json", "csv"):
        assert g is not None
        data = to_json(g, result)
        if format == "json":
            return table.dumps(data)
        for line in data.get("partial", ()):
            sys.stderr.write(f"PARTIAL: {line}\n")
        return table.csv_text([csv_record(data)])
    if format == "md":
        return markdown(result)
    w = terminal.width() if width is True else (width or None)
    return text(result, with_heatmap, log, w, terminal.colour() if width is True else False)


PER_AXIS = ("rf_centre", "sigma_closed_form", "erf_2sigma_over_rf")  # lists or null


def csv_record(data: dict[str, Any]) -> dict[str, Any]:
    """The JSON record as one CSV row: the layer's fields first, areas keyed by their share; an
    unknown field keeps its columns, empty (its PARTIAL lines go to stderr: no place here)."""
    layer = dict(data["layer"])
    if layer.get("rf", True) is None:
        rank = len(data["input"]) - 1
        layer["rf"] = {"size": [None] * rank, "jump": [None] * rank, "start": [None] * rank,
                       "global": None, "global_axes": [None] * rank}
    out = {**layer, "spec": data["spec"]}
    out.update({k: v for k, v in data.items() if k not in
                ("layer", "spec", "areas", "log_areas", "closed_form_note", "partial")})
    for k in PER_AXIS:  # null: the same columns, empty
        if out[k] is None:
            out[k] = [None] * (len(data["input"]) - 1)
    for key in ("areas", "log_areas"):
        for a in data[key]:
            out[f"{key}_{round(100 * a['t'])}"] = {"side": a["side"], "ratio": a["ratio"]}
    return out


def to_json(g: Graph, e: Erf) -> dict[str, Any]:
    def areas(xs: list[Area]) -> list[dict[str, Any]]:
        return [{"t": a.t, "side": a.side, "ratio": a.ratio} for a in xs]

    x = g.nodes[e.layer]
    data = {
        "spec": e.spec, "input": list(e.input_shape),
        "layer": {k: v for k, v in layer_json(x, rf_known=e.rf_size is not None).items()
                  if k in ("name", "kind", "in_shape", "out_shape", "rf")},
        "samples": e.samples, "init": e.init, "linear": e.linear, "aggregate": e.aggregate,
        "inputs": e.inputs, "device": e.device, "seconds": e.seconds,
        "rf_centre": listed(e.rf_centre), "rf_clipped": e.rf_clipped,
        "mean": list(e.mean), "sigma": list(e.sigma),
        "sigma_closed_form": listed(e.theory_sigma),
        "closed_form_note": e.theory_note or None,
        "erf_1sigma": list(e.erf_1sigma), "erf_2sigma": list(e.erf_2sigma),
        "erf_2sigma_over_rf": listed(e.ratio),
        "areas": areas(e.areas), "log_areas": areas(e.log_areas),
    }
    if e.partial:  # as `shapes` and `rf` write it
        data["partial"] = list(e.partial)
    return data


def listed(v: Sequence[float] | None) -> list[float] | None:
    return None if v is None else list(v)


def markdown(e: Erf) -> str:
    lines = [f"**{heading(e)}**", "", *md_table(["Quantity", "Value"], numbers(e))]
    lines += ["", SIGMA_LINE] + [f"\nNote: {n}" for n in notes(e)]
    return "\n".join(lines)


def text(e: Erf, with_heatmap: bool, log: bool, width: int | None, colour: bool) -> str:
    t = table.Table(heading(e), [Col("Quantity", wrap="words"), Col("Value", wrap="words")],
                    [list(r) for r in numbers(e)])
    lines = table.text_table(t, width)
    lines += table.wrap(SIGMA_LINE, width)
    for n in notes(e):
        lines += table.wrap(f"note: {n}", width)
    if with_heatmap and len(e.input_shape) == 2:
        lines += curve(e, log, max(16, min(96, (width or 100) - 2)))
    elif with_heatmap:
        cells = max(8, min(48, (width or 100) // 2 - 1))
        lines += heatmap(e, log, cells, colour)
    return "\n".join(x.rstrip() for x in lines) + "\n"


# Pictures ------------------------------------------------------------------------------------

def scaled(values: list[list[float]], log: bool) -> list[list[float]]:
    """The map as shares of its maximum in [0, 1]; with log, log10(1 + x) first (RepLKNet)."""
    rows = [[math.log10(1 + v) for v in r] for r in values] if log else values
    top = max(max(r) for r in rows) or 1.0
    return [[max(v, 0.0) / top for v in r] for r in rows]


def binned(values: list[list[float]], cells: int) -> tuple[list[list[float]], int]:
    """Average b×b blocks so the longer side fits `cells`; returns the grid and b."""
    h, w = len(values), len(values[0])
    b = max(1, math.ceil(max(h, w) / cells))
    out = []
    for i in range(0, h, b):
        block = values[i:i + b]
        out.append([sum(sum(r[j:j + b]) for r in block) / (len(block) * len(block[0][j:j + b]))
                    for j in range(0, w, b)])
    return out, b


def colour_of(v: float) -> tuple[int, int, int]:
    x = min(max(v, 0.0), 1.0) * (len(RAMP) - 1)
    i = min(int(x), len(RAMP) - 2)
    f = x - i
    a, b = RAMP[i], RAMP[i + 1]
    return (round(a[0] + (b[0] - a[0]) * f), round(a[1] + (b[1] - a[1]) * f),
            round(a[2] + (b[2] - a[2]) * f))


def rf_cells(e: Erf, b: int) -> tuple[int, int, int, int]:
    """Top, bottom, left and right cells of the theoretical field's box (none when unknown:
    an empty range)."""
    if e.rf_size is None or e.rf_centre is None:
        return -1, -2, -1, -2
    (sh, sw), (ch, cw) = plane(e.rf_size, 1.0), plane(e.rf_centre, 0.0)
    return (math.floor((ch - (sh - 1) / 2) / b), math.floor((ch + (sh - 1) / 2) / b),
            math.floor((cw - (sw - 1) / 2) / b), math.floor((cw + (sw - 1) / 2) / b))


BARS = " ▁▂▃▄▅▆▇█"


def curve(e: Erf, log: bool, cells: int) -> list[str]:
    """A 1-D map as a curve: one bar per cell (eight heights), the theoretical field marked
    under it (░)."""
    row, b = binned(scaled(e.map, log), cells)
    values = row[0]
    bars = "".join(BARS[min(int(v * (len(BARS) - 1) + 0.5), len(BARS) - 1)] for v in values)
    lo, hi = 0, -1
    if e.rf_size is not None and e.rf_centre is not None:
        size, mid = e.rf_size[0], e.rf_centre[0]
        lo, hi = math.floor((mid - (size - 1) / 2) / b), math.floor((mid + (size - 1) / 2) / b)
    marks = "".join("░" if lo <= i <= hi else " " for i in range(len(values)))
    scale = "log10(1 + x)" if log else "linear scale"
    return [bars, marks, f"0 … max ({scale}; {b} sample{'s' * (b > 1)} a cell; {box_key(e)})"]


def box_key(e: Erf) -> str:
    return "░ = theoretical RF" if e.rf_size is not None else "theoretical RF unknown: no ░"


def plane(v: tuple[float, ...], one: float) -> tuple[float, float]:
    """The values of the two axes the picture shows: H and W; a 1-D map is one row (`one` on
    the row axis), a 3-D map's centre frame shows H and W."""
    return (one, v[0]) if len(v) == 1 else (v[-2], v[-1])


def heatmap(e: Erf, log: bool = False, cells: int = 48, colour: bool = False) -> list[str]:
    """The map, two characters a cell, the theoretical field's box drawn on it (░): 24-bit
    background colours with `colour`, else a character ramp (dark ' ' to bright '@')."""
    def paint(v: float, mark: str) -> str:
        if colour:
            r, g, b = colour_of(v)
            return f"\x1b[48;2;{r};{g};{b}m\x1b[37m{mark}\x1b[0m"
        return mark if mark.strip() else CHARS[min(int(v * len(CHARS)), len(CHARS) - 1)] * 2

    grid, b = binned(scaled(e.map, log), cells)
    top, bottom, left, right = rf_cells(e, b)
    lines = []
    for i, row in enumerate(grid):
        lines.append("".join(
            paint(v, "░░" if ((i in (top, bottom) and left <= j <= right)
                             or (j in (left, right) and top <= i <= bottom)) else "  ")
            for j, v in enumerate(row)))
    scale = "log10(1+x)" if log else "linear"
    bar = "".join(paint(k / 15, "  ") for k in range(16))
    lines.append(f"0 {bar} max   ({scale} scale; {b}×{b} pixels a cell; {box_key(e)})")
    return lines


def save_png(e: Erf, path: str, log: bool = False) -> None:
    """Heatmap with the theoretical RF box and the fitted 1σ/2σ ellipses, and the centre row
    against the Gaussian of the measured (and closed-form) σ."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Ellipse, Rectangle

    fig, (ax, prof) = plt.subplots(1, 2, figsize=(11, 5))
    img = scaled(e.map, log)
    shown = ax.imshow(img, cmap="viridis", interpolation="nearest")
    fig.colorbar(shown, ax=ax, label="log10(1+x), of max" if log else "share of max")
    if e.rf_size is not None and e.rf_centre is not None:
        (sh, sw), (ch, cw) = plane(e.rf_size, 1.0), plane(e.rf_centre, 0.0)
        ax.add_patch(Rectangle((cw - sw / 2, ch - sh / 2), sw, sh, fill=False, ec="white",
                               lw=1.5, label=f"theoretical RF {sh:g}×{sw:g}"))
    for k, style in ((1, "-"), (2, "--")):
        ax.add_patch(Ellipse((e.mean[1], e.mean[0]), 2 * k * e.sigma[1], 2 * k * e.sigma[0],
                             fill=False, ec="red", ls=style, label=f"±{k}σ"))
    ax.set_title(f"{e.spec} · {e.layer}")
    ax.legend(loc="lower right", fontsize=8)
    row = e.map[min(max(round(e.mean[0]), 0), len(e.map) - 1)]
    peak = max(row) or 1.0
    xs = list(range(len(row)))
    prof.plot(xs, [v / peak for v in row], "k.-", label="measured centre row")
    gaussians = [("measured σ", e.sigma[1], "r")]
    if e.theory_sigma:
        gaussians.append(("closed-form σ", e.theory_sigma[1], "b"))
    for label, s, c in gaussians:
        prof.plot(xs, [math.exp(-((x - e.mean[1]) ** 2) / (2 * s * s)) for x in xs], c + "-",
                  label=f"Gaussian, {label} = {s:.2f}")
    if log:
        prof.set_yscale("log")
    prof.set_xlabel("column (input pixels)")
    prof.set_title("centre row, normalised to its peak")
    prof.legend(fontsize=8)
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=100, format="png")
    except OSError as e:
        raise CnncalcError(f"cannot write {path}: {e.strerror or e}") from None
    finally:
        plt.close(fig)


def check_png(path: str) -> None:
    """Refuse a --png target that cannot be written before minutes of measuring, not after."""
    p = Path(path)
    if p.suffix.lower() != ".png":
        raise CnncalcError(f"--png {path}: the file name must end in .png")
    if not (p.parent if str(p.parent) else Path(".")).is_dir():
        raise CnncalcError(f"--png {path}: there is no folder {p.parent}")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise CnncalcError("--png needs matplotlib: pip install 'cnncalc[plot]'") from None


# A series of stacks (Luo's figure 1) -----------------------------------------------------------

SERIES_HEAD = ("Depth", "Input", "RF", "σ", "σ closed form", "ERF ±2σ", "ERF/RF")


def depth_of(e: Erf) -> int:
    """The depth of a stack's map, from its name ('3x3 s2*5', '3x3*5 relu')."""
    return int(e.spec.rsplit("*", 1)[-1].split()[0])


def known(v: tuple[float, ...] | None, style: str) -> str:
    return "?" if v is None else pair(v, style)


def series_rows(series: list[Erf]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for e in series:
        t = e.theory_sigma
        out.append((str(depth_of(e)), "×".join(map(str, e.input_shape[1:])),
                    known(e.rf_size, "g"), pair(e.sigma, ".3f"),
                    pair(t, ".3f") if t else "n/a", pair(e.erf_2sigma, ".1f"),
                    known(e.ratio, ".3f")))
    return out


def rf_growth(s: ErfSeries) -> str:
    """How the theoretical RF grows with depth: the stack's own law, whatever the depths. Each
    repetition of the item multiplies the jump by S (`jump_factor`, its strides) and adds D·j
    pixels: r = 1 + D·n with S = 1 (linear), r = 1 + D·(Sⁿ − 1)/(S − 1) with S > 1
    (exponential: each layer adds S× what the one before it added). D is read off the
    shallowest depth and the law checked at every depth; an item it does not describe gets
    the bare numbers."""
    pts = sorted({(depth_of(e), max(e.rf_size)) for e in s.series if e.rf_size})
    if not pts:
        return ""
    f = s.jump_factor
    (n0, r0), (n1, r1) = pts[0], pts[-1]
    if f == 1:
        step = (r0 - 1) / n0
        law = [1 + step * n for n, _ in pts]
    else:
        step = (r0 - 1) * (f - 1) / (f ** n0 - 1)
        law = [1 + step * (f ** n - 1) / (f - 1) for n, _ in pts]
    if any(abs(a - r) > 1e-9 * r for a, (_, r) in zip(law, pts)):
        return f"the theoretical RF grows from {r0:g} to {r1:g} pixels" if n1 > n0 else ""
    if f == 1:
        return (f"the theoretical RF grows linearly, {step:g} pixels a layer (stride 1: the "
                "jump stays 1)")
    return (f"the theoretical RF grows exponentially: each layer adds {f:g}× what the one "
            f"before it added (the strides multiply the jump by {f:g} a layer)")


def sigma_growth(s: ErfSeries) -> str:
    """How σ grows over the measured depths: a power of the depth (stride 1, Luo's √n law) or a
    factor a layer (strided: like the field, exponentially); two depths test no law."""
    depths = sorted({depth_of(e) for e in s.series})
    if s.factor is not None:
        closed = f"; closed form ×{s.factor_closed_form:.3f}" if s.factor_closed_form else ""
        text = (f"σ grows exponentially with depth, as the field: fitted ×{s.factor:.3f} a "
                f"layer measured{closed} (→ ×{s.jump_factor:g}, the strides, as depth grows)")
    elif s.exponent is not None:
        closed = (f"; closed form {s.exponent_closed_form:.3f}"
                  if s.exponent_closed_form is not None else "")
        text = f"σ ∝ depth^a: fitted a = {s.exponent:.3f} measured{closed} (√n law: 0.5)"
    else:
        return ""
    if len(depths) == 2:
        text += ("; from two depths, which any law passes through (give three or more to test "
                 "it)")
    return text


def above_one(series: list[Erf]) -> str:
    """Why ERF(±2σ)/RF exceeds 1 at some depths: the profile is flatter than a Gaussian; the
    border only where the field reaches past the input."""
    above = [e for e in series if e.ratio and max(e.ratio) > 1]
    if not above:
        return ""
    cut = [str(depth_of(e)) for e in above if e.rf_clipped]
    text = (f" ERF/RF is above 1 at depth {', '.join(str(depth_of(e)) for e in above)}: {FLAT}, "
            "so it means a profile flatter than a Gaussian, not a field wider than the "
            "theoretical one.")
    if cut:
        text += (f" At depth {', '.join(cut)} the field also reaches past the input: the map is "
                 "cut at the border there (use a larger --input).")
    return text


def exponent_line(s: ErfSeries) -> str:
    """How σ and the theoretical RF grow; with one depth, the effective field against the
    theoretical one."""
    first = sigma_growth(s)
    if s.exponent is None and s.factor is None:
        e = s.series[-1]
        first = (f"theoretical RF {known(e.rf_size, 'g')}, effective (±2σ) "
                 f"{pair(e.erf_2sigma, '.1f')} px: {known(e.ratio, '.2f')} of it (give two or "
                 "more depths for the fitted growth of σ)")
    sentences = [(x[:1].upper() if x[:1].isascii() else x[:1]) + x[1:] + "."
                 for x in (first, rf_growth(s)) if x]
    return " ".join(sentences) + above_one(s.series)


def whole(x: float) -> float:
    return int(x) if x == int(x) else x


SERIES_COLS = [Col(h, right=i > 0) for i, h in enumerate(SERIES_HEAD)]


def render_series(s: ErfSeries, format: str, width: int | None | bool = True) -> str:
    """A table, Markdown, JSON or CSV."""
    series = s.series
    rows = series_rows(series)
    # the names and whole-pixel sizes of the single map's (and `rf`'s) `rf_size`
    records = [{"depth": depth_of(e), "input": list(e.input_shape),
                "rf_size": listed(e.rf_size and [whole(x) for x in e.rf_size]),
                "sigma": list(e.sigma),
                "sigma_closed_form": listed(e.theory_sigma),
                "erf_2sigma": list(e.erf_2sigma), "erf_2sigma_over_rf": listed(e.ratio)}
               for e in series]
    if format == "json":
        return table.dumps({"stack": records, "jump_factor": whole(s.jump_factor),
                            "exponent": s.exponent,
                            "exponent_closed_form": s.exponent_closed_form,
                            "factor": s.factor, "factor_closed_form": s.factor_closed_form})
    if format == "csv":
        rank = len(series[0].sigma)
        return table.csv_text({**r, "sigma_closed_form": r["sigma_closed_form"] or [None] * rank}
                              for r in records)
    if format == "md":
        lines = md_table(SERIES_HEAD, rows)
        return "\n".join(lines + ["", exponent_line(s)]) + "\n"
    w = terminal.width() if width is True else (width or None)
    e = series[0]
    act = "linear" if e.linear else "with ReLUs" if e.spec.endswith("relu") else "no activations"
    t = table.Table(f"ERF of stacks: {e.samples} samples, init {e.init}, {act}", SERIES_COLS,
                    [list(r) for r in rows])
    lines = table.text_table(t, w) + table.wrap(exponent_line(s), w)
    return "\n".join(lines) + "\n"
