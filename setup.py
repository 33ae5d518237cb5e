"""The one thing pyproject.toml cannot say: the optional C kernels (minitorch_lsm/csrc/).

They are built when a C compiler is present; without one the install goes on and ops/softmax.py uses its
NumPy kernels, which compute the same formulas."""
import sys

from setuptools import Extension, setup

SOURCES = ["minitorch_lsm/csrc/module.c", "minitorch_lsm/csrc/rows.c", "minitorch_lsm/csrc/nll.c",
           "minitorch_lsm/csrc/threads.c"]
flags = [] if sys.platform == "win32" else ["-O3", "-fno-trapping-math", "-fno-math-errno", "-fopenmp-simd",
                                            "-fvisibility=hidden"]
setup(ext_modules=[Extension("minitorch_lsm._ckernels", SOURCES, depends=["minitorch_lsm/csrc/kernels.h"],
                             extra_compile_args=flags, optional=True)])
