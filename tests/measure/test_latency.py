"""`cnncalc latency`: structure and invariants of the measured figures, never timing values.

Tiny nets (lenet5 at 1×32×32) and tiny budgets (--min-time 0.02 s; at least 7 blocks anyway).
"""

from __future__ import annotations

import os

import pytest

from tests.conftest import cli

torch = pytest.importorskip("torch")

from cnncalc.core.errors import BackendError  # noqa: E402
from cnncalc.frontends.load import analyze  # noqa: E402
from cnncalc.measure import latency as lat  # noqa: E402
from cnncalc.measure.peak import Peak, table_peak  # noqa: E402
from cnncalc.measure.timing import MIN_BLOCKS, quantile, stats, time_calls  # noqa: E402

FAST = ("--min-time", "0.02", "--peak-gflops", "100")
# lenet5's MACs, conv: C_out·C_in·k²·H_out·W_out, linear: in·out
LENET_MACS = (6*1*25*28*28 + 16*6*25*10*10 + 120*16*25*1*1  # c1 117,600, c3 240,000, c5 48,000
              + 120*84 + 84*10)  # f6 10,080, output 840: = 416,520
# c1 at batch 2, float32: (2·(input 1·32·32 + output 6·28·28) + params 6·25 + 6) · 4 bytes
C1_BYTES_B2 = (2 * (1*32*32 + 6*28*28) + 6*25 + 6) * 4  # = 46,448


def latency_json(*args: str) -> dict:
    r = cli("latency", "lenet5", *FAST, "-f", "json", *args)
    assert r.code == 0, r.err
    return r.json()


def test_batches_carry_every_figure_and_agree_with_each_other():
    j = latency_json("-b", "2,1")
    assert [b["batch"] for b in j["batches"]] == [1, 2]  # sorted
    assert j["peak"] == {"gflops": 100.0, "source": "--peak-gflops", "bandwidth_gbs": None,
                         "bandwidth_source": None, "ridge_flops_per_byte": None}
    assert j["error"] is None and j["spec"] == "lenet5" and j["input"] == [1, 32, 32]
    for b in j["batches"]:
        t = b["latency_ms"]
        assert b["macs"] == LENET_MACS * b["batch"] and b["flops"] == 2 * b["macs"]
        assert 0 < t["min"] <= t["p10"] <= t["p25"] <= t["median"] <= t["p75"] <= t["p90"]
        assert t["iqr"] == pytest.approx(t["p75"] - t["p25"])
        assert b["blocks"] >= MIN_BLOCKS and b["calls"] >= b["blocks"]
        median_s = t["median"] / 1e3
        assert b["throughput"] == pytest.approx(b["batch"] / median_s)
        assert b["gmacs_per_s"] == pytest.approx(b["macs"] / median_s / 1e9)
        assert b["fraction_of_peak"] == pytest.approx(2 * b["gmacs_per_s"] / 100)
        assert b["layers"] == [] and b["layers_total_ms"] is None


def test_environment_is_recorded():
    e = latency_json()["environment"]
    assert e["torch"] == torch.__version__ and e["device"] == "cpu"
    assert e["dtype"] == "float32" and e["threads"] >= 1 and e["device_name"]
    assert e["channels_last"] is False and e["compile"] is False and e["min_time_s"] == 0.02


