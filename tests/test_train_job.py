"""The main job end to end: ``python -m minitorch_lsm train`` on scikit-learn's digits."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minitorch_lsm as mt
from minitorch_lsm import train

CUDA = mt.cuda.is_available()
ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "minitorch_lsm", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


def metrics_of(out: Path) -> dict[str, Any]:
    return json.loads((out / "metrics.json").read_text())


def check_outputs(out: Path, hidden: int = 128, loss: str = "nll", plot: bool = True) -> dict[str, Any]:
    metrics = metrics_of(out)
    assert set(metrics) >= {"args", "seconds", "test_accuracy", "history"}
    epochs = int(metrics["args"]["epochs"])
    assert {k: len(v) for k, v in metrics["history"].items()} == {"loss": epochs, "train_accuracy": epochs,
                                                                    "test_accuracy": epochs}
    assert 0.0 <= metrics["test_accuracy"] <= 1.0 and metrics["test_accuracy"] == metrics["history"]["test_accuracy"][-1]
    model = train.build_model(hidden, loss)
    result = model.load_state_dict(mt.load(out / "model.ckpt"))  # strict: the architecture matches
    assert result.missing_keys == [] and result.unexpected_keys == []
    if plot:
        assert (out / "curves.png").read_bytes()[:8] == PNG_MAGIC
    else:
        assert not (out / "curves.png").exists()
    return metrics


def test_cli_two_epochs(tmp_path: Path) -> None:
    out = tmp_path / "run"
    done = run_cli("train", "--epochs", "2", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "test accuracy:" in done.stdout
    reported = float(done.stdout.split("test accuracy:")[1].split()[0])
    metrics = check_outputs(out)
    assert abs(reported - metrics["test_accuracy"]) < 1e-4
    assert metrics["test_accuracy"] > 0.5  # two epochs of Adam already do much better than chance


def test_in_process_run_is_reproducible(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = []
    for name in ("a", "b"):
        assert train.main(["--epochs", "2", "--seed", "3", "--out", str(tmp_path / name), "--no-plot"]) == 0
        assert "test accuracy:" in capsys.readouterr().out
        runs.append(check_outputs(tmp_path / name, plot=False))
    assert runs[0]["history"] == runs[1]["history"] and runs[0]["test_accuracy"] == runs[1]["test_accuracy"]
    first, second = (mt.load(tmp_path / name / "model.ckpt") for name in ("a", "b"))
    assert all(np.array_equal(first[k].numpy(), second[k].numpy()) for k in first)
    assert train.main(["--epochs", "2", "--seed", "4", "--out", str(tmp_path / "c"), "--no-plot"]) == 0
    assert metrics_of(tmp_path / "c")["history"] != runs[0]["history"]


@pytest.mark.parametrize("options,hidden,loss", [
    (["--optimizer", "sgd", "--lr", "0.1", "--loss", "cross_entropy", "--hidden", "32"], 32, "cross_entropy"),
    (["--optimizer", "adamw", "--batch-size", "64", "--hidden", "16"], 16, "nll"),
])
def test_other_configurations(tmp_path: Path, options: list[str], hidden: int, loss: str,
                              capsys: pytest.CaptureFixture[str]) -> None:
    assert train.main(["--epochs", "1", "--out", str(tmp_path), "--no-plot", *options]) == 0
    metrics = check_outputs(tmp_path, hidden=hidden, loss=loss, plot=False)
    assert metrics["test_accuracy"] > 0.3


BAD_ARGS = {
    "epochs-0": (["--epochs", "0"], "--epochs"),
    "lr-negative": (["--lr", "-1"], "--lr"),
    "lr-inf": (["--lr", "inf"], "--lr"),
    "lr-nan": (["--lr", "nan"], "--lr"),
    "optimizer": (["--optimizer", "foo"], "--optimizer"),
    "loss": (["--loss", "mse"], "--loss"),
    "batch-size": (["--batch-size", "0"], "--batch-size"),
    "hidden": (["--hidden", "-3"], "--hidden"),
    "epochs-text": (["--epochs", "two"], "--epochs"),
    "device-name": (["--device", "tpu"], "--device"),
    "unknown-flag": (["--fast"], "unrecognized"),
}


@pytest.mark.parametrize("case", list(BAD_ARGS))
def test_bad_arguments_are_usage_errors(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args, mentioned = BAD_ARGS[case]
    with pytest.raises(SystemExit) as exited:
        train.main([*args, "--out", str(tmp_path / "never")])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: python -m minitorch_lsm train") and "error:" in err and mentioned in err
    assert not (tmp_path / "never").exists()


def test_out_must_not_be_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SystemExit) as exited:
        train.main(["--epochs", "1", "--out", str(blocker)])
    assert exited.value.code == 2 and "--out" in capsys.readouterr().err


@pytest.mark.skipif(CUDA, reason="a GPU is present: --device cuda is valid here")
def test_cuda_without_a_gpu_is_a_usage_error(tmp_path: Path) -> None:
    done = run_cli("train", "--device", "cuda", "--out", str(tmp_path / "x"))
    assert done.returncode == 2
    assert done.stderr.startswith("usage:") and "error: --device cuda" in done.stderr and "CUDA" in done.stderr


def test_cli_usage_errors_exit_2(tmp_path: Path) -> None:
    done = run_cli("train", "--epochs", "0", "--lr", "-1", "--out", str(tmp_path / "x"))
    assert done.returncode == 2 and "usage:" in done.stderr and "error:" in done.stderr and done.stdout == ""
    bare = run_cli()
    assert bare.returncode == 2 and bare.stderr.startswith("usage: python -m minitorch_lsm train")
    other = run_cli("evaluate")
    assert other.returncode == 2 and "usage:" in other.stderr
    helped = run_cli("train", "--help")
    assert helped.returncode == 0 and "--optimizer" in helped.stdout


@pytest.mark.skipif(not CUDA, reason="minitorch_lsm.cuda is not available")
def test_cuda_run(tmp_path: Path) -> None:  # pragma: no cover - needs a GPU
    assert train.main(["--epochs", "1", "--device", "cuda", "--out", str(tmp_path), "--no-plot"]) == 0
    checkpoint = mt.load(tmp_path / "model.ckpt", map_location="cpu")
    assert all(t.device == mt.device("cpu") for t in checkpoint.values())
    check_outputs(tmp_path, plot=False)


def test_default_configuration_reaches_97_percent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.perf_counter()
    assert train.main(["--out", str(tmp_path), "--no-plot"]) == 0
    elapsed = time.perf_counter() - started
    metrics = check_outputs(tmp_path, plot=False)
    assert metrics["args"]["epochs"] == "30" and metrics["args"]["optimizer"] == "adam"
    assert metrics["test_accuracy"] >= 0.97
    assert metrics["history"]["loss"][-1] < metrics["history"]["loss"][0]
    assert elapsed < 180  # about 6 s here; only a generous bound, not a benchmark
    assert "test accuracy: " in capsys.readouterr().out
