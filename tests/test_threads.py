"""CPU threads: get_num_threads/set_num_threads against torch, and run_in_parallel's contract (every task
runs once, at the same time, errors reach the caller, a forked child starts afresh)."""
from __future__ import annotations

import os
import threading
import time

import pytest
import torch

import minitorch_lsm as mt
from minitorch_lsm import _threads


@pytest.fixture
def restore_threads():
    before = mt.get_num_threads()
    yield
    mt.set_num_threads(before)


@pytest.mark.parametrize("value", [0, -1, 2.5, "2", True, None])
def test_set_num_threads_refuses_what_torch_refuses(value, restore_threads) -> None:
    with pytest.raises(RuntimeError) as theirs:
        torch.set_num_threads(value)
    with pytest.raises(RuntimeError) as ours:
        mt.set_num_threads(value)
    assert str(ours.value) == str(theirs.value)


def test_set_then_get(restore_threads) -> None:
    mt.set_num_threads(3)
    assert mt.get_num_threads() == 3
    assert isinstance(mt.get_num_threads(), int)


def test_the_default_is_one_per_available_cpu() -> None:
    assert _threads._cpus_available() >= 1
    if _threads._num_threads is None:
        assert mt.get_num_threads() == _threads._cpus_available()


def test_every_task_runs_once_and_at_the_same_time() -> None:
    """Three tasks meet at a barrier: they can only pass it if they run at the same time."""
    barrier, ran = threading.Barrier(3, timeout=10), []
    tasks = [lambda i=i: (barrier.wait(), ran.append(i)) for i in range(3)]
    _threads.run_in_parallel(tasks)
    assert sorted(ran) == [0, 1, 2]


def test_an_error_in_a_worker_reaches_the_caller_after_all_finish() -> None:
    finished = []

    def fails() -> None:
        raise ValueError("from a worker")

    with pytest.raises(ValueError, match="from a worker"):
        _threads.run_in_parallel([lambda: finished.append("first"), fails, lambda: finished.append("third")])
    assert sorted(finished) == ["first", "third"]
    _threads.run_in_parallel([lambda: finished.append("again"), lambda: finished.append("again")])  # workers still serve
    assert finished.count("again") == 2


def _assert_child_exits_cleanly(pid: int, hang: str) -> None:
    """Wait up to 10 s for a forked child; one that hangs is killed and fails the test."""
    for _ in range(200):
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.05)
    else:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        pytest.fail(f"the forked child hung {hang}")
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_starts_its_own_workers() -> None:
    _threads.run_in_parallel([lambda: None, lambda: None])  # the parent has a worker
    pid = os.fork()
    if pid == 0:  # the child: its parent's threads are gone; new ones must start, or this hangs
        try:
            _threads.run_in_parallel([lambda: None, lambda: None])
        finally:
            os._exit(0 if len(_threads._workers) == 1 else 1)
    _assert_child_exits_cleanly(pid, "waiting for its parent's worker threads")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_child_forked_while_another_thread_holds_the_start_lock_can_start_workers() -> None:
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with _threads._start_lock:
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    holding.wait(10)
    pid = os.fork()
    if pid == 0:  # the holder thread does not exist here; its lock must not stay held
        try:
            _threads.run_in_parallel([lambda: None, lambda: None])
        finally:
            os._exit(0)
    release.set()
    holder.join(10)
    _assert_child_exits_cleanly(pid, "on the start lock its parent's thread held")


def test_a_task_that_runs_tasks_in_parallel_does_not_deadlock() -> None:
    ran = []

    def nested(i: int) -> None:
        _threads.run_in_parallel([lambda: ran.append((i, 0)), lambda: ran.append((i, 1))])

    outer = threading.Thread(target=_threads.run_in_parallel, args=([lambda: nested(0), lambda: nested(1)],),
                             daemon=True)
    outer.start()
    outer.join(timeout=10)  # a deadlock fails the test instead of hanging the suite
    assert not outer.is_alive(), "run_in_parallel called from a worker deadlocked"
    assert sorted(ran) == [(0, 0), (0, 1), (1, 0), (1, 1)]
