"""Quick mode of the differential fuzzer (``tests/fuzz.py``): a few hundred seeded cases against torch.

Each seed is its own test. A seed fails when minitorch_lsm disagrees with torch in a way that is not
listed in ``fuzz.KNOWN_ISSUES`` (known issues are reported by the long mode:
``python tests/fuzz.py --cases 20000``). The failure message carries the mismatches and the command
that reproduces the case.
"""
from __future__ import annotations

import pytest

import fuzz

QUICK_SEEDS = range(0, 400)


@pytest.mark.parametrize("seed", QUICK_SEEDS)
def test_fuzz_seed(seed: int) -> None:
    result = fuzz.check_seed(seed)
    new = result.new
    if new:
        lines = [f"seed {seed} [{result.op}]: minitorch_lsm disagrees with torch",
                 f"  case:  {result.description}",
                 f"  repro: {fuzz.repro_command(seed)}"]
        lines += [f"  [{m.kind}] {m.detail}" for m in new]
        pytest.fail("\n".join(lines), pytrace=False)


def test_generation_is_deterministic() -> None:
    """The same seed always makes the same case (the repro command depends on it)."""
    for seed in (0, 1, 12345):
        a, b = fuzz.generate(seed), fuzz.generate(seed)
        assert a.code == b.code and a.op == b.op
        assert [(leaf.name, leaf.dtype, leaf.array.tobytes()) for leaf in a.leaves] == \
               [(leaf.name, leaf.dtype, leaf.array.tobytes()) for leaf in b.leaves]


def test_known_issues_have_reasons() -> None:
    for issue_id, (reason, matcher) in fuzz.KNOWN_ISSUES.items():
        assert reason.strip(), issue_id
        assert set(matcher) <= {"op", "kind", "detail", "case"} and matcher, issue_id
