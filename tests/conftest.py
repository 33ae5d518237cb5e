"""Shared pytest setup: a modest hypothesis profile and a guard that restores global state.

Every test leaves the default dtype and grad mode as it found them, even when it fails half-way.
"""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, settings

import minitorch_lsm as mt
from helpers import skip_without_c_kernels

# A few dozen examples per property keep the whole suite to seconds on 2 cores;
# `pytest --hypothesis-profile=thorough` searches harder. Runs here draw new examples each time, so they
# go on finding parity gaps; CI (CI=true) draws the same ones every run, so that a gap nobody has seen yet
# cannot fail a submission at random (it fails the next local run instead, where it can be fixed).
# (Hypothesis's own "ci" profile, loaded when it sees a CI variable, does the same; this says it here.)
settings.register_profile("minitorch", max_examples=25, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", parent=settings.get_profile("minitorch"), derandomize=True, database=None)
settings.register_profile("thorough", max_examples=500, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") == "true" else "minitorch")


@pytest.fixture(autouse=True)
def _restore_global_state():
    """Put back the default dtype and grad mode of both libraries after each test."""
    mt_dtype, torch_dtype = mt.get_default_dtype(), torch.get_default_dtype()
    mt_grad, torch_grad = mt.is_grad_enabled(), torch.is_grad_enabled()
    yield
    mt.set_default_dtype(mt_dtype)
    torch.set_default_dtype(torch_dtype)
    mt.set_grad_enabled(mt_grad)
    torch.set_grad_enabled(torch_grad)


@pytest.fixture
def rng() -> np.random.Generator:
    """A NumPy generator with a fixed seed: both libraries get the same input values."""
    return np.random.default_rng(0)


@pytest.fixture(scope="module")
def one_torch_thread():
    """Run torch on one thread for a module of tiny-tensor tests (``pytestmark = usefixtures(...)``): it is
    fastest there and avoids OpenMP spin-waiting on a busy 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module", params=["c", "numpy"])
def c_and_numpy_kernels(request):
    """Run a module's tests twice: with the C kernels (minitorch_lsm/csrc/) and with the NumPy code paths
    they stand in for (``pytestmark = usefixtures("c_and_numpy_kernels")``). Only an install without a C
    compiler skips the first, and never in CI."""
    module = sys.modules["minitorch_lsm.ops._c"]
    if request.param == "c":
        skip_without_c_kernels()
    before = module.enabled
    module.enabled = request.param == "c"
    yield request.param
    module.enabled = before
