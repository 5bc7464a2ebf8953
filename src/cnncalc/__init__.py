"""cnncalc: shapes, parameters, MACs and receptive fields of CNNs, analytic and measured.

    >>> import cnncalc
    >>> r = cnncalc.analyze("resnet50")          # a zoo name, a spec file or an nn.Module
    >>> r.totals.params, r.totals.macs
    (25557032, 4089184256)

`analyze` needs no torch for a spec; `verify`, `erf` and `latency` measure with torch, on the
user's own module when the source is one. Errors are `CnncalcError` (see docs/api.md).
"""

from cnncalc.api import (
    ErfResult,
    Record,
    Report,
    Result,
    Timed,
    Verified,
    analyze,
    erf,
    latency,
    verify,
)
from cnncalc.core.errors import BackendError, CnncalcError, ShapeError, SpecError

__version__ = "0.1.0"
__all__ = ["analyze", "verify", "erf", "latency", "Report", "Verified", "ErfResult", "Timed",
           "Record", "Result", "CnncalcError", "SpecError", "ShapeError", "BackendError",
           "__version__"]
