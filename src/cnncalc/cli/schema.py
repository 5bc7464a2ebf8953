"""`cnncalc schema`: the JSON Schema of the spec language, for editors."""

from __future__ import annotations

from cnncalc.cli.app import app, emit, handle_errors


@app.command()
@handle_errors
def schema() -> None:
    """Print the JSON Schema of the spec language (generated from the layer registry).

    Editors that speak yaml-language-server check and complete a spec that starts with
    `# yaml-language-server: $schema=PATH`; the zoo's specs point at docs/schema.json.

    Example: cnncalc schema > spec.schema.json
    """
    from cnncalc.frontends.schema import schema_text

    emit(schema_text())
