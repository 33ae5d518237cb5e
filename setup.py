"""The one thing pyproject.toml cannot say: the optional C kernels (minitorch_lsm/_ckernels.c).

They are built when a C compiler is present; without one the install goes on and ops/softmax.py uses its
NumPy kernels, which compute the same formulas."""
import sys

from setuptools import Extension, setup

flags = [] if sys.platform == "win32" else ["-O3", "-fno-trapping-math", "-fno-math-errno", "-fopenmp-simd"]
setup(ext_modules=[Extension("minitorch_lsm._ckernels", ["minitorch_lsm/_ckernels.c"],
                             extra_compile_args=flags, optional=True)])