def test_per_layer_times_bytes_intensity_and_roofline():
    j = latency_json("-b", "2", "--per-layer")
    peak = j["peak"]
    assert peak["bandwidth_gbs"] > 0 and peak["bandwidth_source"].startswith("measured: copy")
    assert peak["ridge_flops_per_byte"] == pytest.approx(100 / peak["bandwidth_gbs"])
    (b,) = j["batches"]
    layers = {x["name"]: x for x in b["layers"]}
    assert len(layers) == 12  # 3 conv, 4 tanh, 2 avgpool, flatten, 2 linear
    c1 = layers["c1"]
    assert c1["macs"] == 2 * 6*1*25*28*28  # = 235,200 at batch 2
    assert c1["bytes"] == C1_BYTES_B2
    assert c1["intensity"] == pytest.approx(2 * c1["macs"] / C1_BYTES_B2)  # ≈ 10.1 FLOP/B
    for x in layers.values():
        assert x["time_ms"] > 0
        ridge = peak["ridge_flops_per_byte"]
        assert x["bound"] == ("compute" if x["intensity"] >= ridge else "memory")
        assert x["gmacs_per_s"] == pytest.approx(x["macs"] / (x["time_ms"] / 1e3) / 1e9)
    assert layers["s2"]["intensity"] == 0 and layers["s2"]["bound"] == "memory"
    assert sum(x["time_fraction"] for x in layers.values()) == pytest.approx(1.0)
    assert b["layers_total_ms"] == pytest.approx(sum(x["time_ms"] for x in layers.values()))
    ranked = sorted((x for x in layers.values() if x["slow_rank"]), key=lambda x: x["slow_rank"])
    assert [x["slow_rank"] for x in ranked] == [1, 2, 3, 4, 5]
    assert ranked[0]["time_ms"] == max(x["time_ms"] for x in layers.values())
    assert [x["time_ms"] for x in ranked] == sorted((x["time_ms"] for x in ranked), reverse=True)


def test_measured_cpu_peak_when_none_is_given():
    r = cli("latency", "lenet5", "--min-time", "0.02", "-f", "json")
    assert r.code == 0, r.err
    j = r.json()
    assert j["peak"]["source"].startswith("measured: ") and "matmul" in j["peak"]["source"]
    (b,) = j["batches"]
    assert b["fraction_of_peak"] == pytest.approx(2 * b["gmacs_per_s"] / j["peak"]["gflops"])


def test_bfloat16_counts_two_bytes_a_value():
    j = latency_json("-b", "2", "--per-layer", "--dtype", "bfloat16")
    assert j["environment"]["dtype"] == "bfloat16"
    c1 = next(x for x in j["batches"][0]["layers"] if x["name"] == "c1")
    assert c1["bytes"] == C1_BYTES_B2 // 2  # = 23,224


def test_channels_last_and_threads_are_applied_and_threads_restored():
    before = torch.get_num_threads()
    j = latency_json("--channels-last", "--threads", "1")
    assert j["environment"]["channels_last"] is True and j["environment"]["threads"] == 1
    assert torch.get_num_threads() == before


def test_csv_has_a_row_per_batch_or_per_layer():
    r = cli("latency", "lenet5", *FAST, "-b", "1,2", "-f", "csv")
    lines = r.out.splitlines()
    assert lines[0].startswith("batch,macs,flops,latency_ms_median,latency_ms_p10,")  # = JSON
    assert [x.split(",")[:2] for x in lines[1:]] == [["1", "416520"], ["2", str(2 * 416520)]]
    r = cli("latency", "lenet5", *FAST, "-f", "csv", "--per-layer")
    lines = r.out.splitlines()
    assert lines[0].startswith("batch,name,kind,in_shape,out_shape,params,macs,flops,time_ms")
    assert len(lines) == 1 + 12 and lines[1].startswith("1,c1,conv,1x32x32,6x28x28,")


def test_table_and_markdown_show_the_header_and_the_slowest_layers():
    r = cli("latency", "lenet5", *FAST, "--per-layer")
    assert r.code == 0, r.err
    assert "lenet5: input 1×32×32 on cpu" in r.out and "Median ms" in r.out
    assert "Peak: 100.0 GFLOP/s (--peak-gflops)" in r.out and "#1" in r.out
    md = cli("latency", "lenet5", *FAST, "--per-layer", "-f", "md").out
    assert md.startswith("**lenet5: input 1×32×32 on cpu")
    assert "| Batch | MACs | Median ms | p10–p90 ms | Images/s | GMAC/s | % of peak |" in md
    assert md.count("**#") == 5  # the five slowest rows in bold


