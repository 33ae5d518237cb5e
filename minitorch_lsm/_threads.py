"""CPU threads: ``get_num_threads``/``set_num_threads`` and ``run_in_parallel``, which spreads independent
pieces of NumPy work over that many threads.

NumPy releases the GIL inside its loops, so plain Python threads run ufuncs on separate cores. Handing a
piece of work to a sleeping thread costs 50-250 microseconds here, so callers use this only for arrays
large enough to take about a millisecond (the row-wise softmax kernels on two or more 2 MiB blocks,
docs/performance.md). The threads start on the first call that needs them, never at import.

>>> import minitorch_lsm as torch
>>> torch.get_num_threads() >= 1
True
"""
from __future__ import annotations

import contextvars
import functools
import os
import queue
import threading
from typing import Callable, Sequence

_num_threads: int | None = None  # None: one per CPU this process may run on
_workers: list[queue.SimpleQueue] = []  # one inbox per started worker thread
_start_lock = threading.Lock()
_fork_hook_registered = False


@functools.lru_cache(maxsize=None)
def _cpus_available() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def get_num_threads() -> int:
    """The number of threads used for CPU work that is split into pieces (one per available CPU unless
    ``set_num_threads`` said otherwise).

    Examples:
        >>> import minitorch_lsm as torch
        >>> before = torch.get_num_threads()
        >>> torch.set_num_threads(1)
        >>> torch.get_num_threads()
        1
        >>> torch.set_num_threads(before)
    """
    return _num_threads if _num_threads is not None else _cpus_available()


def set_num_threads(n: int) -> None:
    """Use ``n`` threads for CPU work that is split into pieces; ``n`` must be a positive int.

    Here that work is the row-wise softmax kernels on large arrays; matrix products run in NumPy's BLAS,
    which keeps its own thread count (PyTorch's setting covers both).

    Examples:
        >>> import minitorch_lsm as torch
        >>> torch.set_num_threads(0)
        Traceback (most recent call last):
        ...
        RuntimeError: set_num_threads expects a positive integer
    """
    global _num_threads
    if type(n) is not int:
        raise RuntimeError(f"set_num_threads expects an int, but got {type(n).__name__}")
    if n <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    _num_threads = n


_in_worker = threading.local()  # .active: this thread is one of the workers


def _worker(inbox: queue.SimpleQueue) -> None:
    _in_worker.active = True
    while True:
        task, done = inbox.get()
        try:
            task()
            error = None
        except BaseException as raised:  # handed to the caller, which raises it
            error = raised
        task = None  # hold nothing of the caller's while waiting (the engine counts who holds a gradient)
        done.put(error)


def _forget_workers_after_fork() -> None:
    global _start_lock
    _workers.clear()  # a forked child has none of its parent's threads,
    _start_lock = threading.Lock()  # and a lock one of them held would stay held


def _start_workers(count: int) -> None:
    global _fork_hook_registered
    with _start_lock:
        if not _fork_hook_registered:
            os.register_at_fork(after_in_child=_forget_workers_after_fork)
            _fork_hook_registered = True
        while len(_workers) < count:
            inbox: queue.SimpleQueue = queue.SimpleQueue()
            threading.Thread(target=_worker, args=(inbox,), daemon=True, name="minitorch_lsm-cpu").start()
            _workers.append(inbox)


def run_in_parallel(tasks: Sequence[Callable[[], None]]) -> None:
    """Run each task once, the first in the calling thread and the others in worker threads at the same
    time; return when all have finished, raising the first error any of them raised. Each worker runs its
    task in a copy of the caller's context, so NumPy's ``errstate`` there (kept in a context variable)
    holds in the workers too. Called from a worker, it runs the tasks one after another (a worker waiting
    for its own inbox would wait for ever)."""
    if len(tasks) <= 1 or getattr(_in_worker, "active", False):
        for task in tasks:
            task()
        return
    _start_workers(len(tasks) - 1)
    done: queue.SimpleQueue = queue.SimpleQueue()
    for inbox, task in zip(_workers, tasks[1:]):
        inbox.put((functools.partial(contextvars.copy_context().run, task), done))
    errors = []
    try:
        tasks[0]()
    except BaseException as error:
        errors.append(error)
    errors += [e for e in (done.get() for _ in tasks[1:]) if e is not None]
    if errors:
        raise errors[0]
