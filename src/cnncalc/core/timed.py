"""What `cnncalc latency` measured, as plain records (standard library only): `measure.latency`
fills them, `report.latency` renders them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Stats:
    """Seconds per call over the timed blocks."""

    median: float
    p10: float
    p25: float
    p75: float
    p90: float
    mean: float
    min: float
    blocks: int
    calls: int

    @property
    def iqr(self) -> float:
        return self.p75 - self.p25


@dataclass(frozen=True)
class Peak:
    gflops: float | None  # FLOP/s ÷ 1e9; None when unknown (a GPU not in the table)
    source: str
    bandwidth_gbs: float | None = None  # bytes/s ÷ 1e9, measured; None unless asked for
    bandwidth_source: str = ""

    @property
    def ridge(self) -> float | None:
        """FLOPs per byte where the roofline turns: below it a layer is memory-bound."""
        if self.gflops is None or not self.bandwidth_gbs:
            return None
        return self.gflops / self.bandwidth_gbs


@dataclass(frozen=True)
class Setup:
    """What the user asked for."""

    device: str = "cpu"
    dtype: str = "float32"
    channels_last: bool = False
    threads: int | None = None
    compile: bool = False
    min_time: float = 1.0  # seconds of timed blocks per batch size (and per per-layer pass)
    per_layer: bool = False
    peak_gflops: float | None = None


@dataclass(frozen=True)
class LayerTime:
    name: str
    kind: str
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    params: int
    macs: int  # at this batch
    seconds: float  # median per forward pass
    bytes: int
    bound: str | None  # "compute" or "memory" on the roofline; None without a peak

    @property
    def flops(self) -> int:
        return 2 * self.macs

    @property
    def intensity(self) -> float:
        return self.flops / self.bytes if self.bytes else 0.0

    @property
    def gmacs_per_s(self) -> float:
        return self.macs / self.seconds / 1e9 if self.seconds > 0 else 0.0


@dataclass
class BatchResult:
    batch: int
    macs: int  # whole batch
    stats: Stats
    layers: list[LayerTime] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        """Images per second."""
        return self.batch / self.stats.median

    @property
    def gmacs_per_s(self) -> float:
        return self.macs / self.stats.median / 1e9

    def fraction_of_peak(self, peak: Peak) -> float | None:
        return 2 * self.gmacs_per_s / peak.gflops if peak.gflops else None


@dataclass
class LatencyResult:
    spec: str
    input_shape: tuple[int, ...]
    setup: Setup
    environment: dict[str, Any]
    peak: Peak
    batches: list[BatchResult] = field(default_factory=list)
    error: str | None = None  # why the batch loop stopped early
