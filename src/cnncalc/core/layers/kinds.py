"""Importing this module registers every layer kind."""

from cnncalc.core.layers import conv, elementwise, pool, tokens, windows  # noqa: F401
