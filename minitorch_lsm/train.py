"""The main job: train an MLP on scikit-learn's handwritten digits and report test accuracy.

``python -m minitorch_lsm train [--epochs N --batch-size B --lr LR --optimizer adam|adamw|sgd --hidden H
--loss nll|cross_entropy --device cpu|cuda --seed S --out DIR]``

The digits (1,797 8x8 images) ship inside scikit-learn, so nothing is downloaded. The run shows a
progress bar with the running loss, prints the test accuracy, and writes to ``--out`` a checkpoint
(``model.ckpt``), ``metrics.json`` and ``curves.png``. The same seed gives the same numbers.
scikit-learn, matplotlib and tqdm come with the ``examples`` extra.
"""
from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any, Sequence

import minitorch_lsm as torch
from minitorch_lsm import nn

OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m minitorch_lsm train",
                                     description="Train an MLP classifier on scikit-learn's digits.")
    parser.add_argument("--epochs", type=int, default=30, help="passes over the training set (default 30)")
    parser.add_argument("--batch-size", type=int, default=32, help="examples per step (default 32)")
    parser.add_argument("--lr", type=float, default=2e-3, help="learning rate (default 2e-3)")
    parser.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam")
    parser.add_argument("--hidden", type=int, default=128, help="hidden units (default 128)")
    parser.add_argument("--loss", choices=["nll", "cross_entropy"], default="nll",
                        help="nll: LogSoftmax + NLLLoss (default); cross_entropy: CrossEntropyLoss on logits")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/digits", help="folder for model.ckpt, metrics.json, curves.png")
    parser.add_argument("--no-plot", action="store_true", help="skip curves.png")
    return parser


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    for name in ("epochs", "batch_size", "hidden"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if not (args.lr > 0 and math.isfinite(args.lr)):
        parser.error(f"--lr must be a positive number, got {args.lr}")
    try:
        args.device = torch.device(args.device)
        torch.zeros(1, device=args.device)
    except RuntimeError as error:
        parser.error(f"--device {args.device}: {error}")
    try:  # make the folder now, so a bad --out fails before training, not after
        Path(args.out).mkdir(parents=True, exist_ok=True)
    except OSError as error:
        parser.error(f"--out {args.out}: cannot create the folder ({error.strerror or error})")
    return args


def load_digits(seed: int, device: Any) -> tuple[torch.Tensor, ...]:
    """Pixels scaled to [0, 1] and labels, split 80/20 by a seeded shuffle."""
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        raise SystemExit("The digits job needs scikit-learn: pip install 'minitorch_lsm[examples]'") from None
    digits = sklearn_digits()
    images = torch.tensor(digits.data / 16.0, dtype=torch.float32, device=device)
    labels = torch.tensor(digits.target, device=device)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed)).to(device)
    cut = int(0.8 * len(labels))
    train, test = order[:cut], order[cut:]
    return images[train], labels[train], images[test], labels[test]


def build_model(hidden: int, loss: str) -> nn.Module:
    layers: list[nn.Module] = [nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10)]
    if loss == "nll":
        layers.append(nn.LogSoftmax(dim=1))
    return nn.Sequential(*layers)


@torch.no_grad()
def accuracy(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    model.eval()
    predictions = model(images).argmax(dim=1)
    model.train()
    return (predictions == labels).float().mean().item()


def train(args: argparse.Namespace) -> dict[str, Any]:
    """Run the training loop; return the metrics that go to metrics.json."""
    from tqdm import tqdm

    torch.manual_seed(args.seed)
    x_train, y_train, x_test, y_test = load_digits(args.seed, args.device)
    model = build_model(args.hidden, args.loss).to(args.device)
    criterion = nn.NLLLoss() if args.loss == "nll" else nn.CrossEntropyLoss()
    optimizer = OPTIMIZERS[args.optimizer](model.parameters(), lr=args.lr)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x_train, y_train),
                                         batch_size=args.batch_size, shuffle=True)
    history: dict[str, list[float]] = {"loss": [], "train_accuracy": [], "test_accuracy": []}
    started = time.perf_counter()
    bar = tqdm(total=args.epochs * len(loader), desc="training", unit="step")
    for epoch in range(1, args.epochs + 1):
        total, count = 0.0, 0
        for images, labels in loader:
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(labels)
            count += len(labels)
            bar.update()  # the running loss: the mean over this epoch's batches so far
            bar.set_postfix(epoch=epoch, loss=f"{total / count:.4f}", refresh=False)
        history["loss"].append(total / count)
        history["train_accuracy"].append(accuracy(model, x_train, y_train))
        history["test_accuracy"].append(accuracy(model, x_test, y_test))
        bar.set_postfix(epoch=epoch, loss=f"{total / count:.4f}", test_acc=f"{history['test_accuracy'][-1]:.3f}")
    bar.close()
    return {"args": {k: str(v) for k, v in vars(args).items()}, "seconds": time.perf_counter() - started,
            "test_accuracy": history["test_accuracy"][-1], "history": history, "model": model}


def plot(history: dict[str, list[float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = range(1, len(history["loss"]) + 1)
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(epochs, history["loss"])
    left.set(title="training loss", xlabel="epoch", ylabel="loss")
    right.plot(epochs, history["train_accuracy"], label="train")
    right.plot(epochs, history["test_accuracy"], label="test")
    right.set(title="accuracy", xlabel="epoch", ylabel="accuracy", ylim=(0, 1.01))
    right.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    result = train(args)
    out = Path(args.out)
    torch.save(result.pop("model").state_dict(), out / "model.ckpt")
    (out / "metrics.json").write_text(json.dumps(result, indent=2))
    if not args.no_plot:
        plot(result["history"], out / "curves.png")
    print(f"test accuracy: {result['test_accuracy']:.4f} after {args.epochs} epochs "
          f"({result['seconds']:.1f} s); wrote {out}/model.ckpt, metrics.json" + ("" if args.no_plot else ", curves.png"))
    return 0
