"""``python -m minitorch_lsm train ...``: the command-line entry point (see ``train.py``)."""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    usage = "usage: python -m minitorch_lsm train [options]   (python -m minitorch_lsm train --help for options)"
    if argv[:1] in (["-h"], ["--help"]):
        print(usage)
        return 0
    if not argv or argv[0] != "train":
        print(usage, file=sys.stderr)
        return 2
    from .train import main as train_main
    return train_main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