@pytest.mark.parametrize(("args", "message"), [
    (("--dtype", "float64"), "unknown dtype 'float64'; choose float32, float16, bfloat16"),
    (("-b", "1,x"), "--batches wants integers from 1 to 65,536 separated by commas, got '1,x'"),
    (("-b", "0"), "--batches wants integers from 1 to 65,536 separated by commas, got '0'"),
    (("-f", "xml"), "unknown format 'xml'; choose one of table, md, json, csv"),
    (("--device", "tpu"), "unknown device 'tpu'; choose cpu, cuda or cuda:N"),
])
def test_bad_requests_are_one_line(args, message):
    r = cli("latency", "lenet5", *FAST, *args)
    assert r.code == 2 and r.err == message + "\n" and r.out == ""


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_missing_is_one_line():
    r = cli("latency", "lenet5", *FAST, "--device", "cuda")
    assert r.code == 2 and r.err.startswith("CUDA is not available") and r.err.count("\n") == 1


def test_out_of_memory_keeps_the_smaller_batches(monkeypatch):
    real = lat.measure_batch

    def measure_batch(graph, net, runner, batch, *rest):
        if batch >= 4:
            raise RuntimeError("CPU out of memory: tried to allocate 9.00 GiB")
        return real(graph, net, runner, batch, *rest)

    monkeypatch.setattr(lat, "measure_batch", measure_batch)
    r = cli("latency", "lenet5", *FAST, "-b", "1,2,4,8", "-f", "json")
    assert r.code == 2 and r.err == "out of memory at batch 4\n"
    j = r.json()
    assert [b["batch"] for b in j["batches"]] == [1, 2] and j["error"] == "out of memory at batch 4"


def test_unsupported_dtype_inside_torch_is_one_line():
    with pytest.raises(BackendError, match=r"^float16 on cpu: \"conv\" not implemented for 'Half'$"):
        with lat.unsupported("float16 on cpu"):
            raise RuntimeError("\"conv\" not implemented for 'Half'\nmore torch detail")
    with pytest.raises(RuntimeError, match="out of memory"):  # left for out_of_memory
        with lat.unsupported("float16 on cpu"):
            raise RuntimeError("CUDA out of memory")


def test_float16_on_cpu_runs_or_says_why_in_one_line():
    r = cli("latency", "lenet5", *FAST, "--dtype", "float16", "-f", "json")
    if r.code == 0:
        assert r.json()["environment"]["dtype"] == "float16"
    else:
        assert r.code == 2 and r.err.startswith("float16 on cpu: ") and r.err.count("\n") == 1


def test_progress_is_reported_per_stage():
    seen: dict[str, float] = {}
    g = analyze("lenet5")
    setup = lat.Setup(min_time=0.01, per_layer=True, peak_gflops=50.0)
    lat.measure_latency(g, [1, 3], setup, lambda label, done: seen.__setitem__(label, done))
    assert {"batch 1", "batch 3", "per layer, batch 1", "per layer, batch 3"} <= set(seen)
    assert all(0 <= v <= 1 for v in seen.values()) and seen["batch 3"] == 1.0


def test_quantiles_interpolate_between_ranks():
    s = stats([float(x) for x in range(10, 0, -1)], calls=20)  # 1..10 in any order
    assert s.median == 5.5 and s.min == 1.0 and s.blocks == 10 and s.calls == 20
    assert s.p10 == pytest.approx(1 + 0.1 * 9 * 1)  # position 0.9 between 1 and 2 = 1.9
    assert s.p90 == pytest.approx(9.1) and s.iqr == pytest.approx(7.75 - 3.25)  # = 4.5
    assert quantile([2.0], 0.9) == 2.0


def test_time_calls_keeps_at_least_min_blocks():
    calls = []
    times, n = time_calls(lambda: calls.append(1), torch.device("cpu"), 0.0, min_blocks=4)
    assert len(times) == 4 and n == 4 and all(t > 0 for t in times)  # 1 call a block at budget 0
    assert len(calls) == n + 2  # plus the two warm-up calls


