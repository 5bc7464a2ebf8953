"""Backends that build the spec's network in a framework and measure it (torch only, lazily)."""
