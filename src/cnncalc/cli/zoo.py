"""`cnncalc zoo`: the shipped specs as the architecture-lineage table, computed."""

from __future__ import annotations

from cnncalc.cli.app import AttentionMacsOpt, FormatOpt, app, check_format, emit, handle_errors


@app.command()
@handle_errors
def zoo(format: FormatOpt = "table", attention_macs: AttentionMacsOpt = "all") -> None:
    """The zoo, oldest first: year, input, params, MACs, final receptive field and key idea of
    every shipped spec, each built by the engine (no torch). Use a name with any command,
    e.g. `cnncalc shapes resnet50`. Params and MACs are exact in json and csv. RF is the
    theoretical receptive field of the last spatial layer (before the head's global pooling),
    the largest over paths, squeeze-and-excitation gates left out.

    Example: cnncalc zoo --format md
    """
    from cnncalc.frontends.load import analyze, zoo_names
    from cnncalc.report.zoo import FORMATS, lineage, render, zoo_row

    check_format(format, FORMATS)
    rows = [zoo_row(analyze(name).count_attention(attention_macs)) for name in zoo_names()]
    emit(render(lineage(rows), format, attention_macs=attention_macs))