def test_gpu_peak_table_and_ridge():
    gflops, source = table_peak("NVIDIA H100 80GB HBM3", "float16")
    assert gflops == 989.0 * 1000 and "H100" in source
    assert table_peak("NVIDIA H100 PCIe", "float32")[0] == 51.0 * 1000
    assert table_peak("Some Future GPU", "float32") is None
    assert table_peak("NVIDIA L40", "float32") is None  # not an L4: measured instead
    assert table_peak("NVIDIA L4", "float32")[0] == 30.3 * 1000
    assert table_peak("NVIDIA A100-SXM4-80GB", "bfloat16")[0] == 312.0 * 1000
    assert table_peak("NVIDIA H100 NVL", "float32")[0] == 60.0 * 1000
    assert Peak(100.0, "x", 25.0).ridge == 100.0 / 25.0  # = 4 FLOP/B
    assert Peak(None, "x", 25.0).ridge is None


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_cuda_latency_structure(dtype):
    r = cli("latency", "lenet5", "--device", "cuda", "--dtype", dtype, "-b", "1,4",
            "--min-time", "0.02", "--per-layer", "-f", "json")
    assert r.code == 0, r.err
    j = r.json()
    assert j["environment"]["device"].startswith("cuda") and j["environment"]["dtype"] == dtype
    for b in j["batches"]:
        t = b["latency_ms"]
        assert t["p10"] <= t["median"] <= t["p90"]
        assert b["throughput"] == pytest.approx(b["batch"] / (t["median"] / 1e3))
        assert all(x["time_ms"] > 0 for x in b["layers"])


@pytest.mark.skipif(not os.environ.get("CNNCALC_SLOW_TESTS"),
                    reason="torch.compile takes ~20 s on CPU; set CNNCALC_SLOW_TESTS=1")
def test_compile_runs_and_is_recorded():
    j = latency_json("--compile")
    assert j["environment"]["compile"] is True and j["batches"][0]["latency_ms"]["median"] > 0


def fixed_result(load: float) -> lat.LatencyResult:
    env = {"torch": "2.x", "device": "cpu", "device_name": "Test CPU", "threads": 2,
           "cpu_count": 2, "dtype": "float32", "channels_last": False, "compile": False,
           "load_average_1min": load}
    s = stats([0.04, 0.05, 0.06], calls=30)
    r = lat.LatencyResult("t", (3, 8, 8), lat.Setup(), env, Peak(100.0, "--peak-gflops"))
    r.batches.append(lat.BatchResult(4, 1_000_000_000, s))
    return r


def test_rendered_figures_from_fixed_numbers():
    from cnncalc.report.latency import render

    md = render(fixed_result(0.5), "md")
    # median 50 ms; 4 images ÷ 0.05 s = 80 images/s; 1e9 MACs ÷ 0.05 s = 20 GMAC/s;
    # 2 × 20 GMAC/s ÷ 100 GFLOP/s = 40 % of peak; p10 = 40 + 0.2·10 = 42 ms, p90 = 58 ms
    assert "| 4 | 1,000,000,000 | 50.00 | 42.00–58.00 | 80.0 | 20.0 | 40.0% |" in md
    assert "Warning" not in md
    assert "Warning: load average 3.00 on 2 cores" in render(fixed_result(3.0), "md")


def test_macs_are_whole_and_one_thread_is_singular():
    """The MACs cell is the JSON's number, whole (not 416.52K); the header counts threads."""
    r = cli("latency", "lenet5", *FAST, "--threads", "1", "--per-layer")
    assert r.code == 0, r.err
    assert "1 thread," in r.out.splitlines()[0] and "1 threads" not in r.out
    assert f"{LENET_MACS:,}" in r.out  # = 416,520
    assert "117,600" in r.out  # c1's row

