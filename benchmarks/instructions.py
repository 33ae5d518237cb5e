"""Instructions per call of the overhead-bound cases, counted by valgrind's callgrind.

On a shared, noisy machine the time of a 20-microsecond call varies by 30% from run to run; the number
of instructions it executes does not (the same count twice, to the instruction, with PYTHONHASHSEED
fixed). That makes this the tool for per-op overhead work: change the code, count again. It measures
minitorch_lsm only (torch's calls under valgrind are not comparable: it picks other kernels there).

Usage:  python benchmarks/instructions.py [--only TEXT] [--calls N]

Each case runs ``N`` times inside ``map()``, and callgrind counts only while ``map`` is running
(``--toggle-collect=map_next``), so the import and set-up are left out. The garbage collector is off
while counting. valgrind must be installed (``apt-get install valgrind``).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SETUP = """
import numpy as np, minitorch_lsm as mt
F = mt.nn.functional
r = np.random.default_rng(0)
x1 = mt.tensor(r.standard_normal((64, 10)).astype(np.float32))
x2 = mt.tensor(r.standard_normal((64, 10)).astype(np.float32), requires_grad=True)
g2 = mt.tensor(r.standard_normal((64, 10)).astype(np.float32))
x3 = mt.tensor(r.standard_normal((128, 10)).astype(np.float32), requires_grad=True)
t3 = mt.tensor(r.integers(0, 10, 128))
x5 = mt.tensor(np.ones(1, np.float32), requires_grad=True)

def w2():
    F.log_softmax(x2, dim=1).backward(g2); x2.grad = None

def w3_nll():
    F.nll_loss(F.log_softmax(x3, dim=1), t3).backward(); x3.grad = None

def w3_ce():
    F.cross_entropy(x3, t3).backward(); x3.grad = None

def w5():
    y = x5
    for _ in range(100):
        y = y + x5
    y.sum().backward(); x5.grad = None
"""

CASES = {  # name: (expression, calls)
    "x + x (requires grad)": ("x5 + x5", 300),
    "W1 log_softmax fwd (64, 10)": ("F.log_softmax(x1, dim=1)", 200),
    "W2 log_softmax fwd+bwd (64, 10)": ("w2()", 200),
    "W3 nll(log_softmax) fwd+bwd (128, 10)": ("w3_nll()", 200),
    "W3 cross_entropy fwd+bwd (128, 10)": ("w3_ce()", 200),
    "W5 100 chained adds fwd+bwd": ("w5()", 10),
}


def count(expression: str, calls: int) -> float:
    """Instructions per evaluation of ``expression`` (after SETUP and five uncounted warm-up calls)."""
    script = (f"{SETUP}\nimport gc\ngc.disable()\ncase = lambda _: ({expression})\n"
              f"for _ in range(5):\n    case(0)\nlist(map(case, range({calls})))\n")
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as file:
        file.write(script)
    try:
        run = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", "--collect-atstart=no",
                              "--toggle-collect=map_next", sys.executable, file.name],
                             capture_output=True, text=True, cwd=ROOT,
                             env={**os.environ, "PYTHONHASHSEED": "0",  # this checkout's minitorch_lsm
                                  "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])})
    finally:
        os.unlink(file.name)
    found = re.search(r"Collected : (\d+)", run.stderr)
    if run.returncode != 0 or not found:
        raise RuntimeError(f"callgrind failed on {expression!r}:\n{run.stderr[-2000:]}")
    return int(found.group(1)) / calls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="run only the cases whose name contains this text")
    parser.add_argument("--calls", type=int, default=None, help="calls per case (default: each case's own)")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed")
    for name, (expression, calls) in CASES.items():
        if args.only in name:
            print(f"{name:42s} {count(expression, args.calls or calls):>14,.0f} instructions per call", flush=True)


if __name__ == "__main__":
    main()
