"""Reading specs: YAML with positions, validation, blocks and repeats, lowering to the engine."""
