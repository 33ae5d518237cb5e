"""Benchmark minitorch_lsm against PyTorch in the same process, alternating runs, medians and ratios.

Workloads (float32):
  W1  log_softmax forward, dim=1, shapes (64,10), (1024,1000), (4096,32000)
  W2  the same, forward + backward with a random upstream gradient
  W3  nll_loss(log_softmax(x), target) forward + backward, (128,10) and (4096,1000); and cross_entropy
  W4  one training step of Linear(784,256)-ReLU-Linear(256,10)-LogSoftmax-NLLLoss with SGD, batch 128
  W5  per-op overhead: 100 chained adds on a (1,) tensor, forward and backward

Usage:  python benchmarks/bench.py [--device cpu|cuda] [--quick] [--markdown] [--memory] [--only TEXT]
                                  [--torch-threads N]
Each case first runs both libraries for a while (``warm_up``). The times are medians; the ratio column is
ours / torch (below 1.0: we are faster), the median of the ratios of adjacent blocks of runs, so that a
burst of load from another process on a shared machine slows both sides of a ratio alike. Machines here
are shared and noisy: compare ratios from one run, not absolute times across runs. ``--memory`` first reports W2's peak memory at (4096, 32000) as a
multiple of the input's size (traced by tracemalloc, which sees NumPy's allocations).
"""
from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any, Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import minitorch_lsm as mt  # noqa: E402
import torch  # noqa: E402


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()
        import cupy
        cupy.cuda.runtime.deviceSynchronize()


