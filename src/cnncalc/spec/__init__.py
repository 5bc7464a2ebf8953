"""Reading specs: YAML text with positions, validation, blocks and repeats, lowering to the engine."""
