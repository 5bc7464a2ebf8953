"""Interview-prep calculators: `conv`, `pool`, `dsconv`, `fc-vs-conv` and `apply`.

Each builds a small graph through the spec front end and the engine (so every number comes from
the registry's formulas) and prints the answer with its working: table (plain text), md, json,
csv (report/answer.py says which rows) or latex; apply's matrices have no CSV.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from cnncalc.cli.app import AttentionMacsOpt, app, check_format, emit, handle_errors, number
from cnncalc.core.errors import CnncalcError

FormatOpt = Annotated[str, typer.Option(
    "--format", "-f", help="Output format: table (plain text), md, json, csv or latex.")]
MatrixFormatOpt = Annotated[str, typer.Option(
    "--format", "-f", help="Output format: table (plain text), md, json or latex (matrices "
                           "have no CSV).")]
ExplainOpt = Annotated[bool, typer.Option(
    "--explain", help="Start from the symbolic formula and show every intermediate step.")]
KernelOpt = Annotated[str, typer.Option("--kernel", "-k", help="Kernel size: K or KhxKw.")]
StrideOpt = Annotated[str, typer.Option("--stride", "-s", help="Stride: S or ShxSw.")]
AxesOpt = Annotated[int | None, number(
    "--axes", min=1, max=3, help="Spatial axes: 1 (a signal, L), 2 (an image) or 3 (a video or "
                                 "volume, TxHxW); default 3 when a value has three numbers "
                                 "(-k 3x7x7), else 2.")]
BiasOpt = Annotated[bool, typer.Option(
    "--bias/--no-bias", help="Count the bias (the default, as in the spec language); --no-bias "
                             "counts weights only, as the textbooks.")]


def _out(answer: Any, format: str) -> None:
    from cnncalc.report.answer import render
    emit(render(answer, format))


def _notation(format: str, matrices: bool = False) -> Any:
    from cnncalc.report.answer import FORMATS, MATRIX_FORMATS
    from cnncalc.report.explain import LATEX, TEXT

    if matrices and format == "csv":
        raise CnncalcError("apply prints matrices, not a table, so it has no CSV; choose one of "
                           + ", ".join(MATRIX_FORMATS) + " (json holds the output matrix)")
    check_format(format, MATRIX_FORMATS if matrices else FORMATS)
    return LATEX if format == "latex" else TEXT


@app.command()
@handle_errors
def conv(size: Annotated[str, typer.Argument(help="Input size: H (square), HxW or CxHxW.")],
         kernel: KernelOpt = "3", stride: StrideOpt = "1",
         padding: Annotated[str, typer.Option(
             "--padding", "-p", help="Padding: P, PhxPw, same or valid.")] = "0",
         dilation: Annotated[str, typer.Option("--dilation", "-d", help="Dilation: D or DhxDw.")]
         = "1",
         cin: Annotated[int | None, number(
             "--cin", min=1, max=1_000_000,
                 help="Input channels (default: the C of CxHxW).")] = None,
         cout: Annotated[int | None, number(
             "--cout", min=1, max=1_000_000,
                 help="Output channels (default: as many as in).")] = None,
         groups: Annotated[int, number("--groups", "-g", min=1, max=1_000_000,
             help="Groups.")] = 1,
         bias: BiasOpt = True,
         explain: ExplainOpt = False, format: FormatOpt = "table",
         to: Annotated[int | None, number(
             "--to", min=1, max=100_000,
             help="Instead: the (k, s, p, d) choices that map the size to this "
                  "one, most common first, with the working.")] = None,
         axes: AxesOpt = None) -> None:
    """Output size of a convolution per axis, H_out = ⌊(H + 2·P − D·(K−1) − 1)/S⌋ + 1 filled in;
    with channels (CxHxW, --cin or --cout) also its params, MACs and FLOPs.

    Example: cnncalc conv 224 -k 3 -s 2; cnncalc conv 224 --to 112;
    cnncalc conv 16x112x112 -k 3x7x7 -s 1x2x2; cnncalc conv 16000 -k 80 -s 4 --axes 1
    """
    from cnncalc.frontends.stack import calc_shape, one_layer, pair_value
    from cnncalc.report.interview import conv_answer

    nt = _notation(format)
    args = {"kernel_size": pair_value(kernel, "kernel size"),
            "stride": pair_value(stride, "stride"), "dilation": pair_value(dilation, "dilation"),
            "padding": pair_value(padding, "padding", ("same", "valid", "causal")),
            "groups": groups, "bias": bias}
    (c, *sizes), has_c = calc_shape(size, list(args.values()), axes)
    if to is not None:
        if len(sizes) != 2:
            raise CnncalcError("--to works on one axis of an image: give a square size such as "
                               "224, without --axes")
        return _conv_to(sizes[0], sizes[1], to, explain, format)
    if cin is not None and has_c and cin != c:
        raise CnncalcError(f"--cin {cin} disagrees with the {c} channels of {size!r}")
    c_in = cin or c
    g = one_layer("conv", (c_in, *sizes), {"out": cout or c_in, **args}, "conv")
    channels = has_c or cin is not None or cout is not None
    _out(conv_answer(g, channels, explain, nt), format)


def _conv_to(h: int, w: int, to: int, explain: bool, format: str) -> None:
    from cnncalc.core.design import conv_choices
    from cnncalc.frontends.stack import one_layer
    from cnncalc.report.interview import conv_to_answer

    if h != w:
        raise CnncalcError("--to works on one axis: give a square size such as 224")
    choices = conv_choices(h, to)
    if not choices:
        raise CnncalcError(f"no conv maps {h} to {to} (k ≤ 11, s ≤ 4, d ≤ 3)",
                           hint="a transposed conv or an upsampling enlarges a map"
                           if to > h else None)
    worked = [one_layer("conv", (1, h, w), {"out": 1, "kernel_size": c.k, "stride": c.s,
                                              "padding": c.p, "dilation": c.d}, "conv")
              for c in choices[:3]]
    _out(conv_to_answer(h, to, choices, worked, explain, _notation(format)), format)


@app.command()
@handle_errors
def pool(size: Annotated[str, typer.Argument(help="Input size: H, HxW or CxHxW.")],
         kernel: Annotated[str | None, typer.Option(
             "--kernel", "-k", help="Window size: K or KhxKw.")] = None,
         stride: Annotated[str | None, typer.Option(
             "--stride", "-s", help="Stride (default: the window size).")] = None,
         padding: Annotated[str, typer.Option(
             "--padding", "-p", help="Padding, at most half the window.")] = "0",
         ceil: Annotated[bool, typer.Option("--ceil", help="Round the size up (ceil_mode).")]
         = False,
         op: Annotated[str, typer.Option("--op", help="max or avg.")] = "max",
         gap: Annotated[bool, typer.Option(
             "--gap", help="Global average pooling on CxHxW against the flatten + FC layer "
                           "it replaces.")] = False,
         fc: Annotated[int, number(
             "--fc", min=1, max=1_000_000,
                 help="With --gap: outputs of the FC layer (classes).")] = 1000,
         bias: BiasOpt = True,
         explain: ExplainOpt = False, format: FormatOpt = "table", axes: AxesOpt = None) -> None:
    """Output size of a max or average pooling; with --gap, global average pooling's zero
    parameters against the FC layer on the flattened map that it replaced.

    Example: cnncalc pool 4 -k 2 -s 2
    """
    from cnncalc.frontends.stack import build_items, calc_shape, one_layer, pair_value
    from cnncalc.report.interview import gap_answer, pool_answer

    nt = _notation(format)
    given = [pair_value(v, "window size") for v in (kernel, stride, padding) if v]
    shape, has_c = calc_shape(size, given, axes)
    if gap:
        if not has_c:
            raise CnncalcError("--gap needs the map as CxHxW, e.g. 512x7x7")
        head = ("linear", {"out": fc, "bias": bias}, None, "fc")
        g_gap = build_items(shape, [("gap", {}, None, "gap"), ("flatten", {}, None, "flatten"),
                                    head], "gap")
        g_flat = build_items(shape, [("flatten", {}, None, "flatten"), head], "flatten")
        _out(gap_answer(g_gap, g_flat, explain, nt), format)
        return
    if kernel is None:
        raise CnncalcError("give the window size with -k (or --gap for global average pooling)")
    if op not in ("max", "avg"):
        raise CnncalcError(f"unknown --op {op!r}; choose max or avg")
    args = {"kernel_size": pair_value(kernel, "window size"),
            "stride": pair_value(stride, "stride") if stride else None,
            "padding": pair_value(padding, "padding", ("causal",)), "ceil_mode": ceil}
    g = one_layer(f"{op}pool", shape, args, f"{op}pool")
    _out(pool_answer(g, op, has_c, explain, nt), format)


@app.command()
@handle_errors
def dsconv(cin: Annotated[int, number("--cin", min=1, max=1_000_000, help="Input channels.")],
           cout: Annotated[int, number("--cout", min=1, max=1_000_000,
               help="Output channels.")],
           kernel: KernelOpt = "3",
           size: Annotated[str | None, typer.Option(
               "--size", help="Input H or HxW; without it, MACs are per output pixel.")] = None,
           stride: StrideOpt = "1",
           padding: Annotated[str | None, typer.Option(
               "--padding", "-p", help="Padding (default: (K−1)/2, rounded down).")] = None,
           bias: BiasOpt = True,
           explain: ExplainOpt = False, format: FormatOpt = "table") -> None:
    """A standard conv against its depthwise-separable version (depthwise K×K, then pointwise
    1×1): params, MACs, the reduction and its closed form 1/C_out + 1/K².

    Example: cnncalc dsconv --cin 256 --cout 256 -k 3
    """
    from cnncalc.frontends.load import parse_input
    from cnncalc.frontends.stack import one_layer, pair_value
    from cnncalc.report.interview import dsconv_answer

    nt = _notation(format)
    k = pair_value(kernel, "kernel size")
    if isinstance(k, list) and len(k) != 2:
        raise CnncalcError(f"-k {kernel}: this calculator compares 2-D convs; give K or KhxKw")
    kh, kw = (k, k) if isinstance(k, int) else k
    shape: tuple[int, ...]
    if size is None:  # one output pixel: a K×K input, no padding
        shape, args = (cin, kh, kw), {"kernel_size": k}
    else:
        pad = pair_value(padding, "padding") if padding else [(kh - 1) // 2, (kw - 1) // 2]
        shape = parse_input(size, cin)
        args = {"kernel_size": k, "stride": pair_value(stride, "stride"), "padding": pad}
    std = one_layer("conv", shape, {**args, "out": cout, "bias": bias}, "standard")
    sep = one_layer("sepconv", shape, {**args, "out": cout, "bias": bias}, "separable")
    _out(dsconv_answer(std, sep, size is None, explain, nt), format)


@app.command("fc-vs-conv")
@handle_errors
def fc_vs_conv(size: Annotated[str, typer.Argument(
                   help="Image size CxHxW (HxW means 3 channels).")] = "3x224x224",
               hidden: Annotated[int, number(
                   "--hidden", min=1, max=1_000_000,
                       help="Units of the fully connected layer.")] = 1024,
               filters: Annotated[int, number(
                   "--filters", min=1, max=1_000_000, help="Filters of the conv.")] = 64,
               kernel: KernelOpt = "3", bias: BiasOpt = True,
               explain: ExplainOpt = False, format: FormatOpt = "table") -> None:
    """Why not an MLP: a fully connected layer on the flattened image against one conv layer
    (weights, MACs, and how often the conv reuses each weight).

    Example: cnncalc fc-vs-conv 3x224x224 --hidden 1024
    """
    from cnncalc.frontends.load import parse_input
    from cnncalc.frontends.stack import build_items, one_layer, pair_value
    from cnncalc.report.interview import fc_vs_conv_answer

    nt = _notation(format)
    shape = parse_input(size, 3, rank=2)
    if len(shape) != 3:
        raise CnncalcError(f"fc-vs-conv compares on an image: give CxHxW or HxW, not {size!r}")
    k = pair_value(kernel, "kernel size")
    if isinstance(k, list) and len(k) != 2:
        raise CnncalcError(f"-k {kernel}: this calculator compares 2-D convs; give K or KhxKw")
    kh, kw = (k, k) if isinstance(k, int) else k
    fc = build_items(shape, [("flatten", {}, None, "flatten"),
                             ("linear", {"out": hidden, "bias": bias}, None, "fc")], "fc")
    conv_args = {"out": filters, "kernel_size": k, "padding": [(kh - 1) // 2, (kw - 1) // 2],
                 "bias": bias}
    _out(fc_vs_conv_answer(fc, one_layer("conv", shape, conv_args, "conv"), explain, nt), format)


@app.command()
@handle_errors
def attention(tokens: Annotated[int, number(
                  "--tokens", "-n", min=1, max=1_000_000, help="Tokens N (ViT-B/16: 197).")],
              dim: Annotated[int, number(
                  "--dim", "-c", min=1, max=1_000_000, help="Features per token C.")],
              heads: Annotated[int, number(
                  "--heads", min=1, max=100_000, help="Attention heads (divide C).")] = 1,
              bias: BiasOpt = True,
              explain: ExplainOpt = False, format: FormatOpt = "table",
              attention_macs: AttentionMacsOpt = "all") -> None:
    """Multi-head self-attention's params and MACs: the Q, K, V and output projections
    (4·N·C²) plus Q·Kᵀ and A·V (2·N²·C, quadratic in the tokens).

    Example: cnncalc attention --tokens 197 --dim 768 --heads 12
    """
    from cnncalc.frontends.stack import build_items
    from cnncalc.report.interview import attention_answer

    nt = _notation(format)
    g = build_items((dim, tokens, 1), [
        ("to_tokens", {}, None, "tokens"),
        ("attention", {"heads": heads, "bias": bias}, None, "attention")], "attention")
    g.count_attention(attention_macs)
    _out(attention_answer(g, explain, nt), format)


@app.command()
@handle_errors
def apply(matrix: Annotated[str, typer.Option(
              "--matrix", "-m", "--input", "-i",
              help="A matrix like [[1,2],[3,4]], a .csv or .npy file, or an image (read as "
                   "grayscale).")],
          kernel: Annotated[str | None, typer.Option(
              "--kernel", "-k", help="conv: a matrix or a name (sobel_x, sobel_y, laplacian, "
                                     "blur, vertical, horizontal, identity, ...); max/avg: the "
                                     "window size K or KhxKw (default 2).")] = None,
          op: Annotated[str, typer.Option("--op", help="conv, max or avg.")] = "conv",
          stride: Annotated[str | None, typer.Option(
              "--stride", "-s", help="Stride (default: 1 for conv, the window for pools).")]
          = None,
          padding: Annotated[str, typer.Option(
              "--padding", "-p", help="Zero padding: P, PhxPw, same or valid.")] = "0",
          at: Annotated[str | None, typer.Option(
              "--at", help="Work out output cell i,j by hand (0-based).")] = None,
          flip: Annotated[bool, typer.Option(
              "--flip", help="Flip the kernel (true convolution; frameworks do not).")] = False,
          out: Annotated[Path | None, typer.Option(
              "--out", "-o", help="Write the output as a grayscale PNG.")] = None,
          explain: ExplainOpt = False, format: MatrixFormatOpt = "table") -> None:
    """Run a convolution or a pooling on a small matrix, a file or an image, and print the
    output matrix; --at i,j shows the worked dot product (or max / mean) of one cell.

    Example: cnncalc apply -m "[[1,2,3,4],[5,6,7,8],[9,10,11,12],[13,14,15,16]]" --op max -k 2
    """
    from cnncalc.cli.output import check_target, write_file
    from cnncalc.frontends.apply import apply as run
    from cnncalc.frontends.arrays import png_bytes
    from cnncalc.report.interview import apply_answer

    nt = _notation(format, matrices=True)
    target = check_target(out, ".png", "-o", "PNG image", [matrix]) if out is not None else None
    applied = run(matrix, kernel, op, stride, padding, at, flip)
    ans = apply_answer(applied, explain, nt)
    if target is not None:
        data, how, (w, h) = png_bytes(applied.output)
        write_file(target, data)
        ans.notes.append(f"wrote {target} (PNG, {w}×{h}, {len(data):,} bytes): {how}")
    _out(ans, format)
