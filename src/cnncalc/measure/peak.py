"""The device's ceilings for the roofline: peak arithmetic (GFLOP/s) and memory bandwidth (GB/s).

On CPU the peak is measured once per process with a large matmul (n = 1024, 2·n³ FLOPs a call;
smaller when the dtype is slow; the best block counts: a ceiling, not a typical figure). On GPU it
comes from a small table of vendor datasheet numbers (dense, no sparsity), measured the CPU's way
for a GPU not in the table, or from `--peak-gflops`. Bandwidth is measured on both with a large
copy (one read and one write of every byte). torch is imported lazily.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from cnncalc.core.optional import require_torch
from cnncalc.core.timed import Peak
from cnncalc.measure.timing import Progress, time_calls

# Dense peak TFLOP/s from vendor datasheets: (float32 without tensor cores, float16/bfloat16 on
# tensor cores). Matched as whole words of torch.cuda.get_device_name() ("NVIDIA L40" is not an
# "L4"), first match wins, so a variant comes before its family.
GPU_PEAKS: tuple[tuple[str, float, float], ...] = (
    ("H200", 67.0, 989.0),
    ("H100 PCIe", 51.0, 756.0),
    ("H100 NVL", 60.0, 835.0),
    ("H100", 67.0, 989.0),
    ("A100", 19.5, 312.0),
    ("A10G", 31.2, 70.0),
    ("A10", 31.2, 125.0),
    ("L40S", 91.6, 362.0),
    ("L4", 30.3, 121.0),
    ("V100", 15.7, 125.0),
    ("T4", 8.1, 65.0),
    ("RTX 4090", 82.6, 165.2),
    ("RTX 3090", 35.6, 71.0),
)

MATMUL_SIZES = (1024, 512, 256)  # shrunk while one call takes over MATMUL_CALL_S (a slow dtype)
MATMUL_CALL_S = 0.1
PEAK_MIN_TIME = 0.25  # seconds of timed matmul blocks
COPY_MIB = {"cpu": 64, "cuda": 256}



def table_peak(device_name: str, dtype_name: str) -> tuple[float, str] | None:
    """GFLOP/s of a known GPU for a dtype, with where the number comes from."""
    words = f" {re.sub(r'[-_/]', ' ', device_name.lower())} "
    for key, fp32, half in GPU_PEAKS:
        if f" {key.lower()} " in words:
            tflops = fp32 if dtype_name == "float32" else half
            return tflops * 1000, f"datasheet: {key} {dtype_name} dense {tflops:g} TFLOP/s"
    return None


def tf32_note(device: Any) -> str:
    """float32 on Ampere and later: cuDNN runs convolutions on TF32 tensor cores unless told not
    to, so a float32 net can pass the table's float32 (no tensor core) peak."""
    torch = require_torch()
    if torch.backends.cudnn.allow_tf32 and torch.cuda.get_device_capability(device)[0] >= 8:
        return ("; cuDNN runs float32 convs in TF32 here (torch.backends.cudnn.allow_tf32), "
                "so % of peak can pass 100%")
    return ""


def _best(times: list[float]) -> float:
    return min(times)


@functools.lru_cache(maxsize=8)
def _matmul_peak(device: Any, dtype: Any, threads: int) -> tuple[float, str]:
    torch = require_torch()
    with torch.inference_mode():
        for n in MATMUL_SIZES:
            a = torch.randn(n, n, device=device).to(dtype)
            b = torch.randn(n, n, device=device).to(dtype)
            times, _ = time_calls(functools.partial(torch.mm, a, b), device, 0.0, min_blocks=2)
            if _best(times) <= MATMUL_CALL_S:
                break
        times, calls = time_calls(lambda: torch.mm(a, b), device, PEAK_MIN_TIME)
    gflops = 2 * n**3 / _best(times) / 1e9
    name = str(dtype).removeprefix("torch.")
    return gflops, f"measured: {n}×{n} {name} matmul, best of {len(times)} blocks ({calls} calls)"


def matmul_peak(device: Any, dtype: Any) -> Peak:
    """The device's peak GFLOP/s for this dtype and thread count, measured once per process."""
    torch = require_torch()
    gflops, source = _matmul_peak(device, dtype, torch.get_num_threads())
    return Peak(gflops, source)


@functools.lru_cache(maxsize=8)
def _copy_bandwidth(device: Any, threads: int) -> tuple[float, str]:
    torch = require_torch()
    mib = COPY_MIB.get(device.type, 64)
    src = torch.ones(mib * 2**20 // 4, device=device)
    dst = torch.empty_like(src)
    with torch.inference_mode():
        times, _ = time_calls(lambda: dst.copy_(src), device, PEAK_MIN_TIME)
    gbs = 2 * src.numel() * 4 / _best(times) / 1e9
    return gbs, f"measured: copy of {mib} MiB (read + write), best of {len(times)} blocks"


def with_bandwidth(peak: Peak, device: Any) -> Peak:
    torch = require_torch()
    gbs, source = _copy_bandwidth(device, torch.get_num_threads())
    return Peak(peak.gflops, peak.source, gbs, source)


def find_peak(device: Any, dtype: Any, peak_gflops: float | None, bandwidth: bool,
              progress: Progress | None = None) -> Peak:
    """The ceiling to compare with: `--peak-gflops`, the GPU table, or a measured matmul."""
    torch = require_torch()
    note: Callable[[str], None] = (lambda s: progress(s, 0.0)) if progress else (lambda s: None)
    known = None
    if peak_gflops is None and device.type == "cuda":
        name = str(dtype).removeprefix("torch.")
        known = table_peak(torch.cuda.get_device_name(device), name)
    if peak_gflops is not None:
        peak = Peak(peak_gflops, "--peak-gflops")
    elif known is not None:
        gflops, source = known
        peak = Peak(gflops, source + (tf32_note(device) if dtype == torch.float32 else ""))
    else:
        note("peak: matmul")
        peak = matmul_peak(device, dtype)
    if bandwidth:
        note("peak: bandwidth")
        peak = with_bandwidth(peak, device)
    return peak
