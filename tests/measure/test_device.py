"""The backend's device choice and out-of-memory errors are one line each."""

from __future__ import annotations

import pytest

from cnncalc.core.errors import BackendError

torch = pytest.importorskip("torch")

from cnncalc.measure.device import out_of_memory, pick_device  # noqa: E402


def test_cpu_is_always_there():
    assert pick_device("cpu").type == "cpu"


@pytest.mark.parametrize("name", ["tpu", "cuda:x", "gpu"])
def test_unknown_device_names_the_choices(name):
    with pytest.raises(BackendError, match="choose cpu, cuda or cuda:N"):
        pick_device(name)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_missing_is_one_line():
    with pytest.raises(BackendError, match="CUDA is not available"):
        pick_device("cuda")


def test_out_of_memory_says_what_was_being_done():
    with pytest.raises(BackendError, match="^out of memory at batch 64$"):
        with out_of_memory("at batch 64"):
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_cpu_allocator_failure_is_out_of_memory_too():
    with pytest.raises(BackendError, match="^out of memory at batch 8$"):
        with out_of_memory("at batch 8"):
            raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: "
                               "can't allocate memory: you tried to allocate 2000000000000 bytes.")


def test_other_runtime_errors_pass_through():
    with pytest.raises(RuntimeError, match="shape mismatch"):
        with out_of_memory("at batch 64"):
            raise RuntimeError("shape mismatch")
