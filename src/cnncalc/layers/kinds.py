"""Importing this module registers every layer kind."""

from cnncalc.layers import conv, elementwise, pool  # noqa: F401
