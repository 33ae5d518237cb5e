"""Re-execute the teaching notebooks in place, so their committed outputs are fresh.

    python notebooks/build.py              # every notebooks/*.ipynb
    python notebooks/build.py 03 05        # only those whose file name contains 03 or 05

Each notebook runs top to bottom in a fresh ``python3`` kernel with ``notebooks/`` as its working
directory, and is written back with its outputs. What changes from run to run without the content
changing is stripped, so that a rebuild gives a small diff: cell timing metadata, the kernel's
``language_info`` (Python version) and widget state. A cell that raises stops the build with an error
and leaves that notebook file as it was.
Needs the ``test`` extra (nbformat, nbclient, ipykernel) and the ``examples`` extra.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
CELL_TIMEOUT_S = 120


def strip_volatile(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Keep only metadata that does not change between runs."""
    nb.metadata = nbformat.from_dict({"kernelspec": KERNELSPEC, "language_info": {"name": "python"}})
    for cell in nb.cells:
        for key in ("execution", "collapsed", "scrolled", "ExecuteTime"):
            cell.metadata.pop(key, None)
    return nb


def execute(nb: nbformat.NotebookNode, cwd: Path) -> nbformat.NotebookNode:
    """Run every cell in a fresh python3 kernel whose working directory is ``cwd``.

    The kernel imports ``minitorch_lsm`` from this checkout (its root goes first on PYTHONPATH) and
    draws figures with ipykernel's inline backend.
    """
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env.pop("MPLBACKEND", None)  # a non-interactive backend (Agg) would leave the figures out of the outputs
    client = NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT_S, record_timing=False,
                            coalesce_streams=True, resources={"metadata": {"path": str(cwd)}})
    client.execute(env=env)
    return nb


def build(path: Path) -> float:
    """Execute ``path`` in place; return the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    execute(nb, cwd=path.parent)
    seconds = time.perf_counter() - started
    nbformat.validate(strip_volatile(nb))
    nbformat.write(nb, path)
    return seconds


def main(argv: list[str]) -> int:
    paths = sorted(HERE.glob("*.ipynb"))
    if argv:
        paths = [p for p in paths if any(word in p.name for word in argv)]
    if not paths:
        print("no notebook matches", " ".join(argv), file=sys.stderr)
        return 1
    total = 0.0
    for path in paths:
        seconds = build(path)
        total += seconds
        print(f"{path.name:40} {seconds:6.1f} s")
    print(f"{'total':40} {total:6.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
