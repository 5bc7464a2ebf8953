"""Memory, measured: what autograd really keeps, what an optimizer step allocates, and (on CUDA)
the allocator's peak — beside the analytic numbers of `core/memory.py`.

Saved tensors (CPU, exact, deterministic): one training forward of the built module under
`torch.autograd.graph.saved_tensors_hooks`; every tensor packed is charged, by its storage, to
the layer running when it was first packed (a forward pre-hook on every layer says which);
storages of parameters and buffers are left out, and a storage is counted once however many
tensors view it. Optimizer state: the bytes of `optimizer.state` after one real step. CUDA:
`torch.cuda.max_memory_allocated` around a full training step and around an inference pass.
torch is imported when this module is imported: callers import it inside a function.
"""

from __future__ import annotations

from typing import Any

from cnncalc.core.engine import Graph
from cnncalc.core.errors import BackendError
from cnncalc.core.memory import MeasuredMemory, MemorySetup, train_refusal
from cnncalc.core.optional import require_torch
from cnncalc.measure.build import build_module

torch = require_torch()

OPTIMIZERS = {
    "sgd": lambda p: torch.optim.SGD(p, lr=0.01),
    "momentum": lambda p: torch.optim.SGD(p, lr=0.01, momentum=0.9),
    "adam": lambda p: torch.optim.Adam(p),
    "adamw": lambda p: torch.optim.AdamW(p),
}


def _storage(t: Any) -> tuple[int, int]:
    s = t.untyped_storage()
    return s.data_ptr(), s.nbytes()


def measure_saved(net: Any, x: Any) -> tuple[int, dict[str, int]]:
    """Bytes autograd keeps after one training forward, in all and per layer."""
    static = {_storage(t)[0] for t in (*net.parameters(), *net.buffers())}
    seen: set[int] = set()
    per_layer: dict[str, int] = {}
    current = ["input"]
    hooks = [net.layer(name).register_forward_pre_hook(
        lambda m, a, name=name: current.__setitem__(0, name)) for name, _ in net.order]

    def pack(t: Any) -> Any:
        ptr, nbytes = _storage(t)
        if ptr not in static and ptr not in seen:
            seen.add(ptr)
            per_layer[current[0]] = per_layer.get(current[0], 0) + nbytes
        return t

    try:
        net.train()
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            out = net(x)
        del out
    finally:
        for h in hooks:
            h.remove()
    return sum(per_layer.values()), per_layer


def measure_optimizer(net: Any, x: Any, optimizer: str) -> tuple[int, int]:
    """Bytes of the optimizer's state after one real step, and of that its scalar step counts."""
    opt = OPTIMIZERS[optimizer](net.parameters())
    net.train()
    net(x).float().sum().backward()
    opt.step()
    total = steps = 0
    for state in opt.state.values():
        for key, t in state.items():
            if torch.is_tensor(t):
                total += t.numel() * t.element_size()
                steps += t.numel() * t.element_size() if key == "step" else 0
    opt.zero_grad(set_to_none=True)
    return total, steps


def measure_cuda(graph: Graph, setup: MemorySetup, device: str) -> tuple[int, int]:
    """max_memory_allocated of one training step (forward, backward, optimizer step, after a
    first step so the optimizer state exists) and of one inference pass."""
    dev = torch.device(device)
    dtype = torch.float32 if setup.amp else getattr(torch, setup.dtype)
    net = build_module(graph).to(dev, dtype)
    x = torch.randn(setup.batch, *graph.input_shape, device=dev, dtype=dtype)
    opt = OPTIMIZERS[setup.optimizer](net.parameters())

    def step(opt: Any) -> None:
        with torch.autocast(dev.type, dtype=getattr(torch, setup.dtype), enabled=setup.amp):
            loss = net(x).float().sum()
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    net.train()
    step(opt)
    torch.cuda.synchronize(dev)
    torch.cuda.reset_peak_memory_stats(dev)
    step(opt)
    torch.cuda.synchronize(dev)
    train = torch.cuda.max_memory_allocated(dev)
    del opt
    net.eval()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats(dev)
    with torch.inference_mode(), torch.autocast(dev.type, dtype=getattr(torch, setup.dtype),
                                                enabled=setup.amp):
        net(x)
    torch.cuda.synchronize(dev)
    return train, torch.cuda.max_memory_allocated(dev)


def measure_memory(graph: Graph, setup: MemorySetup, device: str = "cpu") -> MeasuredMemory:
    """Saved tensors and optimizer state on CPU in float32 (exact); with a CUDA device, also
    the allocator's peaks at the setup's dtype. A net torch cannot train at this batch (batch
    norm on one value per channel) is one error naming the layer, before anything is built."""
    refusal = train_refusal(graph, setup.batch)
    if refusal is not None:
        raise BackendError(refusal)
    torch.manual_seed(0)
    net = build_module(graph)
    x = torch.randn(setup.batch, *graph.input_shape)
    saved, per_layer = measure_saved(net, x)
    optimizer, steps = measure_optimizer(net, x, setup.optimizer)
    result = MeasuredMemory(saved, per_layer, optimizer, steps, device,
                            torch_version=str(torch.__version__))
    if device.startswith("cuda"):
        result.peak_train_bytes, result.peak_infer_bytes = measure_cuda(graph, setup, device)
    return result
