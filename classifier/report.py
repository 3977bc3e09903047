"""Accuracy figures and the trainer's report plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    matrix = np.zeros((10, 10), np.int64)
    np.add.at(matrix, (labels.astype(np.int64), predicted.astype(np.int64)), 1)
    return matrix


def accuracy_report(labels: np.ndarray, predicted: np.ndarray) -> dict[str, object]:
    """``{"accuracy", "per_class", "n"}``: the shape `digitbot evaluate --json` promises."""
    per_class = {}
    for digit in range(10):
        mask = labels == digit
        if mask.any():
            per_class[str(digit)] = round(float((predicted[mask] == digit).mean()), 4)
    return {
        "accuracy": round(float((predicted == labels).mean()), 4),
        "per_class": per_class,
        "n": int(labels.size),
    }


def plot_confusion(matrix: np.ndarray, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    # Log colour scale: the diagonal holds ~1000 per cell, the errors a handful.
    shown = np.log10(matrix + 1)
    image = ax.imshow(shown, cmap="Blues")
    for (row, col), value in np.ndenumerate(matrix):
        if value:
            colour = "white" if shown[row, col] > shown.max() / 2 else "black"
            ax.text(col, row, str(value), ha="center", va="center", fontsize=7, color=colour)
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    fig.colorbar(image, ax=ax, label="log10(count + 1)")
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=110)
    plt.close(fig)


def plot_curves(history: dict[str, list[float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = range(1, len(history.get("loss", [])) + 1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    for key, label in (("loss", "train"), ("val_loss", "validation")):
        if key in history:
            left.plot(epochs, history[key], marker="o", label=label)
    left.set_title("loss")
    left.set_xlabel("epoch")
    left.legend()
    for key, label in (("accuracy", "train"), ("val_accuracy", "validation")):
        if key in history:
            right.plot(epochs, history[key], marker="o", label=label)
    right.set_title("accuracy")
    right.set_xlabel("epoch")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, format="png", dpi=110)
    plt.close(fig)