def measure(fn: Callable[[], Any], device: str, repeats: int) -> float:
    """Median seconds of ``repeats`` timed calls of ``fn`` (after a warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        _sync(device)
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def warm_up(fn: Callable[[], Any], device: str, seconds: float = 0.05, calls: int = 20) -> None:
    """Run ``fn`` at least ``calls`` times and for at least ``seconds``: CPython 3.11+ specializes a function's
    bytecode only after it has run a few times, NumPy and torch fill their caches, and a training loop runs
    its step thousands of times, so the first calls are not what is being measured."""
    start, done = time.perf_counter(), 0
    while done < calls or time.perf_counter() - start < seconds:
        fn()
        done += 1
    _sync(device)


def compare(ours: Callable[[], Any], theirs: Callable[[], Any], device: str, rounds: int,
            repeats: int) -> tuple[float, float, float]:
    """Warm both up, then alternate blocks of ours and torch's runs; return the medians of each and the
    median ratio of adjacent blocks (ours / torch)."""
    warm_up(ours, device)
    warm_up(theirs, device)
    a, b = [], []
    for _ in range(rounds):
        a.append(measure(ours, device, repeats))
        b.append(measure(theirs, device, repeats))
    return statistics.median(a), statistics.median(b), statistics.median(x / y for x, y in zip(a, b))


def pair(shape: tuple[int, ...], device: str, requires_grad: bool = False, seed: int = 0) -> tuple[Any, Any]:
    data = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    ours = mt.tensor(data, device=device, requires_grad=requires_grad)
    theirs = torch.tensor(data, device=device, requires_grad=requires_grad)
    return ours, theirs


def w1(shape: tuple[int, int], device: str) -> tuple[Callable[[], Any], Callable[[], Any]]:
    x, tx = pair(shape, device)
    return (lambda: mt.nn.functional.log_softmax(x, dim=1)), (lambda: torch.nn.functional.log_softmax(tx, dim=1))


def w2(shape: tuple[int, int], device: str) -> tuple[Callable[[], Any], Callable[[], Any]]:
    x, tx = pair(shape, device, requires_grad=True)
    g, tg = pair(shape, device, seed=1)

    def ours() -> None:
        mt.nn.functional.log_softmax(x, dim=1).backward(g)
        x.grad = None

    def theirs() -> None:
        torch.nn.functional.log_softmax(tx, dim=1).backward(tg)
        tx.grad = None
    return ours, theirs


def w3(shape: tuple[int, int], device: str, kind: str) -> tuple[Callable[[], Any], Callable[[], Any]]:
    x, tx = pair(shape, device, requires_grad=True)
    labels = np.random.default_rng(2).integers(0, shape[1], shape[0])
    t, tt = mt.tensor(labels, device=device), torch.tensor(labels, device=device)

    def ours() -> None:
        if kind == "nll":
            loss = mt.nn.functional.nll_loss(mt.nn.functional.log_softmax(x, dim=1), t)
        else:
            loss = mt.nn.functional.cross_entropy(x, t)
        loss.backward()
        x.grad = None

    def theirs() -> None:
        if kind == "nll":
            loss = torch.nn.functional.nll_loss(torch.nn.functional.log_softmax(tx, dim=1), tt)
        else:
            loss = torch.nn.functional.cross_entropy(tx, tt)
        loss.backward()
        tx.grad = None
    return ours, theirs


def w4(device: str) -> tuple[Callable[[], Any], Callable[[], Any]]:
    def build(lib: Any) -> tuple[Any, Any]:
        model = lib.nn.Sequential(lib.nn.Linear(784, 256), lib.nn.ReLU(), lib.nn.Linear(256, 10),
                                  lib.nn.LogSoftmax(dim=1)).to(device)
        return model, lib.optim.SGD(model.parameters(), lr=0.01)
    ours_model, ours_opt = build(mt)
    torch_model, torch_opt = build(torch)
    x, tx = pair((128, 784), device)
    labels = np.random.default_rng(3).integers(0, 10, 128)
    t, tt = mt.tensor(labels, device=device), torch.tensor(labels, device=device)

    def step(lib: Any, model: Any, opt: Any, inputs: Any, target: Any) -> None:
        opt.zero_grad()
        lib.nn.functional.nll_loss(model(inputs), target).backward()
        opt.step()
    return (lambda: step(mt, ours_model, ours_opt, x, t)), (lambda: step(torch, torch_model, torch_opt, tx, tt))


def w5(device: str) -> tuple[Callable[[], Any], Callable[[], Any]]:
    x, tx = pair((1,), device, requires_grad=True)

    def chain(start: Any) -> None:
        y = start
        for _ in range(100):
            y = y + start
        y.sum().backward()
        start.grad = None
    return (lambda: chain(x)), (lambda: chain(tx))


def cases(quick: bool) -> list[tuple[str, Callable[[str], tuple[Callable[[], Any], Callable[[], Any]]]]]:
    big = [(64, 10), (1024, 1000)] + ([] if quick else [(4096, 32000)])
    out: list[tuple[str, Callable[[str], Any]]] = []
    out += [(f"W1 log_softmax fwd {s}", lambda d, s=s: w1(s, d)) for s in big]
    out += [(f"W2 log_softmax fwd+bwd {s}", lambda d, s=s: w2(s, d)) for s in big]
    for s in [(128, 10), (4096, 1000)]:
        out.append((f"W3 nll(log_softmax) fwd+bwd {s}", lambda d, s=s: w3(s, d, "nll")))
        out.append((f"W3 cross_entropy fwd+bwd {s}", lambda d, s=s: w3(s, d, "ce")))
    out.append(("W4 MLP train step, batch 128", w4))
    out.append(("W5 100 chained adds fwd+bwd", w5))
    return out


def peak_memory_w2(shape: tuple[int, int] = (4096, 32000)) -> float:
    """Peak traced host memory of W2 (our forward + backward), as a multiple of the input's size."""
    x, _ = pair(shape, "cpu", requires_grad=True)
    g, _ = pair(shape, "cpu", seed=1)
    gc.collect()
    tracemalloc.start()
    tracemalloc.reset_peak()
    mt.nn.functional.log_softmax(x, dim=1).backward(g)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    x.grad = None
    return peak / (x.numel() * 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--quick", action="store_true", help="skip the (4096, 32000) cases; fewer repeats")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--memory", action="store_true", help="also report W2's peak memory at (4096, 32000)")
    parser.add_argument("--only", default="", help="run only the cases whose name contains this text")
    parser.add_argument("--torch-threads", type=int, default=None, help="torch.set_num_threads(N) first")
    args = parser.parse_args()
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    if args.device == "cuda" and not mt.cuda.is_available():
        raise SystemExit("cuda requested but minitorch_lsm.cuda.is_available() is False")
    rounds, repeats = (3, 5) if args.quick else (5, 7)
    print(f"# {platform.platform()}, {platform.processor() or platform.machine()} ({os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.2f}), python {platform.python_version()}, numpy {np.__version__}, "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads), device {args.device}")
    if args.memory and args.device == "cpu":
        print(f"W2 peak memory at (4096, 32000): {peak_memory_w2():.2f}x the input's size", flush=True)
    rows = []
    for name, make in cases(args.quick):
        if args.only not in name:
            continue
        ours, theirs = make(args.device)
        a, b, ratio = compare(ours, theirs, args.device, rounds, repeats)
        rows.append((name, a, b, ratio))
        if not args.markdown:
            print(f"{name:42s} ours {a * 1e3:9.3f} ms   torch {b * 1e3:9.3f} ms   ratio {ratio:6.2f}x", flush=True)
    if args.markdown:
        print("| case | minitorch_lsm (ms) | torch (ms) | ours / torch |\n|---|---:|---:|---:|")
        for name, a, b, ratio in rows:
            print(f"| {name} | {a * 1e3:.3f} | {b * 1e3:.3f} | {ratio:.2f}x |")


if __name__ == "__main__":
    main()
