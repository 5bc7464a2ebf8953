"""cnncalc: shapes, parameters, MACs and receptive fields of CNNs, analytic and measured."""

__version__ = "0.1.0"
